import type { Queryable } from '../db/database.ts';

export interface PublicDatasetRow {
  id: string;
  title: string;
  description: string;
  owner_unit: string;
  updated_at: Date;
  label_version: number;
}

/** Datasets that are effectively public (no pending exemption), keyset by id. */
export async function publicDatasets(
  sql: Queryable,
  afterId: string | null,
  limit: number,
): Promise<PublicDatasetRow[]> {
  return sql<PublicDatasetRow[]>`
    select id, title, description, owner_unit, updated_at, label_version
    from datasets
    where effective_classification = 'public' and pending_classification is null
      and (${afterId}::text is null or id > ${afterId})
    order by id
    limit ${limit}`;
}
