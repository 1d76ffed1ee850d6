import type { Queryable } from '../db/database.ts';
import { SUBJECT_ATTRIBUTES, type Plan } from '../policy/engine.types.ts';
import { conditionToSql, planToSql, type Fragment } from '../policy/plan-sql.ts';
import type { Classification, ConsequenceTest, FieldType, PersonalData } from './catalog.schema.ts';

export type FieldFilter = 'equality' | 'range';
import { EXEMPTION_COLUMNS, type ExemptionRow } from './exemptions.repo.ts';
import type { Art18Grounds } from './label-history.repo.ts';

/**
 * SQL of the catalog: datasets, fields and the label columns (migrations/0002_catalog.sql).
 * Other capabilities read datasets through catalog.service.ts (getDatasetAttributes,
 * getFieldsForRead), not through these rows.
 */

export interface DatasetRow {
  id: string;
  title: string;
  description: string;
  owner_unit: string;
  source_system: string | null;
  steward: string | null;
  producer_unit: string | null;
  update_frequency: string | null;
  period_covered: string | null;
  concepts: string | null;
  reference_codes: string[];
  register_no: string | null;
  summary: string | null;
  responsible_official: { name: string; position: string } | null;
  produced_at: string | null;
  produced_place: string | null;
  forms: string[];
  retention: { period: string; reference: string } | null;
  info_kind: 'berkala' | 'serta_merta' | 'setiap_saat' | null;
  created_at: Date;
  updated_at: Date;
  version: number;
  classification: Classification | null;
  label_version: number;
  label_grounds: string[] | null;
  label_consequence_test: ConsequenceTest | null;
  label_review_by: string | null;
  label_justification: string | null;
  label_decided_by: string | null;
  label_decided_at: Date | null;
  label_decision_ref: string | null;
  pending_classification: 'exempt' | null;
  pending_grounds: string[] | null;
  pending_consequence_test: ConsequenceTest | null;
  pending_review_by: string | null;
  pending_justification: string | null;
  pending_proposed_by: string | null;
  pending_proposed_at: Date | null;
  pending_history_id: string | null;
  effective_classification: Classification | null;
}

export interface FieldRow {
  dataset_id: string;
  name: string;
  position: number;
  type: FieldType;
  description: string;
  personal_data: PersonalData;
  classification: Classification | null;
  provenance: 'declared' | 'confirmed';
  /** The category a detector found, while the field is quarantined (migrations/0010_detection.sql). */
  quarantine: PersonalData | null;
  redact_spans: boolean;
  /** The category of a scan's suggestion awaiting a steward, or null. */
  suggested: PersonalData | null;
  /** The field's art. 18(2) declassification, when its latest label event proposed or approved one. */
  art18: FieldArt18 | null;
  filter: FieldFilter;
  /** The range index's build (migrations/0017): null until a builder claims it. */
  range_index_status: 'building' | 'ready' | 'failed' | null;
  range_index_error: string | null;
}

/** An art. 18(2) declassification as the field's latest label event left it. */
export type FieldArt18 = Art18Grounds & {
  status: 'pending' | 'in_force';
  decisionRef: string | null;
  /** The history row of that event (a pending proposal's id, for its decision). */
  historyId: string;
  /** The field's own label before the proposal. */
  from: Classification | null;
};

/**
 * A field's art. 18(2) declassification, read from its latest label event: any later label event
 * of the field (a relabel, a rejection) ends it, so nothing but an approval keeps it in force.
 */
export const ART18_COLUMN = (sql: Queryable) => sql`
  (select case when h.event in ('proposal', 'approval') and jsonb_typeof(h.grounds) = 'object'
      then h.grounds || jsonb_build_object(
        'status', case h.event when 'approval' then 'in_force' else 'pending' end,
        'decisionRef', h.decision_ref, 'historyId', h.id::text, 'from', h.from_classification) end
    from label_history h where h.dataset_id = f.dataset_id and h.field_name = f.name
    order by h.id desc limit 1) as art18`;

