-- The catalog's global version: one row, bumped once by every transaction that changes a unit, a
-- dataset or a field (labels included), with a notification on channel `jaga_catalog` sent when
-- that transaction commits. Instances hold the catalog in memory (src/catalog/catalog.snapshot.ts):
-- the notification tells them at once; reading this row periodically catches a notification lost
-- with a cut LISTEN connection. The row is read in the same snapshot as the catalog it versions.
create table catalog_version (
  only_row boolean primary key default true check (only_row),
  version bigint not null default 0,
  -- The transaction that last bumped it: a transaction bumps it once, however many rows it changes.
  bumped_by xid8
);
insert into catalog_version (only_row, version) values (true, 0);

-- Deferred to commit: the row lock on catalog_version is the last lock a changing transaction
-- takes, so two catalog changes never wait on each other in opposite orders (no deadlock).
create function catalog_changed() returns trigger language plpgsql as $$
declare
  bumped bigint;
begin
  update catalog_version set version = version + 1, bumped_by = pg_current_xact_id()
    where bumped_by is distinct from pg_current_xact_id()
    returning version into bumped;
  if bumped is not null then
    perform pg_notify('jaga_catalog', bumped::text);
  end if;
  return null;
end;
$$;

create constraint trigger units_changed after insert or update or delete on units
  deferrable initially deferred for each row execute function catalog_changed();
create constraint trigger datasets_changed after insert or update or delete on datasets
  deferrable initially deferred for each row execute function catalog_changed();
create constraint trigger fields_changed after insert or update or delete on fields
  deferrable initially deferred for each row execute function catalog_changed();
create trigger units_truncated after truncate on units for each statement execute function catalog_changed();
create trigger datasets_truncated after truncate on datasets for each statement execute function catalog_changed();
create trigger fields_truncated after truncate on fields for each statement execute function catalog_changed();
