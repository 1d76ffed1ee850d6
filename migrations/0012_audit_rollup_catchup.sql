-- The reports' rollups and the minute map, kept by a catch-up job (src/audit/audit.rollup.ts)
-- instead of the writer's statement: the writer only inserts entries. The job folds the entries
-- after a high-water mark into the rollups and moves the mark in the same transaction; reports
-- read the rollups up to the mark and aggregate the entries after it from the log, in one
-- statement (one snapshot), so they stay exact and current. Same file on PostgreSQL and PGlite.

-- Everything up to the mark is in audit_rollup, audit_rollup_month and audit_minute.
create table audit_rollup_mark (
  singleton boolean primary key default true check (singleton),
  seq bigint not null
);
-- Until now the writer's statement kept the rollups with each batch: all is rolled up to the head.
insert into audit_rollup_mark (seq) select seq from audit_head;

-- The monthly level (UTC months), keyed like the daily one: a report over whole months reads it,
-- and the daily rows only for the partial months at its edges.
create table audit_rollup_month (
  month date not null,
  key uuid not null,
  kind text not null check (kind in ('disclosure', 'denied')),
  principal_sub text,
  principal_kind text not null,
  principal_unit text,
  resource_unit text,
  dataset_id text,
  purpose text,
  action text not null,
  personal_whole text[] not null,
  personal_masked text[] not null,
  entries bigint not null,
  rows bigint not null,
  first_at timestamptz not null,
  last_at timestamptz not null,
  primary key (month, key)
);

insert into audit_rollup_month
  select date_trunc('month', day)::date, key, kind, principal_sub, principal_kind, principal_unit, resource_unit,
         dataset_id, purpose, action, personal_whole, personal_masked,
         sum(entries), sum(rows), min(first_at), max(last_at)
  from audit_rollup
  group by date_trunc('month', day)::date, key, kind, principal_sub, principal_kind, principal_unit, resource_unit,
           dataset_id, purpose, action, personal_whole, personal_masked;

-- The denied-attempts report per principal and month, with the distinct datasets and actions: the
-- unscoped report over whole months reads it (a row per principal and month, whatever the number of
-- attempts). Scoped reports (a unit, a dataset, a PPID's units) read the monthly level above.
create table audit_denied_month (
  month date not null,
  key uuid not null, -- md5 of (principal_sub, principal_kind, principal_unit)
  principal_sub text,
  principal_kind text not null,
  principal_unit text,
  attempts bigint not null,
  datasets text[] not null, -- distinct, sorted
  actions text[] not null, -- distinct, sorted
  first_at timestamptz not null,
  last_at timestamptz not null,
  primary key (month, key)
);

insert into audit_denied_month
  select date_trunc('month', day)::date, md5(row(principal_sub, principal_kind, principal_unit)::text)::uuid,
         principal_sub, principal_kind, principal_unit, sum(entries),
         coalesce(array_agg(distinct dataset_id order by dataset_id) filter (where dataset_id is not null), '{}'),
         array_agg(distinct action order by action), min(first_at), max(last_at)
  from audit_rollup
  where kind = 'denied'
  group by 1, 2, 3, 4, 5;

-- Concatenates arrays across rows (the denied report unions each principal's monthly datasets).
create aggregate jaga_array_cat(anycompatiblearray) (sfunc = array_cat, stype = anycompatiblearray, initcond = '{}');
