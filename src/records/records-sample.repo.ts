import type { Queryable } from '../db/database.ts';

/** The records capability's read port for detection (src/detection): a bounded sample of a dataset. */

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
