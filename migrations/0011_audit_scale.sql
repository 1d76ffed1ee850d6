-- The audit log at national scale (docs/audit.md, "Scale"): every auditor's query answered through
-- an index that matches it, reports read from rollups the writer keeps, verification incremental.
-- Same file on PostgreSQL 15 and PGlite.

-- Unit scope: the policy's `$within` on an entry's unit (its principal's or its resource's, an entry
-- without one being the body's, RI) is sent as `col = X or (col >= 'X.' and col < 'X/')` on these
-- very expressions. In the C collation '/' follows '.', so the range is exactly the codes under X.
create index audit_entry_principal_unit on audit_entry ((coalesce(principal_unit, 'RI') collate "C"), seq);
create index audit_entry_resource_unit on audit_entry ((coalesce(resource_unit, 'RI') collate "C"), seq);

-- Rare filters, each with the predicate the query repeats word for word (src/audit/audit-query.repo.ts),
-- so that an index holds only the rare rows and the common values walk the primary key (decisions,
-- disclosures and audit reads are each frequent enough that a page of them is found in a short walk).
create index audit_entry_event_rare on audit_entry (event, seq) where event in ('label_change', 'catalog_change');
create index audit_entry_denied on audit_entry (seq) where effect = 'deny';
create index audit_entry_purpose on audit_entry (purpose, seq) where purpose is not null;
create index audit_entry_exempt on audit_entry (seq) where classification = 'exempt';

-- Time -> seq: the first seq of each minute holding entries, written by the writer with each batch
-- (`at` grows with seq), so a time window becomes a seq range on the primary key.
create table audit_minute (
  minute timestamptz primary key,
  first_seq bigint not null
);
insert into audit_minute (minute, first_seq)
  select date_trunc('minute', at), min(seq) from audit_entry group by 1;

-- A disclosure's personal-data fields: the entry's `details.personal` names them (records reads
-- write it); an entry written before it did counts every field it names, as the reports always did.
create function jaga_audit_personal(fields text[], details jsonb) returns text[]
language sql immutable as $$
  select case when details ? 'personal'
    then array(select f from unnest(fields) with ordinality u(f, o) where details->'personal' ? f order by o)
    else fields end
$$;

-- Rollups of the reports, per UTC day: personal-data disclosures and denied attempts, keyed by
-- everything a report groups or scopes by. Written by the writer in the statement that inserts
-- the entries (one upsert per distinct key of a batch); `key` is the md5 of the other key columns.
create table audit_rollup (
  day date not null,
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
  primary key (day, key)
);

insert into audit_rollup
  select day, md5(row(kind, principal_sub, principal_kind, principal_unit, resource_unit, dataset_id, purpose, action, pw, pm)::text)::uuid,
         kind, principal_sub, principal_kind, principal_unit, resource_unit, dataset_id, purpose, action, pw, pm,
         count(*), coalesce(sum(row_count), 0), min(at), max(at)
  from (
    select (e.at at time zone 'UTC')::date as day, e.at, e.row_count, e.principal_sub, e.principal_kind, e.principal_unit,
           e.resource_unit, e.dataset_id, e.action,
           case when e.effect = 'deny' then 'denied' else 'disclosure' end as kind,
           case when e.effect = 'deny' then null else e.purpose end as purpose,
           case when e.effect = 'deny' then '{}'::text[] else jaga_audit_personal(e.fields_whole, e.details) end as pw,
           case when e.effect = 'deny' then '{}'::text[] else jaga_audit_personal(e.fields_masked, e.details) end as pm
    from audit_entry e
    where e.effect = 'deny' or e.event = 'disclosure'
  ) x
  where kind = 'denied' or cardinality(pw) > 0 or cardinality(pm) > 0
  group by day, kind, principal_sub, principal_kind, principal_unit, resource_unit, dataset_id, purpose, action, pw, pm;

-- Verification: each walk that found the chain intact records how far it got, so the next one
-- starts there. Append-only, like the log.
create table audit_verified (
  seq bigint not null,
  hash text not null,
  at timestamptz not null,
  full_walk boolean not null,
  verified_at timestamptz not null default now()
);
create index audit_verified_seq on audit_verified (seq);
create trigger audit_verified_append_only before update or delete on audit_verified
  for each row execute function jaga_refuse_change();

-- Records equality filters (`?field=value`) as `data @> {"field": value}`.
create index records_data_path on records using gin (data jsonb_path_ops);
