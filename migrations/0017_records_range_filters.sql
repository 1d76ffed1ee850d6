-- Range-filterable fields (docs/records.md, "Indexed filters"): a steward declares a typed field
-- `filter: "range"`, and Jaga builds an expression index on the records of that dataset, partial on
-- the dataset, over the very expression the range filter compares (src/records/range-filter.ts).
-- The indexes are built outside any transaction (CREATE INDEX CONCURRENTLY on PostgreSQL), so they
-- are not created here: record_range_indexes tracks each build. Same file on PostgreSQL 15 and PGlite.

alter table fields add column filter text not null default 'equality' check (filter in ('equality', 'range'));
-- Only typed fields have an order a range can follow.
alter table fields add constraint fields_range_typed
  check (filter = 'equality' or type in ('integer', 'number', 'date', 'datetime'));

-- One row per index Jaga has started to build; the declaration is `fields.filter`. A row whose
-- declaration is gone is dropped with its index by the builder (src/records/range-index.builder.ts).
create table record_range_indexes (
  dataset_id text not null,
  field text not null,
  index_name text not null unique,
  status text not null check (status in ('building', 'ready', 'failed')),
  -- Why the last build failed (the database's message: a value that does not cast, a cancelled build).
  error text,
  attempts integer not null default 0 check (attempts >= 0),
  updated_at timestamptz not null default now(),
  primary key (dataset_id, field)
);
