import type { Queryable } from '../db/database.ts';
import type { Suggestion } from './suggestion.ts';

/** SQL of scans (migrations/0010_detection.sql): samples, suggestions, quarantine flags. */

/**
 * A bounded sample of a dataset's records, taken in SQL: `size` random probes into the
 * (dataset_id, seq) index, each taking the first record at or after a random point between the
 * dataset's first and last seq. Its cost grows with the sample, not the dataset; a dataset
 * smaller than twice the sample is read whole (up to `size` rows).
 */
export async function sampleRecords(
  sql: Queryable,
  datasetId: string,
  size: number,
): Promise<Record<string, unknown>[]> {
  const [b] = await sql<{ lo: string | null; hi: string | null }[]>`
    select min(seq)::text as lo, max(seq)::text as hi from records where dataset_id = ${datasetId}`;
  if (!b?.lo || !b.hi) return [];
  const span = BigInt(b.hi) - BigInt(b.lo) + 1n;
  if (span <= BigInt(size) * 2n) {
    const rows = await sql<{ data: Record<string, unknown> }[]>`
      select data from records where dataset_id = ${datasetId} order by seq limit ${size}`;
    return rows.map((r) => r.data);
  }
  const rows = await sql<{ data: Record<string, unknown> }[]>`
    select distinct on (r.seq) r.data
    from (select ${b.lo}::bigint + floor(random() * ${span.toString()}::numeric)::bigint as p
          from generate_series(1, ${size})) g
    cross join lateral (
      select seq, data from records where dataset_id = ${datasetId} and seq >= g.p order by seq limit 1
    ) r`;
  return rows.map((r) => r.data);
}

export type SuggestionStatus = 'open' | 'agrees' | 'accepted' | 'rejected';

export interface SuggestionRow {
  dataset_id: string;
  field_name: string;
  personal_data: string;
  kind: 'none' | 'general' | 'specific';
  classification: 'restricted' | null;
  mask: string | null;
  confidence: string;
  evidence: Suggestion['evidence'];
  spans: boolean;
  status: SuggestionStatus;
  scanned_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
}

const COLUMNS = (sql: Queryable) => sql`
  s.dataset_id, s.field_name, s.personal_data, s.kind, s.classification, s.mask, s.confidence::text as confidence,
  s.evidence, s.spans, s.status, s.scanned_at, s.decided_by, s.decided_at`;

export async function listSuggestions(sql: Queryable, datasetId: string): Promise<SuggestionRow[]> {
  return sql<SuggestionRow[]>`
    select ${COLUMNS(sql)} from field_suggestions s
    join fields f on f.dataset_id = s.dataset_id and f.name = s.field_name
    where s.dataset_id = ${datasetId} order by f.position`;
}

export async function findSuggestion(
  sql: Queryable,
  datasetId: string,
  field: string,
): Promise<SuggestionRow | undefined> {
  const [row] = await sql<SuggestionRow[]>`
    select ${COLUMNS(sql)} from field_suggestions s
    where s.dataset_id = ${datasetId} and s.field_name = ${field} for update`;
  return row;
}

/** Stores the latest suggestion; a decision on the same category stands (a rescan does not reopen it). */
export async function upsertSuggestion(
  sql: Queryable,
  datasetId: string,
  s: Suggestion,
  status: SuggestionStatus,
): Promise<SuggestionStatus> {
  const [row] = await sql<{ status: SuggestionStatus }[]>`
    insert into field_suggestions as t (dataset_id, field_name, personal_data, kind, classification, mask, confidence,
      evidence, spans, status)
    values (${datasetId}, ${s.field}, ${s.personalData}, ${s.personalDataKind}, ${s.classification}, ${s.mask ?? null},
      ${s.confidence}, ${sql.json(s.evidence)}, ${s.spans}, ${status})
    on conflict (dataset_id, field_name) do update set
      status = case
        when t.status in ('accepted', 'rejected') and t.personal_data = excluded.personal_data then t.status
        else excluded.status end,
      decided_by = case
        when t.status in ('accepted', 'rejected') and t.personal_data = excluded.personal_data then t.decided_by end,
      decided_at = case
        when t.status in ('accepted', 'rejected') and t.personal_data = excluded.personal_data then t.decided_at end,
      personal_data = excluded.personal_data, kind = excluded.kind, classification = excluded.classification,
      mask = excluded.mask, confidence = excluded.confidence, evidence = excluded.evidence, spans = excluded.spans,
      scanned_at = now()
    returning status`;
  return row!.status;
}

export async function decideSuggestion(
  sql: Queryable,
  datasetId: string,
  field: string,
  status: 'accepted' | 'rejected',
  by: string,
): Promise<void> {
  await sql`
    update field_suggestions set status = ${status}, decided_by = ${by}, decided_at = now()
    where dataset_id = ${datasetId} and field_name = ${field}`;
}

/** Quarantines a field (or marks its text for span redaction); true when this changed it. */
export async function quarantineField(
  sql: Queryable,
  datasetId: string,
  field: string,
  q: { kind: 'field' | 'spans'; category: string },
): Promise<boolean> {
  const rows =
    q.kind === 'field'
      ? await sql`
          update fields set quarantine = ${q.category}
          where dataset_id = ${datasetId} and name = ${field} and quarantine is distinct from ${q.category}
          returning name`
      : await sql`
          update fields set redact_spans = true
          where dataset_id = ${datasetId} and name = ${field} and not redact_spans
          returning name`;
  return rows.length > 0;
}

/** A steward's decision lifts quarantine; accepting also sets the kind found, as confirmed. */
export async function settleField(
  sql: Queryable,
  datasetId: string,
  field: string,
  accepted: string | null,
): Promise<void> {
  if (accepted === null) {
    await sql`update fields set quarantine = null, redact_spans = false where dataset_id = ${datasetId} and name = ${field}`;
  } else {
    // Two steps: the fields_declared trigger keeps `confirmed` only when the provenance changes with the kind.
    await sql`
      update fields set quarantine = null, redact_spans = false, provenance = 'declared'
      where dataset_id = ${datasetId} and name = ${field}`;
    await sql`
      update fields set personal_data = ${accepted}, provenance = 'confirmed'
      where dataset_id = ${datasetId} and name = ${field}`;
  }
}
