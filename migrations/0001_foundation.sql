-- Foundation: nothing but what every later migration may rely on.
-- The same files run on PostgreSQL 15+ and on the embedded PGlite: keep to PostgreSQL 15 SQL.

-- Refuses UPDATE and DELETE on append-only tables (label history, audit log).
create or replace function jaga_refuse_change() returns trigger
language plpgsql as $$
begin
  raise exception 'table % is append-only: % refused', tg_table_name, tg_op
    using errcode = 'insufficient_privilege';
end;
$$;
