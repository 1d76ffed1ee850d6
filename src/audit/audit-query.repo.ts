import type postgres from 'postgres';
import type { Queryable } from '../db/database.ts';
import type { AuditScope } from './audit.access.ts';
import type { DbEntry } from './audit.repo.ts';
import { conditionToSql } from '../policy/plan-sql.ts';

export interface EntryFilter {
  principal?: string | undefined;
  unit?: string | undefined;
  dataset?: string | undefined;
  action?: string | undefined;
  effect?: 'allow' | 'deny' | undefined;
  event?: string | undefined;
  purpose?: string | undefined;
  classification?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  requestId?: string | undefined;
}

type Fragment = postgres.PendingQuery<postgres.Row[]>;

/** `unit` within `ancestor` (the SQL form of isWithin). */
function within(sql: Queryable, column: 'principal_unit' | 'resource_unit', ancestor: string): Fragment {
  if (ancestor === 'RI') return sql`${sql(column)} is not null`;
  return sql`(${sql(column)} = ${ancestor} or ${sql(column)} like ${ancestor + '.%'})`;
}

const touchesUnit = (sql: Queryable, unit: string) =>
  unit === 'RI' ? sql`true` : sql`(${within(sql, 'principal_unit', unit)} or ${within(sql, 'resource_unit', unit)})`;

/**
 * The policy's condition on AuditEntry as SQL: an entry is in scope when the condition holds with
 * `unit` taken as its principal's unit, or as its resource's unit. An entry without a unit belongs
 * to the body as a whole (`RI`), so a national grant covers it and a regional one does not.
 */
export function scopeClause(sql: Queryable, scope: AuditScope): Fragment {
  if (scope.kind === 'all') return sql`true`;
  const side = (column: 'principal_unit' | 'resource_unit') =>
    conditionToSql(sql, scope.condition, { unit: sql`coalesce(${sql(column)}, 'RI')`, datasetId: sql`dataset_id` });
  return sql`(${side('principal_unit')} or ${side('resource_unit')})`;
}

/** The WHERE clause for a scope and filters; values only as parameters. */
export function whereClause(sql: Queryable, scope: AuditScope, f: EntryFilter, extra: Fragment[] = []): Fragment {
  const c: Fragment[] = [...extra];
  if (scope.kind !== 'all') c.push(scopeClause(sql, scope));
  if (f.principal) c.push(sql`principal_sub = ${f.principal}`);
  if (f.unit) c.push(touchesUnit(sql, f.unit));
  if (f.dataset) c.push(sql`dataset_id = ${f.dataset}`);
  if (f.action) c.push(sql`action = ${f.action}`);
  if (f.effect) c.push(sql`effect = ${f.effect}`);
  if (f.event) c.push(sql`event = ${f.event}`);
  if (f.purpose) c.push(sql`purpose = ${f.purpose}`);
  if (f.classification) c.push(sql`classification = ${f.classification}`);
  if (f.from) c.push(sql`at >= ${new Date(f.from)}`);
  if (f.to) c.push(sql`at < ${new Date(f.to)}`);
  if (f.requestId) c.push(sql`request_id = ${f.requestId}`);
  return c.reduce((acc, x) => sql`${acc} and ${x}`, sql`true`);
}

/** One page in chain order after `afterSeq` (keyset on seq: index-backed, no server-side state). */
export async function findEntries(
  sql: Queryable,
  where: Fragment,
  afterSeq: number,
  limit: number,
): Promise<DbEntry[]> {
  return sql<DbEntry[]>`select * from audit_entry where ${where} and seq > ${afterSeq} order by seq limit ${limit}`;
}

export interface DisclosureDb {
  period: Date;
  principal_sub: string | null;
  principal_unit: string | null;
  dataset_id: string | null;
  purpose: string | null;
  fields_whole: string[];
  fields_masked: string[];
  disclosures: string;
  rows: string | null;
  first_at: Date;
  last_at: Date;
}

/** Disclosures of whole or masked fields, grouped by period, recipient, dataset, purpose and field set. */
export async function disclosureReport(
  sql: Queryable,
  where: Fragment,
  period: 'day' | 'month' | 'year',
): Promise<DisclosureDb[]> {
  return sql<DisclosureDb[]>`
    select date_trunc(${period}, at at time zone 'UTC') as period, principal_sub, principal_unit, dataset_id, purpose,
           fields_whole, fields_masked, count(*) as disclosures, sum(row_count) as rows,
           min(at) as first_at, max(at) as last_at
    from audit_entry
    where ${where} and event = 'disclosure' and effect = 'allow'
      and (cardinality(fields_whole) > 0 or cardinality(fields_masked) > 0)
    group by 1, principal_sub, principal_unit, dataset_id, purpose, fields_whole, fields_masked
    order by 1, principal_sub, dataset_id, purpose
    limit 10000`;
}

export interface DisclosureSeriesDb {
  period: Date;
  whole: string;
  masked: string;
}

/** Disclosure counts per period: with at least one field whole, and with fields only masked. */
export async function disclosureSeries(
  sql: Queryable,
  where: Fragment,
  period: 'day' | 'month' | 'year',
): Promise<DisclosureSeriesDb[]> {
  return sql<DisclosureSeriesDb[]>`
    select date_trunc(${period}, at at time zone 'UTC') as period,
           count(*) filter (where cardinality(fields_whole) > 0) as whole,
           count(*) filter (where cardinality(fields_whole) = 0) as masked
    from audit_entry
    where ${where} and event = 'disclosure' and effect = 'allow'
      and (cardinality(fields_whole) > 0 or cardinality(fields_masked) > 0)
    group by 1
    order by 1`;
}

export interface DeniedDb {
  principal_sub: string | null;
  principal_kind: string;
  principal_unit: string | null;
  attempts: string;
  datasets: string;
  actions: string[];
  first_at: Date;
  last_at: Date;
}

/** Denied attempts per principal, most first (possible probing). */
export async function deniedReport(sql: Queryable, where: Fragment): Promise<DeniedDb[]> {
  return sql<DeniedDb[]>`
    select principal_sub, principal_kind, principal_unit, count(*) as attempts,
           count(distinct dataset_id) as datasets, array_agg(distinct action order by action) as actions,
           min(at) as first_at, max(at) as last_at
    from audit_entry
    where ${where} and effect = 'deny'
    group by principal_sub, principal_kind, principal_unit
    order by count(*) desc, principal_sub
    limit 10000`;
}
