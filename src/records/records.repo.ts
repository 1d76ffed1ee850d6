import type { Queryable } from '../db/database.ts';
import type { Fragment } from '../policy/plan-sql.ts';
import type { FieldType, Value } from './record-values.ts';

/** SQL of the records capability (migrations/0004_records.sql). */

export interface NewRecord {
  dataset_id: string;
  unit: string;
  data: Record<string, Value>;
}

/** One multi-row INSERT (COPY FROM STDIN hangs on PGlite). */
export async function insertRecords(sql: Queryable, rows: NewRecord[]): Promise<void> {
  if (rows.length === 0) return;
  await sql`insert into records ${sql(
    rows.map((r) => ({ dataset_id: r.dataset_id, unit: r.unit, data: sql.json(r.data as never) })),
    'dataset_id',
    'unit',
    'data',
  )}`;
}

/**
 * A record as read: its cursor (seq, as text) first, then the values of the fields asked for, in
 * that order: the driver's own row array, so an export allocates nothing more per record.
 */
export type RecordRow = Value[];
export const rowSeq = (row: RecordRow): string => row[0] as string;

/** A field to read: its name and type (values come back as text and are typed here). */
export interface ReadColumn {
  name: string;
  type: FieldType;
}

const numeric = (type: FieldType) => type === 'integer' || type === 'number';

const selectList = (sql: Queryable, columns: ReadColumn[]): Fragment =>
  columns.reduce<Fragment>((acc, c) => sql`${acc}, r.data->>${c.name}::text`, sql`r.seq::text`);

/** Values come back as text; only numbers and booleans need typing. Returns a per-row fix, or null. */
function retyper(columns: ReadColumn[]): ((row: Value[]) => void) | null {
  const retype = columns.flatMap((c, i) =>
    numeric(c.type) || c.type === 'boolean' ? [{ at: i + 1, number: numeric(c.type) }] : [],
  );
  if (!retype.length) return null;
  return (row) => {
    for (const { at, number } of retype) {
      const text = row[at] as string | null;
      if (text !== null) row[at] = number ? Number(text) : text === 'true';
    }
  };
}

/**
 * One keyset page of a dataset's records: after `afterSeq`, already restricted by `where` (row
 * scope and filters, built by read.service.ts), at most `limit` rows. Never fetches rows the
 * caller may not see, and only the fields that leave: omitted fields stay in the database.
 */
export interface PageRequest {
  datasetId: string;
  afterSeq: bigint;
  where: Fragment;
  limit: number;
  columns: ReadColumn[];
  /**
   * Find the rows through the filters' indexes, then order them (few match: see read.service.ts),
   * rather than walk the dataset in order until the page is full (many match).
   */
  indexFirst?: boolean;
}

/**
 * The page's SQL. Walking `(dataset_id, seq)` is the planner's choice for a keyset page whenever it
 * expects the filters to match often; `indexFirst` puts the search below an optimisation fence
 * (`offset 0`, which keeps the outer LIMIT out of the inner plan), so the rows are found through
 * the filters' indexes and only they are sorted.
 */
export function pageQuery(sql: Queryable, page: PageRequest): Fragment {
  const where = sql`r.dataset_id = ${page.datasetId} and r.seq > ${page.afterSeq.toString()}::bigint and ${page.where}`;
  return page.indexFirst
    ? sql`
    select ${selectList(sql, page.columns)}
    from (select r.seq, r.data from records r where ${where} offset 0) r
    order by r.seq
    limit ${page.limit}`
    : sql`
    select ${selectList(sql, page.columns)}
    from records r
    where ${where}
    order by r.seq
    limit ${page.limit}`;
}

/**
 * How many of the dataset's records meet `where`, counting no further than `cap`, in the order of
 * `along` (an indexed expression of `where`): the order makes the planner read that index, where
 * without it a LIMIT would tempt it to walk the dataset (it cannot estimate a range's share).
 */
export function countUpToQuery(
  sql: Queryable,
  datasetId: string,
  where: Fragment,
  cap: number,
  along: Fragment,
): Fragment {
  return sql`
    select count(*)::int as n
    from (select 1 from records r where r.dataset_id = ${datasetId} and ${where} order by ${along} limit ${cap}) m`;
}

export async function countUpTo(
  sql: Queryable,
  datasetId: string,
  where: Fragment,
  cap: number,
  along: Fragment,
): Promise<number> {
  const [row] = (await countUpToQuery(sql, datasetId, where, cap, along)) as unknown as { n: number }[];
  return row!.n;
}

/**
 * Hands each row of the page to `onRow` as the driver decodes it, then drops it: an export
 * renders rows on arrival, so none outlives a young-generation collection. Resolves with the
 * number of rows.
 */
export async function eachRecord(sql: Queryable, page: PageRequest, onRow: (row: RecordRow) => void): Promise<number> {
  const fix = retyper(page.columns);
  let count = 0;
  await pageQuery(sql, page)
    .values()
    .forEach((row) => {
      if (fix) fix(row as RecordRow);
      count++;
      onRow(row as RecordRow);
    });
  return count;
}

/** The page's rows, all at once. */
export async function recordPage(sql: Queryable, page: PageRequest): Promise<RecordRow[]> {
  const rows: RecordRow[] = [];
  await eachRecord(sql, page, (row) => rows.push(row));
  return rows;
}

export async function countRecords(sql: Queryable, datasetId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from records where dataset_id = ${datasetId}`;
  return row!.n;
}

/** The dataset's random pseudonym secret, created on first use (used when PSEUDONYM_KEY is unset). */
export async function pseudonymSecret(sql: Queryable, datasetId: string): Promise<Uint8Array> {
  const fresh = crypto.getRandomValues(new Uint8Array(32));
  await sql`
    insert into record_pseudonym_secrets (dataset_id, secret) values (${datasetId}, ${Buffer.from(fresh)})
    on conflict (dataset_id) do nothing`;
  const [row] = await sql<
    { secret: Uint8Array }[]
  >`select secret from record_pseudonym_secrets where dataset_id = ${datasetId}`;
  return new Uint8Array(row!.secret);
}
