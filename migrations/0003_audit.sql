-- Audit trail: one append-only, hash-chained table of decision entries (see docs/audit.md).
-- Ids and field names only: there is no column for a record's values.

create table audit_entry (
  seq bigint not null,                 -- the single global chain order, assigned at flush
  id uuid not null,                    -- assigned when the entry is queued; returned as decisionId
  at timestamptz not null,             -- when the entry joined the chain (monotonic with seq; partition key)
  decided_at timestamptz not null,     -- when the decision was made
  event text not null check (event in ('decision', 'disclosure', 'label_change', 'catalog_change', 'audit_read')),
  principal_sub text,
  principal_kind text not null,
  principal_roles text[] not null,
  principal_unit text,
  action text not null,
  resource_type text not null,
  resource_id text,
  dataset_id text,
  resource_unit text,
  classification text,
  label_version integer,
  effect text not null check (effect in ('allow', 'deny')),
  rule_id text,
  reason text not null,
  policy_version text,
  fields_whole text[] not null,
  fields_masked text[] not null,
  fields_omitted text[] not null,
  purpose text,
  row_count bigint,
  request_id text,
  trace_id text,
  details jsonb not null,
  prev_hash text not null,
  hash text not null,
  primary key (seq, at)
) partition by range (at);

-- Catches anything outside the monthly partitions created ahead, so no entry is ever refused for lack of one.
create table audit_entry_default partition of audit_entry default;

create index audit_entry_at on audit_entry (at);
create index audit_entry_id on audit_entry (id);
create index audit_entry_principal on audit_entry (principal_sub, seq);
create index audit_entry_dataset on audit_entry (dataset_id, seq);
create index audit_entry_request on audit_entry (request_id);

create trigger audit_entry_append_only before update or delete on audit_entry
  for each row execute function jaga_refuse_change();
create trigger audit_entry_no_truncate before truncate on audit_entry
  for each statement execute function jaga_refuse_change();

-- The chain head: the last entry's seq and hash. Read and moved under the chain's advisory lock.
create table audit_head (
  singleton boolean primary key default true check (singleton),
  seq bigint not null,
  hash text not null,
  at timestamptz not null
);
insert into audit_head (seq, hash, at) values (0, repeat('0', 64), 'epoch');

-- Checkpoints handed out for safekeeping elsewhere (truncation evidence).
create table audit_checkpoint (
  seq bigint not null,
  hash text not null,
  at timestamptz not null,
  created_at timestamptz not null default now(),
  signature text
);
create trigger audit_checkpoint_append_only before update or delete on audit_checkpoint
  for each row execute function jaga_refuse_change();

-- Partitions dropped by retention: the last entry each held, so the chain still verifies from the oldest one kept.
create table audit_retention (
  partition_name text not null,
  last_seq bigint not null,
  last_hash text not null,
  dropped_at timestamptz not null default now()
);
create trigger audit_retention_append_only before update or delete on audit_retention
  for each row execute function jaga_refuse_change();
