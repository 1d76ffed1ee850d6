import type { Sql } from '../db/database.ts';
import { ART18_COLUMN, type FieldRow } from './catalog.repo.ts';
import type { DatasetAttributeRow } from './catalog.view.ts';

/** The dataset columns decisions use (catalog.view.ts `datasetAttributes`, `fieldAttributes`). */
export type SnapshotDatasetRow = DatasetAttributeRow;
export type SnapshotFieldRow = Pick<
  FieldRow,
  'dataset_id' | 'name' | 'type' | 'personal_data' | 'classification' | 'quarantine' | 'redact_spans' | 'art18'
>;
/** What decisions need of a registered purpose (migrations/0008_registers.sql). */
export interface SnapshotPurposeRow {
  id: string;
  lawful_basis: string;
  datasets: string[];
  categories: string[];
}

/** An exemption record open (in force, or pending: dik_no null), as refusals cite it. */
export interface SnapshotExemptionRow {
  dataset_id: string;
  field_name: string | null;
  dik_no: string | null;
  grounds: string[];
  statute: string | null;
}

export async function readExemptions(sql: Sql): Promise<SnapshotExemptionRow[]> {
  return sql<SnapshotExemptionRow[]>`
    select dataset_id, field_name, dik_no, grounds, statute from exemptions where status in ('pending', 'in_force')`;
}

/** The register of processing purposes, as decisions need it. */
export async function readPurposes(sql: Sql): Promise<SnapshotPurposeRow[]> {
  return sql<SnapshotPurposeRow[]>`select id, lawful_basis, datasets, categories from purposes`;
}

/** The global catalog version (migrations/0007_catalog_version.sql), as text (a bigint). */
export async function readCatalogVersion(sql: Sql): Promise<string> {
  const [row] = await sql<{ version: string }[]>`select version::text as version from catalog_version`;
  if (!row) throw new Error('catalog_version has no row');
  return row.version;
}

/**
 * Every dataset and field with the version they are at, read in one snapshot of the database
 * (repeatable read), so the version names exactly this state of the catalog.
 */
export async function readWholeCatalog(sql: Sql): Promise<{
  version: string;
  datasets: SnapshotDatasetRow[];
  fields: Map<string, SnapshotFieldRow[]>;
  purposes: SnapshotPurposeRow[];
  exemptions: SnapshotExemptionRow[];
}> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const [v] = await tx<{ version: string }[]>`select version::text as version from catalog_version`;
    if (!v) throw new Error('catalog_version has no row');
    const datasets = await tx<SnapshotDatasetRow[]>`
      select id, owner_unit, effective_classification, pending_classification, label_version, steward, source_system
      from datasets`;
    const rows = await tx<SnapshotFieldRow[]>`
      select f.dataset_id, f.name, f.type, f.personal_data, f.classification, f.quarantine, f.redact_spans,
        ${ART18_COLUMN(tx)}
      from fields f order by f.dataset_id, f.position`;
    const fields = new Map<string, SnapshotFieldRow[]>();
    for (const f of rows) {
      const list = fields.get(f.dataset_id);
      if (list) list.push(f);
      else fields.set(f.dataset_id, [f]);
    }
    const purposes = await tx<SnapshotPurposeRow[]>`select id, lawful_basis, datasets, categories from purposes`;
    const exemptions = await tx<SnapshotExemptionRow[]>`
      select dataset_id, field_name, dik_no, grounds, statute from exemptions where status in ('pending', 'in_force')`;
    return {
      version: v.version,
      datasets: [...datasets],
      fields,
      purposes: [...purposes],
      exemptions: [...exemptions],
    };
  });
}
