import type { Queryable } from '../db/database.ts';

/**
 * The catalog's write port for personal-data findings (src/detection asks; the catalog owns
 * `fields`, migrations/0010_detection.sql): a suggestion awaiting a steward, quarantine, span
 * redaction, and a steward's decision. Each update bumps the catalog version (0007's trigger).
 */

/** Records which category a scan suggests and awaits a steward (null: none awaits). */
export async function setSuggested(sql: Queryable, datasetId: string, field: string, category: string | null) {
  await sql`
    update fields set suggested = ${category}
    where dataset_id = ${datasetId} and name = ${field} and suggested is distinct from ${category}`;
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

/** A steward's decision: quarantine and the awaiting suggestion lift; accepting also sets the kind found, as confirmed. */
export async function settleField(
  sql: Queryable,
  datasetId: string,
  field: string,
  accepted: string | null,
): Promise<void> {
  await sql`
    update fields set quarantine = null, redact_spans = false, suggested = null
      ${accepted === null ? sql`` : sql`, provenance = 'declared'`}
    where dataset_id = ${datasetId} and name = ${field}`;
  if (accepted !== null) {
    // A second step: the fields_declared trigger keeps `confirmed` only when the provenance changes with the kind.
    await sql`
      update fields set personal_data = ${accepted}, provenance = 'confirmed'
      where dataset_id = ${datasetId} and name = ${field}`;
  }
}
