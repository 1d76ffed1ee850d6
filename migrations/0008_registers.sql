-- Registers as UU 14/2008 and Perki 1/2021 write them (issue 21): the DIP's columns on datasets,
-- the PPID's determinations of the DIP, exemption records (the DIK, dataset and field exemptions),
-- register numbers per unit and year, and the register of processing purposes (UU 27/2022).
-- Same file on PostgreSQL 15 and PGlite: keep to PostgreSQL 15 SQL.

-- DIP columns (Perki 1/2021): what the steward supplies about a dataset.
alter table datasets
  add column summary text,
  add column responsible_official jsonb,
  add column produced_at text,
  add column produced_place text,
  add column forms jsonb not null default '[]'::jsonb,
  add column retention jsonb,
  add column info_kind text check (info_kind in ('berkala', 'serta_merta', 'setiap_saat')),
  -- Given once, when the dataset is first labelled public or restricted: DIP/<unit>/<year>/<n>.
  add column register_no text unique;

-- The last number given per register, unit and year (one row each; the update locks it).
create table register_counters (
  register text not null check (register in ('DIP', 'DIK')),
  unit text not null references units (code),
  year integer not null,
  last integer not null check (last >= 1),
  primary key (register, unit, year)
);

-- Datasets already public or restricted get their DIP numbers in the order they were labelled.
with numbered as (
  select id, owner_unit, extract(year from coalesce(label_decided_at, created_at))::int as year,
    row_number() over (
      partition by owner_unit, extract(year from coalesce(label_decided_at, created_at))
      order by coalesce(label_decided_at, created_at), id) as n
  from datasets where classification in ('public', 'restricted')
)
update datasets d set register_no = 'DIP/' || numbered.owner_unit || '/' || numbered.year || '/' || numbered.n
from numbered where d.id = numbered.id;
insert into register_counters (register, unit, year, last)
select 'DIP', owner_unit, split_part(register_no, '/', 3)::int, max(split_part(register_no, '/', 4)::int)
from datasets where register_no is not null
group by owner_unit, split_part(register_no, '/', 3)::int;

-- The PPID's decisions determining (menetapkan) the DIP of a unit and the units under it.
create table dip_determinations (
  id bigint generated always as identity primary key,
  unit text not null references units (code),
  ref text not null check (length(ref) between 1 and 200),
  date date not null,
  determined_by text not null,
  at timestamptz not null default now()
);
create index dip_determinations_unit_idx on dip_determinations (unit, at desc);

-- Exemption records: one per proposal, of a whole dataset (field_name null) or one field.
-- The label columns of datasets and fields carry the effect; this carries the record the law asks for.
create table exemptions (
  id bigint generated always as identity primary key,
  -- Given at approval: DIK/<unit>/<year>/<n>.
  dik_no text unique,
  dataset_id text not null references datasets (id),
  field_name text,
  status text not null check (status in ('pending', 'in_force', 'rejected', 'superseded', 'lifted')),
  subject text not null,
  grounds jsonb not null,
  statute text,
  consequence_test jsonb not null,
  period jsonb not null,
  lift_conditions jsonb not null default '[]'::jsonb,
  review_by date not null,
  justification text,
  -- A field's own label before its proposal (restored when the proposal is rejected).
  previous_classification text check (previous_classification in ('public', 'restricted', 'exempt')),
  proposed_by text not null,
  proposed_at timestamptz not null default now(),
  decision jsonb,
  decided_by text,
  decided_at timestamptz,
  proposal_history_id bigint references label_history (id),
  check (status not in ('in_force', 'superseded', 'lifted') or (dik_no is not null and decided_at is not null))
);
-- At most one pending and one in-force record per dataset or field (a re-test is proposed while
-- the exemption it re-tests stays in force).
create unique index exemptions_pending_idx on exemptions (dataset_id, coalesce(field_name, ''))
  where status = 'pending';
create unique index exemptions_in_force_one_idx on exemptions (dataset_id, coalesce(field_name, ''))
  where status = 'in_force';
create index exemptions_dataset_idx on exemptions (dataset_id, status);
create index exemptions_in_force_idx on exemptions (dik_no) where status = 'in_force';

-- Dataset exemptions approved before this migration: recorded as they were, flagged for re-testing.
insert into exemptions (dik_no, dataset_id, field_name, status, subject, grounds, consequence_test, period,
  review_by, justification, proposed_by, proposed_at, decision, decided_by, decided_at)
select 'DIK/' || d.owner_unit || '/legacy/' || d.id, d.id, null, 'in_force', d.title, d.label_grounds,
  d.label_consequence_test, '{"untilEvent": "re-test under the registers rules (recorded before them)"}'::jsonb,
  d.label_review_by, d.label_justification, coalesce(d.label_decided_by, '(unknown)'),
  coalesce(d.label_decided_at, now()),
  case when d.label_decision_ref is null then null else jsonb_build_object('ref', d.label_decision_ref) end,
  d.label_decided_by, coalesce(d.label_decided_at, now())
from datasets d where d.classification = 'exempt';

-- Register of processing purposes (UU 27/2022 art. 20 and 31). A change bumps catalog_version:
-- decisions hold the purposes in memory with the catalog.
create table purposes (
  id text primary key check (id ~ '^[a-z0-9][a-z0-9-]{1,63}$'),
  description text not null check (length(description) between 1 and 2000),
  lawful_basis text not null check (lawful_basis in
    ('consent', 'contract', 'legal_obligation', 'vital_interest', 'public_task', 'legitimate_interest')),
  datasets jsonb not null default '[]'::jsonb,
  categories jsonb not null default '[]'::jsonb,
  recipients jsonb not null default '[]'::jsonb,
  retention text,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create constraint trigger purposes_changed after insert or update or delete on purposes
  deferrable initially deferred for each row execute function catalog_changed();
create trigger purposes_truncated after truncate on purposes for each statement execute function catalog_changed();
create constraint trigger exemptions_changed after insert or update or delete on exemptions
  deferrable initially deferred for each row execute function catalog_changed();
