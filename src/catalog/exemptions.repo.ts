import type { Queryable } from '../db/database.ts';
import type { Classification, ConsequenceTest, ExemptionDecision, ExemptionPeriod } from './catalog.schema.ts';

/**
 * SQL of exemption records (migrations/0008_registers.sql): one row per proposal of a dataset or
 * field exemption; the DIK lists those in force. The label columns carry the effect on decisions.
 */

export type ExemptionStatus = 'pending' | 'in_force' | 'rejected' | 'superseded' | 'lifted';

export interface ExemptionRow {
  id: string;
  dik_no: string | null;
  dataset_id: string;
  field_name: string | null;
  status: ExemptionStatus;
  subject: string;
  grounds: string[];
  statute: string | null;
  consequence_test: ConsequenceTest;
  period: ExemptionPeriod;
  lift_conditions: string[];
  review_by: string;
  justification: string | null;
  previous_classification: Classification | null;
  proposed_by: string;
  proposed_at: Date;
  decision: Partial<ExemptionDecision> | null;
  decided_by: string | null;
  decided_at: Date | null;
  proposal_history_id: string | null;
}

export const EXEMPTION_COLUMNS = (sql: Queryable) => sql`
  e.id::text as id, e.dik_no, e.dataset_id, e.field_name, e.status, e.subject, e.grounds, e.statute,
  e.consequence_test, e.period, e.lift_conditions, to_char(e.review_by, 'YYYY-MM-DD') as review_by,
  e.justification, e.previous_classification, e.proposed_by, e.proposed_at, e.decision, e.decided_by,
  e.decided_at, e.proposal_history_id::text as proposal_history_id`;

export interface NewExemption {
  datasetId: string;
  field: string | null;
  subject: string;
  grounds: string[];
  statute: string | null;
  consequenceTest: ConsequenceTest;
  period: ExemptionPeriod;
  liftConditions: string[];
  reviewBy: string;
  justification: string | null;
  previousClassification: Classification | null;
  proposedBy: string;
  historyId: string;
}

export async function insertExemption(sql: Queryable, e: NewExemption): Promise<void> {
  await sql`
    insert into exemptions (dataset_id, field_name, status, subject, grounds, statute, consequence_test, period,
      lift_conditions, review_by, justification, previous_classification, proposed_by, proposal_history_id)
    values (${e.datasetId}, ${e.field}, 'pending', ${e.subject}, ${sql.json(e.grounds)}, ${e.statute},
      ${sql.json(e.consequenceTest)}, ${sql.json(e.period)}, ${sql.json(e.liftConditions)}, ${e.reviewBy},
      ${e.justification}, ${e.previousClassification}, ${e.proposedBy}, ${e.historyId})`;
}

/** The open (pending or in force) record of a dataset (field null) or of one field. */
export async function openExemption(
  sql: Queryable,
  datasetId: string,
  field: string | null,
  status: 'pending' | 'in_force',
): Promise<ExemptionRow | undefined> {
  const [row] = await sql<ExemptionRow[]>`
    select ${EXEMPTION_COLUMNS(sql)} from exemptions e
    where e.dataset_id = ${datasetId} and e.field_name is not distinct from ${field} and e.status = ${status}`;
  return row;
}

/** The field exemptions (pending or in force) of a dataset. */
export async function fieldExemptions(sql: Queryable, datasetId: string): Promise<ExemptionRow[]> {
  return sql<ExemptionRow[]>`
    select ${EXEMPTION_COLUMNS(sql)} from exemptions e
    where e.dataset_id = ${datasetId} and e.field_name is not null and e.status in ('pending', 'in_force')
    order by e.field_name`;
}

/** Ends the record in force (superseded by a new one, or lifted by a declassification). */
export async function endExemption(
  sql: Queryable,
  datasetId: string,
  field: string | null,
  status: 'superseded' | 'lifted',
): Promise<void> {
  await sql`
    update exemptions set status = ${status}
    where dataset_id = ${datasetId} and field_name is not distinct from ${field} and status = 'in_force'`;
}

/** Puts a pending record in force with its decision and DIK number. */
export async function approveExemption(
  sql: Queryable,
  id: string,
  decision: ExemptionDecision,
  decidedBy: string,
  dikNo: string,
): Promise<void> {
  await sql`
    update exemptions set status = 'in_force', decision = ${sql.json(decision)}, decided_by = ${decidedBy},
      decided_at = now(), dik_no = ${dikNo}
    where id = ${id} and status = 'pending'`;
}

export async function rejectExemption(sql: Queryable, id: string, decidedBy: string): Promise<void> {
  await sql`
    update exemptions set status = 'rejected', decided_by = ${decidedBy}, decided_at = now()
    where id = ${id} and status = 'pending'`;
}

/** The next number of a register for a unit and year: `<register>/<unit>/<year>/<n>`. */
export async function nextRegisterNo(sql: Queryable, register: 'DIP' | 'DIK', unit: string): Promise<string> {
  const [row] = await sql<{ last: number; year: number }[]>`
    insert into register_counters (register, unit, year, last)
    values (${register}, ${unit}, extract(year from now())::int, 1)
    on conflict (register, unit, year) do update set last = register_counters.last + 1
    returning last, year`;
  if (!row) throw new Error('register counter returned nothing');
  return `${register}/${unit}/${row.year}/${row.last}`;
}

/** Gives a dataset its DIP number the first time it is listed (public or restricted). */
export async function ensureRegisterNo(sql: Queryable, datasetId: string, unit: string): Promise<void> {
  const [row] = await sql<{ register_no: string | null }[]>`select register_no from datasets where id = ${datasetId}`;
  if (!row || row.register_no !== null) return;
  const no = await nextRegisterNo(sql, 'DIP', unit);
  await sql`update datasets set register_no = ${no} where id = ${datasetId}`;
}

/**
 * An exemption in force whose PPID allows its information to go to another agency for its legal
 * duty, under the legal bases listed (migrations/0014_exemption_sharing.sql). Only in-force records
 * with a list count; a record with a re-test pending over it shares nothing meanwhile (fail closed).
 */
export interface ExemptionSharingRow {
  dataset_id: string;
  field_name: string | null;
  dik_no: string;
  shareable_under: string[];
}

/** The sharing lists in force (of one dataset, or all); `share` locks them until the transaction ends. */
export async function exemptionSharing(
  q: Queryable,
  datasetId: string | null,
  lock?: 'share',
): Promise<ExemptionSharingRow[]> {
  const suffix = q.unsafe(lock ? ' for share of e' : ''); // one fixed word, never caller text
  return q<ExemptionSharingRow[]>`
    select e.dataset_id, e.field_name, e.dik_no, e.shareable_under from exemptions e
    where e.status = 'in_force' and jsonb_array_length(e.shareable_under) > 0
      and (${datasetId}::text is null or e.dataset_id = ${datasetId})
      and not exists (
        select 1 from exemptions p where p.status = 'pending' and p.dataset_id = e.dataset_id
          and p.field_name is not distinct from e.field_name)
    order by e.dataset_id, e.field_name${suffix}`;
}

/** Sets the legal bases a record in force may be shared under (the caller holds its row and records the change). */
export async function setExemptionSharing(q: Queryable, id: string, bases: string[]): Promise<void> {
  await q`update exemptions set shareable_under = ${q.json(bases)} where id = ${id} and status = 'in_force'`;
}
