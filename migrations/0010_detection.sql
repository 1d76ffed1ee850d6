-- Personal-data detection (issue 18): the added categories, scan suggestions, provenance and quarantine.
-- Same file on PostgreSQL 15 and PGlite: keep to PostgreSQL 15 SQL.

-- The general list gains nip (civil-servant number), passport and bpjs (api-contract.md).
alter table fields drop constraint fields_personal_data_check;
alter table fields add constraint fields_personal_data_check check (personal_data in (
  'none',
  'name', 'nik', 'kk', 'npwp', 'nip', 'passport', 'bpjs', 'phone', 'email', 'address', 'birthdate', 'other_general',
  'health', 'biometric', 'genetic', 'criminal_record', 'child', 'financial', 'other_specific'
));

-- Where the field's personal-data kind comes from: a steward's declaration, or a suggestion a
-- steward accepted. ("suggested" is shown while a scan's suggestion awaits a decision.)
alter table fields add column provenance text not null default 'declared'
  check (provenance in ('declared', 'confirmed'));
-- A steward who changes the kind by hand declares it, whatever it came from before.
create function fields_declared() returns trigger language plpgsql as $$
begin
  if new.personal_data is distinct from old.personal_data and new.provenance is not distinct from old.provenance then
    new.provenance := 'declared';
  end if;
  return new;
end;
$$;
create trigger fields_declared before update on fields for each row execute function fields_declared();

-- Quarantine: a finding stricter than the declared kind, in force until a steward decides. The
-- field is read as restricted and as this category (a specific one masks as specific).
alter table fields add column quarantine text check (quarantine is null or quarantine in (
  'name', 'nik', 'kk', 'npwp', 'nip', 'passport', 'bpjs', 'phone', 'email', 'address', 'birthdate', 'other_general',
  'health', 'biometric', 'genetic', 'criminal_record', 'child', 'financial', 'other_specific'
));
-- Identifiers found inside free text: the spans are redacted wherever the field leaves whole.
alter table fields add column redact_spans boolean not null default false;
-- The category of a scan's suggestion awaiting a steward (null when none awaits): the catalog's own
-- record of it, so the catalog reads no table of detection's.
alter table fields add column suggested text check (suggested is null or suggested in (
  'name', 'nik', 'kk', 'npwp', 'nip', 'passport', 'bpjs', 'phone', 'email', 'address', 'birthdate', 'other_general',
  'health', 'biometric', 'genetic', 'criminal_record', 'child', 'financial', 'other_specific'
));

-- The latest scan's suggestion per field. Evidence holds counts and hint words, never values.
create table field_suggestions (
  dataset_id text not null,
  field_name text not null,
  personal_data text not null,
  kind text not null check (kind in ('none', 'general', 'specific')),
  classification text check (classification in ('public', 'restricted', 'exempt')),
  mask text,
  confidence numeric(4, 3) not null check (confidence between 0 and 1),
  evidence jsonb not null,
  spans boolean not null default false,
  -- open: awaits a steward; agrees: what the field already declares; accepted / rejected: decided.
  status text not null check (status in ('open', 'agrees', 'accepted', 'rejected')),
  scanned_at timestamptz not null default now(),
  decided_by text,
  decided_at timestamptz,
  primary key (dataset_id, field_name),
  foreign key (dataset_id, field_name) references fields (dataset_id, name) on delete cascade
);
create index field_suggestions_open_idx on field_suggestions (dataset_id) where status = 'open';

-- A suggestion decided is a label event: which suggestion, and what was decided.
alter table label_history add column suggestion jsonb;
