import type { Queryable } from '../db/database.ts';

/** SQL of the register of processing purposes (migrations/0008_registers.sql). */
export interface PurposeRow {
  id: string;
  description: string;
  lawful_basis: string;
  datasets: string[];
  categories: string[];
  recipients: string[];
  retention: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = (sql: Queryable) =>
  sql`id, description, lawful_basis, datasets, categories, recipients, retention, created_at, updated_at`;

export async function listPurposes(sql: Queryable): Promise<PurposeRow[]> {
  return sql<PurposeRow[]>`select ${COLUMNS(sql)} from purposes order by id`;
}

export async function findPurpose(sql: Queryable, id: string, forUpdate = false): Promise<PurposeRow | undefined> {
  const [row] = forUpdate
    ? await sql<PurposeRow[]>`select ${COLUMNS(sql)} from purposes where id = ${id} for update`
    : await sql<PurposeRow[]>`select ${COLUMNS(sql)} from purposes where id = ${id}`;
  return row;
}

export interface PurposeValues {
  description: string;
  lawfulBasis: string;
  datasets: string[];
  categories: string[];
  recipients: string[];
  retention: string | null;
}

/** Inserts a purpose; false when the id is taken. */
export async function insertPurpose(sql: Queryable, id: string, p: PurposeValues, by: string): Promise<boolean> {
  const rows = await sql`
    insert into purposes (id, description, lawful_basis, datasets, categories, recipients, retention, created_by)
    values (${id}, ${p.description}, ${p.lawfulBasis}, ${sql.json(p.datasets)}, ${sql.json(p.categories)},
      ${sql.json(p.recipients)}, ${p.retention}, ${by})
    on conflict (id) do nothing returning id`;
  return rows.length === 1;
}

export async function updatePurpose(sql: Queryable, id: string, p: PurposeValues): Promise<void> {
  await sql`
    update purposes set description = ${p.description}, lawful_basis = ${p.lawfulBasis},
      datasets = ${sql.json(p.datasets)}, categories = ${sql.json(p.categories)},
      recipients = ${sql.json(p.recipients)}, retention = ${p.retention}, updated_at = now()
    where id = ${id}`;
}

export interface ProcessedDatasetRow {
  id: string;
  title: string;
  owner_unit: string;
  categories: string[];
}

/** Datasets with their personal-data categories, keyset by id (the record of processing's rows). */
export async function datasetsWithCategories(
  sql: Queryable,
  after: string | undefined,
  limit: number,
): Promise<ProcessedDatasetRow[]> {
  return sql<ProcessedDatasetRow[]>`
    select d.id, d.title, d.owner_unit,
      coalesce((select jsonb_agg(distinct f.personal_data order by f.personal_data) from fields f
        where f.dataset_id = d.id and f.personal_data <> 'none'), '[]'::jsonb) as categories
    from datasets d
    where true ${after !== undefined ? sql`and d.id > ${after}` : sql``}
    order by d.id limit ${limit + 1}`;
}
