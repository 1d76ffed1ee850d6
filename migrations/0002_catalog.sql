-- Catalog: units, datasets, fields, their labels and the append-only label history.
-- Same file on PostgreSQL 15 and PGlite: keep to PostgreSQL 15 SQL.

-- The jurisdiction tree, named by Kemendagri region codes (src/catalog/unit-code.ts).
create table units (
  code text primary key
    check (code ~ '^(RI|[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?)$'),
  name text not null check (length(name) between 1 and 200),
  -- null only for the national office; the parent must exist before its children.
  parent text references units (code),
  created_at timestamptz not null default now(),
  check ((code = 'RI') = (parent is null))
);
create index units_parent_idx on units (parent);

insert into units (code, name, parent) values ('RI', 'Bawaslu RI (national office)', null);
insert into units (code, name, parent) values
  ('11', 'Aceh', 'RI'),
  ('12', 'Sumatera Utara', 'RI'),
  ('13', 'Sumatera Barat', 'RI'),
  ('14', 'Riau', 'RI'),
  ('15', 'Jambi', 'RI'),
  ('16', 'Sumatera Selatan', 'RI'),
  ('17', 'Bengkulu', 'RI'),
  ('18', 'Lampung', 'RI'),
  ('19', 'Kepulauan Bangka Belitung', 'RI'),
  ('21', 'Kepulauan Riau', 'RI'),
  ('31', 'DKI Jakarta', 'RI'),
  ('32', 'Jawa Barat', 'RI'),
  ('33', 'Jawa Tengah', 'RI'),
  ('34', 'DI Yogyakarta', 'RI'),
  ('35', 'Jawa Timur', 'RI'),
  ('36', 'Banten', 'RI'),
  ('51', 'Bali', 'RI'),
  ('52', 'Nusa Tenggara Barat', 'RI'),
  ('53', 'Nusa Tenggara Timur', 'RI'),
  ('61', 'Kalimantan Barat', 'RI'),
  ('62', 'Kalimantan Tengah', 'RI'),
  ('63', 'Kalimantan Selatan', 'RI'),
  ('64', 'Kalimantan Timur', 'RI'),
  ('65', 'Kalimantan Utara', 'RI'),
  ('71', 'Sulawesi Utara', 'RI'),
  ('72', 'Sulawesi Tengah', 'RI'),
  ('73', 'Sulawesi Selatan', 'RI'),
  ('74', 'Sulawesi Tenggara', 'RI'),
  ('75', 'Gorontalo', 'RI'),
  ('76', 'Sulawesi Barat', 'RI'),
  ('81', 'Maluku', 'RI'),
  ('82', 'Maluku Utara', 'RI'),
  ('91', 'Papua', 'RI'),
  ('92', 'Papua Barat', 'RI'),
  -- The four provinces created in 2022; code assignment per recent Kemendagri lists (unverified).
  ('93', 'Papua Selatan', 'RI'),
  ('94', 'Papua Tengah', 'RI'),
  ('95', 'Papua Pegunungan', 'RI'),
  ('96', 'Papua Barat Daya', 'RI');

create table datasets (
  id text primary key check (id ~ '^[a-z0-9][a-z0-9-]{1,63}$'),
  title text not null check (length(title) between 1 and 300),
  description text not null default '',
  owner_unit text not null references units (code),
  -- The application the data comes from (e.g. SIGAPLAPOR).
  source_system text,
  -- The steward's subject (token `sub`).
  steward text,
  -- Satu Data metadata (Perpres 39/2019).
  producer_unit text references units (code),
  update_frequency text,
  period_covered text,
  concepts text,
  reference_codes jsonb not null default '[]'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Optimistic concurrency: the ETag; bumped by every change, label changes included.
  version integer not null default 1 check (version >= 1),

  -- The label in force: null = unlabelled.
  classification text check (classification in ('public', 'restricted', 'exempt')),
  -- Bumped by every label event of the dataset or its fields; decisions record it.
  label_version integer not null default 0 check (label_version >= 0),
  label_grounds jsonb,
  label_consequence_test jsonb,
  label_review_by date,
  label_justification text,
  label_decided_by text,
  label_decided_at timestamptz,
  label_decision_ref text,

  -- A pending exemption proposal (a steward proposes, a PPID decides).
  pending_classification text check (pending_classification = 'exempt'),
  pending_grounds jsonb,
  pending_consequence_test jsonb,
  pending_review_by date,
  pending_justification text,
  pending_proposed_by text,
  pending_proposed_at timestamptz,
  pending_history_id bigint,

  -- What every access decision uses: a pending exemption already counts (fail closed).
  effective_classification text generated always as (coalesce(pending_classification, classification)) stored,

  -- An exemption in force always carries its grounds, consequence test and review date.
  constraint datasets_exempt_complete check (
    classification is distinct from 'exempt'
    or (label_grounds is not null and label_consequence_test is not null and label_review_by is not null)
  ),
  constraint datasets_pending_complete check (
    pending_classification is null
    or (pending_grounds is not null and pending_consequence_test is not null and pending_review_by is not null
        and pending_proposed_by is not null and pending_proposed_at is not null)
  )
);
create index datasets_owner_unit_idx on datasets (owner_unit text_pattern_ops);
create index datasets_effective_classification_idx on datasets (effective_classification);
create index datasets_source_system_idx on datasets (source_system);

create table fields (
  dataset_id text not null references datasets (id) on delete cascade,
  name text not null check (name ~ '^[a-z][a-z0-9_]{0,62}$'),
  -- Column order as declared.
  position integer not null,
  type text not null check (type in ('string', 'integer', 'number', 'boolean', 'date', 'datetime')),
  description text not null default '',
  personal_data text not null default 'none' check (personal_data in (
    'none',
    'name', 'nik', 'kk', 'npwp', 'phone', 'email', 'address', 'birthdate', 'other_general',
    'health', 'biometric', 'genetic', 'criminal_record', 'child', 'financial', 'other_specific'
  )),
  -- The field's own label (null = as its dataset); only ever at least as strict as the dataset's.
  classification text check (classification in ('public', 'restricted', 'exempt')),
  primary key (dataset_id, name),
  unique (dataset_id, position)
);

-- Every label event, never changed: proposals, direct labels, approvals, rejections.
create table label_history (
  id bigint generated always as identity primary key,
  dataset_id text not null references datasets (id),
  -- null for the dataset's own label; the field's name for a field label.
  field_name text,
  event text not null check (event in ('label', 'proposal', 'approval', 'rejection')),
  from_classification text check (from_classification in ('public', 'restricted', 'exempt')),
  to_classification text check (to_classification in ('public', 'restricted', 'exempt')),
  grounds jsonb,
  consequence_test jsonb,
  review_by date,
  justification text,
  -- A move to a less strict label (restricted → public, exempt → anything).
  declassification boolean not null default false,
  -- For approval and rejection: the proposal decided.
  proposal_id bigint references label_history (id),
  decision_ref text,
  actor_sub text not null,
  actor_roles jsonb not null default '[]'::jsonb,
  actor_unit text,
  at timestamptz not null default now(),
  -- The dataset's label_version after this event.
  label_version integer not null
);
create index label_history_dataset_idx on label_history (dataset_id, id);

create trigger label_history_append_only
  before update or delete on label_history
  for each row execute function jaga_refuse_change();
create trigger label_history_no_truncate
  before truncate on label_history
  for each statement execute function jaga_refuse_change();

alter table datasets
  add constraint datasets_pending_history_fk foreign key (pending_history_id) references label_history (id);
