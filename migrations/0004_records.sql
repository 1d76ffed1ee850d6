-- Records: the rows of each dataset, and the per-dataset pseudonym secrets.
-- Same file on PostgreSQL 15 and PGlite: keep to PostgreSQL 15 SQL.

create table records (
  -- Keyset cursor for pagination and streamed exports (ascending = ingest order).
  seq bigint generated always as identity primary key,
  dataset_id text not null references datasets (id),
  -- The office the record belongs to (row scope); the dataset's owner unit unless the record names one within it.
  unit text not null check (unit ~ '^(RI|[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?)$'),
  -- The record's values, validated against the dataset's fields and normalised on ingest.
  data jsonb not null check (jsonb_typeof(data) = 'object'),
  ingested_at timestamptz not null default now()
);
create index records_dataset_seq_idx on records (dataset_id, seq);
-- Row scope ("unit within the caller's subtree") is a prefix match.
create index records_unit_idx on records (unit text_pattern_ops);

-- Used only when PSEUDONYM_KEY is not configured: a random secret per dataset, created on first
-- use, so pseudonyms are stable across reads and differ across datasets. Never served.
create table record_pseudonym_secrets (
  dataset_id text primary key references datasets (id),
  secret bytea not null check (length(secret) = 32),
  created_at timestamptz not null default now()
);
create trigger record_pseudonym_secrets_append_only
  before update or delete on record_pseudonym_secrets
  for each row execute function jaga_refuse_change();
