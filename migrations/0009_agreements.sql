-- Data-sharing agreements (perjanjian kerja sama, PKS): what a partner agency's systems may read,
-- for which purposes, under which legal basis and for how long (src/agreements, docs/agreements.md).
-- `status` holds the decided state only (draft, approved, suspended, revoked): whether an approved
-- agreement is `active` or `expired` is computed from valid_from/valid_to when a decision is made,
-- so an agreement lapses the day after valid_to without any job.
create table agreements (
  id text primary key,
  title text not null,
  reference text not null,
  reference_date date,
  provider_units text[] not null,
  recipient_agency text not null,
  recipient_principals text[] not null check (cardinality(recipient_principals) > 0),
  legal_basis text not null,
  purposes text[] not null check (cardinality(purposes) > 0),
  -- [{ "id": dataset id, "fields": { "<field>": "whole" | "masked" } }]
  datasets jsonb not null,
  valid_from date not null,
  valid_to date not null,
  rows_per_day integer check (rows_per_day > 0),
  publish boolean not null default false,
  status text not null check (status in ('draft', 'approved', 'suspended', 'revoked')),
  drafted_by text not null,
  approved_by text,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (valid_to >= valid_from),
  check (approved_by is null or approved_by <> drafted_by)
);
create index agreements_principals on agreements using gin (recipient_principals);

-- Every change of an agreement, oldest first; never updated or deleted.
create table agreement_history (
  seq bigserial primary key,
  agreement_id text not null references agreements (id),
  at timestamptz not null default now(),
  event text not null check (event in ('drafted', 'updated', 'approved', 'suspended', 'revoked', 'published', 'unpublished')),
  actor text,
  status text not null,
  note text,
  agreement jsonb not null
);
create index agreement_history_agreement on agreement_history (agreement_id, seq);
create trigger agreement_history_append_only before update or delete on agreement_history
  for each row execute function jaga_refuse_change();
create trigger agreement_history_no_truncate before truncate on agreement_history
  for each statement execute function jaga_refuse_change();

-- Rows disclosed per agreement per day (Asia/Jakarta days): the row limit's counter. A read locks
-- its row for the rest of its transaction, so concurrent reads count one after another.
create table agreement_usage (
  agreement_id text not null references agreements (id),
  day date not null,
  rows bigint not null default 0 check (rows >= 0),
  primary key (agreement_id, day)
);

-- Decisions hold agreements in memory beside the catalog snapshot: a change of an agreement moves
-- the catalog version (and notifies other instances) like a change of a label does.
create constraint trigger agreements_changed after insert or update or delete on agreements
  deferrable initially deferred for each row execute function catalog_changed();
create trigger agreements_truncated after truncate on agreements
  for each statement execute function catalog_changed();