const FIELD_COLUMNS = (sql: Queryable) => sql`
  f.dataset_id, f.name, f.position, f.type, f.description, f.personal_data, f.classification, f.provenance,
  f.quarantine, f.redact_spans, f.suggested, ${ART18_COLUMN(sql)}, f.filter,
  (select i.status from record_range_indexes i where i.dataset_id = f.dataset_id and i.field = f.name) as range_index_status,
  (select i.error from record_range_indexes i where i.dataset_id = f.dataset_id and i.field = f.name) as range_index_error`;

// Dates come back as ISO strings (YYYY-MM-DD), never shifted by the client's time zone.
const DATASET_COLUMNS = (sql: Queryable) => sql`
  d.id, d.title, d.description, d.owner_unit, d.source_system, d.steward, d.producer_unit,
  d.update_frequency, d.period_covered, d.concepts, d.reference_codes, d.register_no, d.summary,
  d.responsible_official, d.produced_at, d.produced_place, d.forms, d.retention, d.info_kind,
  d.created_at, d.updated_at,
  d.version, d.classification, d.label_version, d.label_grounds, d.label_consequence_test,
  to_char(d.label_review_by, 'YYYY-MM-DD') as label_review_by, d.label_justification,
  d.label_decided_by, d.label_decided_at, d.label_decision_ref,
  d.pending_classification, d.pending_grounds, d.pending_consequence_test,
  to_char(d.pending_review_by, 'YYYY-MM-DD') as pending_review_by, d.pending_justification,
  d.pending_proposed_by, d.pending_proposed_at, d.pending_history_id::text as pending_history_id,
  d.effective_classification`;

