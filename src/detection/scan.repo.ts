import type { Queryable } from '../db/database.ts';
import type { Suggestion } from './suggestion.ts';

/** SQL of scans (migrations/0010_detection.sql): samples, suggestions, quarantine flags. */

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
