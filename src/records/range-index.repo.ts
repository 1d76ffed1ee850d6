import type { Queryable } from '../db/database.ts';
import type { FieldType } from './record-values.ts';
import { RANGE_INDEX_PREFIX } from './range-filter.ts';

/** SQL of the range indexes' bookkeeping (migrations/0017_records_range_filters.sql). */

/** A field declared range-filterable, with its build's state (null: not started yet). */
export interface DeclaredRange {
  dataset_id: string;
  field: string;
  type: FieldType;
  status: 'building' | 'ready' | 'failed' | null;
  attempts: number;
  /** The build is due again (failed long enough ago, or claimed by a builder that went away). */
  due: boolean;
  /** Claimed more than a minute ago and still building: a builder that stopped leaves this (see takeover). */
  quiet: boolean;
}

/** Every declaration, with whether its build is due: failed ones after `retryMs` times their attempts (at most 64×). */
export async function declaredRanges(sql: Queryable, retryMs: number, staleMs: number): Promise<DeclaredRange[]> {
  return sql<DeclaredRange[]>`
    select f.dataset_id, f.name as field, f.type, i.status, coalesce(i.attempts, 0) as attempts,
      case
        when i.status is null then true
        when i.status = 'failed' then i.updated_at < now() - make_interval(secs => ${retryMs / 1000}::float8 * least(i.attempts, 64))
        when i.status = 'building' then i.updated_at < now() - make_interval(secs => ${staleMs / 1000}::float8)
        else false
      end as due,
      coalesce(i.status = 'building' and i.updated_at < now() - interval '1 minute', false) as quiet
    from fields f left join record_range_indexes i on i.dataset_id = f.dataset_id and i.field = f.name
    where f.filter = 'range'
    order by f.dataset_id, f.position`;
}

/** The range indexes on `records` as the database has them, with whether each is valid (a failed concurrent build leaves an invalid one). */
export async function existingRangeIndexes(sql: Queryable): Promise<Map<string, boolean>> {
  const rows = await sql<{ name: string; valid: boolean }[]>`
    select c.relname as name, x.indisvalid as valid
    from pg_index x join pg_class c on c.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
    where t.relname = 'records' and t.relnamespace = to_regnamespace(current_schema())::oid
      and starts_with(c.relname, ${RANGE_INDEX_PREFIX})`;
  return new Map(rows.map((r) => [r.name, r.valid]));
}

/**
 * Claims a build: only one builder (of any instance) gets `true` for a declaration until it
 * records the outcome or its claim goes stale. `takeover` claims a quiet build (no builder is
 * working on it: see buildInProgress) as long as nobody claimed it since it was read (`attempts`).
 */
export async function claimBuild(
  sql: Queryable,
  d: { dataset_id: string; field: string; attempts: number },
  indexName: string,
  staleMs: number,
  takeover = false,
): Promise<boolean> {
  const rows = await sql`
    insert into record_range_indexes as i (dataset_id, field, index_name, status, attempts)
    values (${d.dataset_id}, ${d.field}, ${indexName}, 'building', 1)
    on conflict (dataset_id, field) do update set status = 'building', error = null,
      attempts = i.attempts + 1, updated_at = now()
    where i.status <> 'building' or i.updated_at < now() - make_interval(secs => ${staleMs / 1000}::float8)
      or (${takeover} and i.attempts = ${d.attempts})
    returning 1`;
  return rows.length === 1;
}

/** Whether a CREATE INDEX CONCURRENTLY of this index is running in any session. */
export async function buildInProgress(sql: Queryable, indexName: string): Promise<boolean> {
  const rows = await sql`
    select 1 from pg_stat_progress_create_index p join pg_class c on c.oid = p.index_relid
    where c.relname = ${indexName}`;
  return rows.length > 0;
}

export async function recordOutcome(
  sql: Queryable,
  d: { dataset_id: string; field: string },
  outcome: { status: 'ready' } | { status: 'failed'; error: string },
): Promise<void> {
  await sql`
    update record_range_indexes set status = ${outcome.status},
      error = ${outcome.status === 'failed' ? outcome.error.slice(0, 1000) : null}, updated_at = now()
    where dataset_id = ${d.dataset_id} and field = ${d.field}`;
}

/** Marks an index found valid as ready (built before a restart, or by another instance). */
export async function markReady(sql: Queryable, d: { dataset_id: string; field: string }, indexName: string) {
  await sql`
    insert into record_range_indexes (dataset_id, field, index_name, status)
    values (${d.dataset_id}, ${d.field}, ${indexName}, 'ready')
    on conflict (dataset_id, field) do update set status = 'ready', error = null, updated_at = now()`;
}

/** Forgets the bookkeeping of declarations that are gone (their indexes are dropped first). */
export async function forgetUndeclared(sql: Queryable): Promise<void> {
  await sql`
    delete from record_range_indexes i
    where not exists (
      select 1 from fields f where f.dataset_id = i.dataset_id and f.name = i.field and f.filter = 'range')`;
}

/** The fields of a dataset whose range index is built and valid: reads may lean on them. */
export async function readyRangeFields(sql: Queryable, datasetId: string): Promise<Set<string>> {
  const rows = await sql<{ field: string }[]>`
    select i.field from record_range_indexes i join fields f on f.dataset_id = i.dataset_id and f.name = i.field
    where i.dataset_id = ${datasetId} and i.status = 'ready' and f.filter = 'range'`;
  return new Set(rows.map((r) => r.field));
}