/** Reads one dataset by id, whoever asks; `forUpdate` locks the row for the transaction. */
export async function findDataset(
  sql: Queryable,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<DatasetRow | undefined> {
  const rows = options.forUpdate
    ? await sql<DatasetRow[]>`select ${DATASET_COLUMNS(sql)} from datasets d where d.id = ${id} for update`
    : await sql<DatasetRow[]>`select ${DATASET_COLUMNS(sql)} from datasets d where d.id = ${id}`;
  return rows[0];
}

/** The fields of one dataset, in declared order. */
export async function findFields(sql: Queryable, datasetId: string): Promise<FieldRow[]> {
  return sql<FieldRow[]>`
    select ${FIELD_COLUMNS(sql)} from fields f where f.dataset_id = ${datasetId} order by f.position`;
}

/** The fields of several datasets at once (one query for a page of a list). */
export async function findFieldsOf(sql: Queryable, datasetIds: string[]): Promise<Map<string, FieldRow[]>> {
  const byDataset = new Map<string, FieldRow[]>(datasetIds.map((id) => [id, []]));
  if (datasetIds.length === 0) return byDataset;
  const rows = await sql<FieldRow[]>`
    select ${FIELD_COLUMNS(sql)} from fields f where f.dataset_id in ${sql(datasetIds)} order by f.dataset_id, f.position`;
  for (const r of rows) byDataset.get(r.dataset_id)?.push(r);
  return byDataset;
}

export interface NewDataset {
  id: string;
  title: string;
  description: string;
  ownerUnit: string;
  sourceSystem: string | null;
  steward: string | null;
  producerUnit: string | null;
  updateFrequency: string | null;
  periodCovered: string | null;
  concepts: string | null;
  referenceCodes: string[];
  dip: DipMetadata;
}

/** The DIP columns a steward supplies (migrations/0008_registers.sql). */
export interface DipMetadata {
  summary: string | null;
  responsibleOfficial: { name: string; position: string } | null;
  producedAt: string | null;
  producedPlace: string | null;
  forms: string[];
  retention: { period: string; reference: string } | null;
  infoKind: 'berkala' | 'serta_merta' | 'setiap_saat' | null;
}

export interface NewField {
  name: string;
  type: FieldType;
  description: string;
  personalData: PersonalData;
  filter: FieldFilter;
}

export async function insertDataset(sql: Queryable, d: NewDataset): Promise<void> {
  await sql`
    insert into datasets (id, title, description, owner_unit, source_system, steward, producer_unit,
      update_frequency, period_covered, concepts, reference_codes, summary, responsible_official, produced_at,
      produced_place, forms, retention, info_kind)
    values (${d.id}, ${d.title}, ${d.description}, ${d.ownerUnit}, ${d.sourceSystem}, ${d.steward}, ${d.producerUnit},
      ${d.updateFrequency}, ${d.periodCovered}, ${d.concepts}, ${sql.json(d.referenceCodes)}, ${d.dip.summary},
      ${d.dip.responsibleOfficial ? sql.json(d.dip.responsibleOfficial) : null}, ${d.dip.producedAt},
      ${d.dip.producedPlace}, ${sql.json(d.dip.forms)}, ${d.dip.retention ? sql.json(d.dip.retention) : null},
      ${d.dip.infoKind})`;
}

/** Appends fields after the dataset's last position. */
export async function insertFields(
  sql: Queryable,
  datasetId: string,
  fields: NewField[],
  firstPosition: number,
): Promise<void> {
  if (fields.length === 0) return;
  const rows = fields.map((f, i) => ({
    dataset_id: datasetId,
    name: f.name,
    position: firstPosition + i,
    type: f.type,
    description: f.description,
    personal_data: f.personalData,
    filter: f.filter,
  }));
  await sql`insert into fields ${sql(rows, 'dataset_id', 'name', 'position', 'type', 'description', 'personal_data', 'filter')}`;
}

export async function updateField(
  sql: Queryable,
  datasetId: string,
  name: string,
  change: {
    description: string;
    personalData: PersonalData;
    classification: Classification | null;
    filter: FieldFilter;
  },
): Promise<void> {
  await sql`
    update fields set description = ${change.description}, personal_data = ${change.personalData},
      classification = ${change.classification}, filter = ${change.filter}
    where dataset_id = ${datasetId} and name = ${name}`;
}

/** How many of a dataset's fields are declared range-filterable (each has an index of its own). */
export async function countRangeFields(sql: Queryable, datasetId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from fields where dataset_id = ${datasetId} and filter = 'range'`;
  return row!.n;
}

export interface MetadataChange {
  title?: string;
  description?: string;
  source_system?: string | null;
  steward?: string | null;
  producer_unit?: string | null;
  update_frequency?: string | null;
  period_covered?: string | null;
  concepts?: string | null;
  reference_codes?: string[];
  summary?: string | null;
  responsible_official?: { name: string; position: string } | null;
  produced_at?: string | null;
  produced_place?: string | null;
  forms?: string[];
  retention?: { period: string; reference: string } | null;
  info_kind?: string | null;
}

/** Columns stored as jsonb. */
const JSON_COLUMNS = new Set(['reference_codes', 'responsible_official', 'forms', 'retention']);

/**
 * Applies a metadata change and bumps the version, only if the version is still `expected`
 * (optimistic concurrency); returns false when it is not.
 */
export async function updateMetadata(
  sql: Queryable,
  id: string,
  expected: number,
  change: MetadataChange,
): Promise<boolean> {
  const assignments: Fragment[] = Object.entries(change).map(([column, value]) =>
    JSON_COLUMNS.has(column) && value !== null && value !== undefined
      ? sql`${sql(column)} = ${sql.json(value as string[])}`
      : sql`${sql(column)} = ${(value as string | null | undefined) ?? null}`,
  );
  assignments.push(sql`version = version + 1`, sql`updated_at = now()`);
  const set = assignments.reduce((acc, a) => sql`${acc}, ${a}`);
  const rows = await sql`update datasets set ${set} where id = ${id} and version = ${expected} returning id`;
  return rows.length === 1;
}

/** Bumps version and label version (every label event does) and returns the new label version. */
export async function bumpLabelVersion(sql: Queryable, id: string): Promise<number> {
  const [row] = await sql<{ label_version: number }[]>`
    update datasets set label_version = label_version + 1, version = version + 1, updated_at = now()
    where id = ${id} returning label_version`;
  if (!row) throw new Error(`dataset ${id} vanished inside its transaction`);
  return row.label_version;
}

/** Puts a label in force (a direct label or an approved exemption); clears any pending proposal. */
export async function setLabel(
  sql: Queryable,
  id: string,
  label: {
    classification: Classification | null;
    grounds: string[] | null;
    consequenceTest: ConsequenceTest | null;
    reviewBy: string | null;
    justification: string | null;
    decidedBy: string | null;
    decisionRef: string | null;
  },
): Promise<void> {
  await sql`
    update datasets set
      classification = ${label.classification},
      label_grounds = ${label.grounds ? sql.json(label.grounds) : null},
      label_consequence_test = ${label.consequenceTest ? sql.json(label.consequenceTest) : null},
      label_review_by = ${label.reviewBy},
      label_justification = ${label.justification},
      label_decided_by = ${label.decidedBy},
      label_decided_at = now(),
      label_decision_ref = ${label.decisionRef},
      pending_classification = null, pending_grounds = null, pending_consequence_test = null,
      pending_review_by = null, pending_justification = null, pending_proposed_by = null,
      pending_proposed_at = null, pending_history_id = null
    where id = ${id}`;
}

export async function setPending(
  sql: Queryable,
  id: string,
  p: {
    grounds: string[];
    consequenceTest: ConsequenceTest;
    reviewBy: string;
    justification: string | null;
    proposedBy: string;
    historyId: string;
  },
): Promise<void> {
  await sql`
    update datasets set
      pending_classification = 'exempt',
      pending_grounds = ${sql.json(p.grounds)},
      pending_consequence_test = ${sql.json(p.consequenceTest)},
      pending_review_by = ${p.reviewBy},
      pending_justification = ${p.justification},
      pending_proposed_by = ${p.proposedBy},
      pending_proposed_at = now(),
      pending_history_id = ${p.historyId}
    where id = ${id}`;
}

/** Drops a pending proposal (rejected); the label in force stays. */
export async function clearPending(sql: Queryable, id: string): Promise<void> {
  await sql`
    update datasets set
      pending_classification = null, pending_grounds = null, pending_consequence_test = null,
      pending_review_by = null, pending_justification = null, pending_proposed_by = null,
      pending_proposed_at = null, pending_history_id = null
    where id = ${id}`;
}

export async function setFieldLabel(
  sql: Queryable,
  datasetId: string,
  name: string,
  classification: Classification | null,
): Promise<void> {
  await sql`update fields set classification = ${classification} where dataset_id = ${datasetId} and name = ${name}`;
}

// ---- Row scope: a Plan (engine.types.ts) as a WHERE clause ----

/**
 * Every attribute of a dataset or its label that a plan may name, as SQL over `datasets d`.
 * Decisions use the effective label: a pending exemption already counts as exempt.
 */
const CATALOG_COLUMNS: Record<(typeof SUBJECT_ATTRIBUTES)['Dataset' | 'Label'][number], (sql: Queryable) => Fragment> =
  {
    id: (sql) => sql`d.id`,
    datasetId: (sql) => sql`d.id`,
    ownerUnit: (sql) => sql`d.owner_unit`,
    classification: (sql) => sql`d.effective_classification`,
    labelPending: (sql) => sql`(d.pending_classification is not null)`,
    labelVersion: (sql) => sql`d.label_version`,
    steward: (sql) => sql`d.steward`,
    sourceSystem: (sql) => sql`d.source_system`,
    proposedBy: (sql) => sql`d.pending_proposed_by`,
    // Set per principal and purpose for decisions (src/agreements); catalog lists do not consult agreements.
    agreement: (sql) => sql`null::text`,
  };

/**
 * The columns of one subject: exactly its attributes (engine.types.ts SUBJECT_ATTRIBUTES), so the
 * policy's translator (src/policy/plan-sql.ts) refuses any other, and a condition that cannot be
 * translated exactly never becomes a broader query.
 */
function catalogColumns(sql: Queryable, subject: 'Dataset' | 'Label'): Record<string, Fragment> {
  return Object.fromEntries(SUBJECT_ATTRIBUTES[subject].map((name) => [name, CATALOG_COLUMNS[name](sql)]));
}

/** The WHERE form of a read plan over `datasets d`. */
export function planSql(sql: Queryable, plan: Plan): Fragment {
  return planToSql(sql, plan, catalogColumns(sql, 'Dataset'));
}

// ---- Lists ----

export interface DatasetFilter {
  classification?: Classification;
  unit?: string;
  unlabelled?: boolean;
  reviewOverdue?: boolean;
  /** Datasets with (true) or without (false) scan suggestions awaiting a steward. */
  openSuggestions?: boolean;
  /** Datasets with (true) or without (false) a field in quarantine (whole, or spans redacted). */
  quarantined?: boolean;
  sourceSystem?: string;
  /** Only datasets with an exemption proposal awaiting a PPID (true), or none (false). */
  pending?: boolean;
  /** Only datasets whose id or title contains this text (case-insensitive). */
  search?: string;
  /** List only ids after this one (keyset pagination). */
  after?: string;
  limit: number;
}

/**
 * One page of the datasets `scope` lets the caller see, filtered in SQL: rows outside the
 * scope are never read into the application. Returns up to `limit + 1` rows so the caller
 * can tell whether there is a next page.
 */
export async function listDatasets(sql: Queryable, scope: Plan, f: DatasetFilter): Promise<DatasetRow[]> {
  if (scope.kind === 'never') return [];
  return sql<DatasetRow[]>`
    select ${DATASET_COLUMNS(sql)} from datasets d
    where ${planSql(sql, scope)}
      ${f.classification ? sql`and d.effective_classification = ${f.classification}` : sql``}
      ${f.unit ? sql`and ${conditionToSql(sql, { op: 'within', field: 'ownerUnit', value: f.unit }, catalogColumns(sql, 'Dataset'))}` : sql``}
      ${f.unlabelled === true ? sql`and d.effective_classification is null` : sql``}
      ${f.unlabelled === false ? sql`and d.effective_classification is not null` : sql``}
      ${f.reviewOverdue === true ? sql`and d.classification = 'exempt' and d.label_review_by < current_date` : sql``}
      ${f.openSuggestions === undefined ? sql`` : sql`and ${f.openSuggestions ? sql`` : sql`not`} exists (select 1 from fields f where f.dataset_id = d.id and f.suggested is not null)`}
      ${f.quarantined === undefined ? sql`` : sql`and ${f.quarantined ? sql`` : sql`not`} exists (select 1 from fields f where f.dataset_id = d.id and (f.quarantine is not null or f.redact_spans))`}
      ${f.reviewOverdue === false ? sql`and (d.classification is distinct from 'exempt' or d.label_review_by >= current_date)` : sql``}
      ${f.sourceSystem ? sql`and d.source_system = ${f.sourceSystem}` : sql``}
      ${f.pending === true ? sql`and d.pending_classification is not null` : sql``}
      ${f.pending === false ? sql`and d.pending_classification is null` : sql``}
      ${f.search ? sql`and (d.id like ${likePattern(f.search.toLowerCase())} escape '\\' or d.title ilike ${likePattern(f.search)} escape '\\')` : sql``}
      ${f.after !== undefined ? sql`and d.id > ${f.after}` : sql``}
    order by d.id
    limit ${f.limit + 1}`;
}

/** `%text%` with LIKE's own characters escaped, so a search is for the text as typed. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

// ---- Registers ----

export interface RegisterRow extends DatasetRow {
  owner_unit_name: string;
}

export interface RegisterRow extends DatasetRow {
  owner_unit_name: string;
  determination_ref: string | null;
  determination_date: string | null;
}

/**
 * Daftar Informasi Publik (UU 14/2008 art. 11(1)(a)): every dataset labelled public or restricted
 * (no pending exemption) that has its summary, with the PPID's latest determination covering its
 * unit made since its label (none: pending determination).
 */
export async function publicRegister(sql: Queryable, after: string | undefined, limit: number): Promise<RegisterRow[]> {
  return sql<RegisterRow[]>`
    select ${DATASET_COLUMNS(sql)}, u.name as owner_unit_name, det.ref as determination_ref,
      det.date as determination_date
    from datasets d join units u on u.code = d.owner_unit
    left join lateral (
      select t.ref, to_char(t.date, 'YYYY-MM-DD') as date from dip_determinations t
      where (t.unit = 'RI' or d.owner_unit = t.unit or d.owner_unit like t.unit || '.%')
        and t.at >= d.label_decided_at
      order by t.at desc, t.id desc limit 1
    ) det on true
    where d.effective_classification in ('public', 'restricted') and d.summary is not null and d.register_no is not null
      ${after !== undefined ? sql`and d.id > ${after}` : sql``}
    order by d.id limit ${limit + 1}`;
}

/** One dataset's DIP row, or undefined when it is not in the DIP. */
export async function publicRegisterRow(sql: Queryable, id: string): Promise<RegisterRow | undefined> {
  const [row] = await sql<RegisterRow[]>`
    select ${DATASET_COLUMNS(sql)}, u.name as owner_unit_name, det.ref as determination_ref,
      det.date as determination_date
    from datasets d join units u on u.code = d.owner_unit
    left join lateral (
      select t.ref, to_char(t.date, 'YYYY-MM-DD') as date from dip_determinations t
      where (t.unit = 'RI' or d.owner_unit = t.unit or d.owner_unit like t.unit || '.%')
        and t.at >= d.label_decided_at
      order by t.at desc, t.id desc limit 1
    ) det on true
    where d.id = ${id} and d.effective_classification in ('public', 'restricted')`;
  return row;
}

/** Records the PPID's determination of the DIP of a unit (and the units under it). */
export async function insertDetermination(
  sql: Queryable,
  d: { unit: string; ref: string; date: string; determinedBy: string },
): Promise<{ id: string; at: Date }> {
  const [row] = await sql<{ id: string; at: Date }[]>`
    insert into dip_determinations (unit, ref, date, determined_by)
    values (${d.unit}, ${d.ref}, ${d.date}, ${d.determinedBy}) returning id::text as id, at`;
  if (!row) throw new Error('determination insert returned nothing');
  return row;
}

/** One row of the DIK: an exemption record in force with its dataset's unit. */
export interface DikRow extends ExemptionRow {
  title: string;
  owner_unit: string;
  owner_unit_name: string;
  label_version: number;
  period_ended: boolean;
  review_overdue: boolean;
}

/**
 * The exempt list (DIK): exemption records in force (dataset and field), approved by a PPID,
 * keyset by record id; `scope` is a plan over Label. `overdueOnly`: those past their review date
 * or their period's end (they stay in force until a PPID acts: fail closed).
 */
export async function exemptRegister(
  sql: Queryable,
  options: { after?: string; limit: number; overdueOnly?: boolean; scope?: Plan },
): Promise<DikRow[]> {
  const scope = options.scope ?? { kind: 'always' };
  if (scope.kind === 'never') return [];
  return sql<DikRow[]>`
    select * from (
      select ${EXEMPTION_COLUMNS(sql)}, d.title, d.owner_unit, u.name as owner_unit_name, d.label_version,
        coalesce((e.period->>'until')::date < current_date, false) as period_ended,
        (e.review_by < current_date) as review_overdue
      from exemptions e join datasets d on d.id = e.dataset_id join units u on u.code = d.owner_unit
      where e.status = 'in_force' and ${planToSql(sql, scope, catalogColumns(sql, 'Label'))}
        ${options.after !== undefined ? sql`and e.id > ${options.after}::bigint` : sql``}
    ) x
    ${options.overdueOnly ? sql`where x.period_ended or x.review_overdue` : sql``}
    order by x.id::bigint limit ${options.limit + 1}`;
}
