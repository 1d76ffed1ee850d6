import type postgres from 'postgres';
import type { Queryable, Sql } from '../db/database.ts';
import type { AuditScope } from './audit.access.ts';
import type { DbEntry } from './audit.repo.ts';
import { conditionToSql } from '../policy/plan-sql.ts';
import { NATIONAL_UNIT } from '../shared/unit-code.ts';
import { ROLLUP_CANDIDATE, ROLLUP_COUNTED, ROLLUP_PROJECTION } from './audit.rollup.ts';

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

type UnitSide = 'principal_unit' | 'resource_unit';

/**
 * An entry's unit on one side, as the indexes of migration 0011 hold it: an entry without a unit
 * belongs to the body as a whole (`RI`); the C collation makes `$within` a range.
 */
const unitOf = (sql: Queryable, side: UnitSide): Fragment => sql`(coalesce(${sql(side)}, 'RI') collate "C")`;

/** Entries touching `unit` from either side (the SQL form of isWithin, as index ranges). */
function touchesUnit(sql: Queryable, unit: string): Fragment {
  if (unit === NATIONAL_UNIT) return sql`true`;
  const within = (side: UnitSide) =>
    sql`(${unitOf(sql, side)} = ${unit} or (${unitOf(sql, side)} >= ${unit + '.'} and ${unitOf(sql, side)} < ${unit + '/'}))`;
  return sql`(${within('principal_unit')} or ${within('resource_unit')})`;
}

/**
 * The policy's condition on AuditEntry as SQL: an entry is in scope when the condition holds with
 * `unit` taken as its principal's unit, or as its resource's unit. An entry without a unit belongs
 * to the body as a whole (`RI`), so a national grant covers it and a regional one does not. Works
 * on audit_entry and on audit_rollup (same column names).
 */
export function scopeClause(sql: Queryable, scope: AuditScope): Fragment {
  if (scope.kind === 'all') return sql`true`;
  const side = (column: UnitSide) =>
    conditionToSql(
      sql,
      scope.condition,
      { unit: unitOf(sql, column), datasetId: sql`dataset_id` },
      { withinAsRange: true },
    );
  return sql`(${side('principal_unit')} or ${side('resource_unit')})`;
}

// The largest seq: the bound when no minute at or after a time holds entries.
const SEQ_MAX = '9223372036854775807';

/**
 * `at >= from` as a seq bound too: the first seq of the first minute at or after `from` holding
 * entries (audit_minute; `at` grows with seq). The map holds every minute up to the catch-up job's
 * mark, so when no mapped minute is that late, every entry at or after `from` is past the mark.
 * The bound lets the primary key start there; the time predicate stays, so the result is exact.
 */
const seqFrom = (sql: Queryable, from: Date): Fragment =>
  sql`seq >= coalesce((select first_seq from audit_minute where minute >= date_trunc('minute', ${from}::timestamptz)
    order by minute limit 1), (select seq + 1 from audit_rollup_mark))`;

/** `at < to` as a seq bound too: below the first seq of any later minute. */
const seqTo = (sql: Queryable, to: Date): Fragment =>
  sql`seq < coalesce((select first_seq from audit_minute where minute > date_trunc('minute', ${to}::timestamptz)
    order by minute limit 1), ${SEQ_MAX}::int8)`;

/**
 * The WHERE clause of audit_entry for a scope and filters; values only as parameters. The rare
 * filters repeat the predicate of their partial index (migration 0011) so the planner can use it
 * whatever the parameter's value.
 */
export function whereClause(sql: Queryable, scope: AuditScope, f: EntryFilter, extra: Fragment[] = []): Fragment {
  const c: Fragment[] = [...extra];
  if (scope.kind !== 'all') c.push(scopeClause(sql, scope));
  if (f.principal) c.push(sql`principal_sub = ${f.principal}`);
  if (f.unit) c.push(touchesUnit(sql, f.unit));
  if (f.dataset) c.push(sql`dataset_id = ${f.dataset}`);
  if (f.action) c.push(sql`action = ${f.action}`);
  if (f.effect) c.push(f.effect === 'deny' ? sql`effect = 'deny'` : sql`effect = 'allow'`);
  if (f.event)
    c.push(
      f.event === 'label_change' || f.event === 'catalog_change'
        ? sql`event = ${f.event} and event in ('label_change', 'catalog_change')`
        : sql`event = ${f.event}`,
    );
  if (f.purpose) c.push(sql`purpose = ${f.purpose} and purpose is not null`);
  if (f.classification)
    c.push(f.classification === 'exempt' ? sql`classification = 'exempt'` : sql`classification = ${f.classification}`);
  if (f.from) {
    const from = new Date(f.from);
    c.push(sql`at >= ${from}`, seqFrom(sql, from));
  }
  if (f.to) {
    const to = new Date(f.to);
    c.push(sql`at < ${to}`, seqTo(sql, to));
  }
  if (f.requestId) c.push(sql`request_id = ${f.requestId}`);
  return c.reduce((acc, x) => sql`${acc} and ${x}`, sql`true`);
}

/** A report's period: whole UTC days, `to` exclusive. */
export interface ReportPeriod {
  from: Date;
  to: Date;
}

/** A report's selection: scope and filters (on the rollup's columns) and its period. */
export interface ReportSelection {
  where: Fragment;
  period: ReportPeriod;
  /**
   * The same selection on the per-principal denied level (audit_denied_month), when it can answer
   * it: no scope but the whole log, no unit or dataset filter (its rows keep neither).
   */
  perPrincipal?: Fragment | undefined;
  /**
   * A time no entry after the catch-up job's mark is older than (the mark's own entry's; `at` grows
   * with seq), read just before the report: a constant the planner prunes partitions with. The
   * report's own statement still bounds the tail by the mark it reads (see reportRows).
   */
  tailFrom?: Date | undefined;
  /**
   * A unit scope or `unit=` filter: a small share of the log (a district holds a few hundredths), read
   * through the unit indexes of migration 0018 and sorted, rather than streamed in report order.
   */
  narrow?: boolean | undefined;
}

/** `sel` with its tail bound (tailFrom) read now. */
export async function withTailBound(sql: Queryable, sel: ReportSelection): Promise<ReportSelection> {
  const [m] = await sql<{ at: Date | null }[]>`
    select (select e.at from audit_entry e where e.seq = m.seq limit 1) as at from audit_rollup_mark m`;
  return m?.at ? { ...sel, tailFrom: m.at } : sel;
}

/** The scope, filters and period of a report (the rows are read by reportRows). */
export function rollupWhere(
  sql: Queryable,
  scope: AuditScope,
  f: { principal?: string | undefined; dataset?: string | undefined; unit?: string | undefined },
  period: ReportPeriod,
): ReportSelection {
  const c: Fragment[] = [];
  if (scope.kind !== 'all') c.push(scopeClause(sql, scope));
  if (f.principal) c.push(sql`principal_sub = ${f.principal}`);
  if (f.unit) c.push(touchesUnit(sql, f.unit));
  if (f.dataset) c.push(sql`dataset_id = ${f.dataset}`);
  const perPrincipal =
    scope.kind === 'all' && !f.unit && !f.dataset
      ? f.principal
        ? sql`principal_sub = ${f.principal}`
        : sql`true`
      : undefined;
  return {
    where: c.reduce((acc, x) => sql`${acc} and ${x}`, sql`true`),
    period,
    perPrincipal,
    narrow: scope.kind !== 'all' || !!f.unit,
  };
}

const firstOfMonth = (d: Date, add = 0) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1));

/** The whole UTC months inside a period, [from, to), if any. */
export function wholeMonths(p: ReportPeriod): { from: Date; to: Date } | undefined {
  const from = p.from.getTime() === firstOfMonth(p.from).getTime() ? p.from : firstOfMonth(p.from, 1);
  const to = firstOfMonth(p.to);
  return from < to ? { from, to } : undefined;
}

const ROLLUP_COLUMNS = `kind, principal_sub, principal_kind, principal_unit, resource_unit, dataset_id, purpose, action,
  personal_whole, personal_masked, entries, rows, first_at, last_at`;

/**
 * A report's rows of one kind over its period, exact and current, read in one statement (one
 * snapshot): the monthly rollup for the period's whole months (`monthly`; `daily`: none, for
 * reports per day; `edges`: none, the caller reads the whole months elsewhere), the daily rollup for
 * the days at its edges, both holding the entries up to the catch-up job's mark,
 * and the entries after the mark aggregated from the log (bounded by seq: the job's lag). Each row
 * has the daily rollup's columns (`day`: its day, or its month's first day).
 */
export function reportRows(
  sql: Queryable,
  kind: 'disclosure' | 'denied',
  sel: ReportSelection,
  level: 'daily' | 'monthly' | 'edges',
): Fragment {
  const { period } = sel;
  const days = (from: Date, to: Date) =>
    sql`select day, ${sql.unsafe(ROLLUP_COLUMNS)} from audit_rollup
      where kind = ${kind} and day >= ${from}::date and day < ${to}::date`;
  const months = level === 'daily' ? undefined : wholeMonths(period);
  const parts: Fragment[] = [];
  if (!months) parts.push(days(period.from, period.to));
  else {
    if (period.from < months.from) parts.push(days(period.from, months.from));
    if (level === 'monthly')
      parts.push(sql`select month as day, ${sql.unsafe(ROLLUP_COLUMNS)} from audit_rollup_month
        where kind = ${kind} and month >= ${months.from}::date and month < ${months.to}::date`);
    if (months.to < period.to) parts.push(days(months.to, period.to));
  }
  parts.push(sql`select day, kind, principal_sub, principal_kind, principal_unit, resource_unit, dataset_id, purpose,
      action, pw as personal_whole, pm as personal_masked, 1::int8 as entries, coalesce(row_count, 0)::int8 as rows,
      at as first_at, at as last_at
    from (select ${sql.unsafe(ROLLUP_PROJECTION)} from audit_entry e
      where e.seq > (select seq from audit_rollup_mark) and e.at >= ${period.from} and e.at < ${period.to}
        and e.at >= ${sel.tailFrom ?? period.from}
        and ${sql.unsafe(ROLLUP_CANDIDATE)}) t
    where kind = ${kind} and ${sql.unsafe(ROLLUP_COUNTED)}`);
  const union = parts.reduce((acc, x) => sql`${acc} union all ${x}`);
  return sql`(${union}) r where ${sel.where}`;
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

/** Most rows of a report. */
export const REPORT_ROWS = 10_000;

/** Where a page of the disclosures report starts: after this group, in the report's order. */
export interface DisclosureKey {
  /** The group's period (its first day, UTC midnight). */
  period: Date;
  principal: string | null;
  dataset: string | null;
  purpose: string | null;
  unit: string | null;
  whole: string[];
  masked: string[];
}

/** The group key of a report row (the cursor of the page it ends). */
export const disclosureKeyOf = (r: DisclosureDb): DisclosureKey => ({
  period: r.period,
  principal: r.principal_sub,
  dataset: r.dataset_id,
  purpose: r.purpose,
  unit: r.principal_unit,
  whole: r.fields_whole,
  masked: r.fields_masked,
});

/**
 * The disclosures report's order after its period: recipient, dataset, purpose (as it always was),
 * then the recipient's unit and the field lists, so that every group has a place of its own (a
 * keyset). Each nullable column as (is null, value or ''): the same order as `col nulls last`, but
 * without nulls, so a row comparison can start an index scan at a cursor. Migration 0015 indexes
 * the first eight per month and per day (the field lists, few per recipient and dataset, are sorted
 * on top of that order). Each branch of a report outputs them (DISCLOSURE_KEY) and is sorted by
 * them, so that the report merges its branches in that order.
 */
const DISCLOSURE_KEY = `principal_sub is null as o_sub_null, coalesce(principal_sub, '') as o_sub,
  dataset_id is null as o_dataset_null, coalesce(dataset_id, '') as o_dataset,
  purpose is null as o_purpose_null, coalesce(purpose, '') as o_purpose,
  principal_unit is null as o_unit_null, coalesce(principal_unit, '') as o_unit`;
const DISCLOSURE_ORDER = `o_sub_null, o_sub, o_dataset_null, o_dataset, o_purpose_null, o_purpose, o_unit_null, o_unit,
  personal_whole, personal_masked`;

/** The cursor's key as the values of DISCLOSURE_ORDER. */
function orderValues(sql: Queryable, k: DisclosureKey): Fragment {
  const pair = (v: string | null) => sql`${v === null}::boolean, ${v ?? ''}::text`;
  // The lists go as JSON text: one plain parameter each, read back in order.
  const list = (xs: string[]) =>
    sql`array(select x from jsonb_array_elements_text(${JSON.stringify(xs)}::text::jsonb) with ordinality t(x, o) order by o)`;
  return sql`${pair(k.principal)}, ${pair(k.dataset)}, ${pair(k.purpose)}, ${pair(k.unit)}, ${list(k.whole)}, ${list(k.masked)}`;
}

/** A report's parts, each one statement: the whole period by day, else a calendar month or year each. */
export function reportParts(p: ReportPeriod, period: 'day' | 'month' | 'year'): ReportPeriod[] {
  if (period === 'day') return [p];
  const parts: ReportPeriod[] = [];
  for (let from = p.from; from < p.to;) {
    const next = period === 'month' ? firstOfMonth(from, 1) : new Date(Date.UTC(from.getUTCFullYear() + 1, 0, 1));
    const to = next < p.to ? next : p.to;
    parts.push({ from, to });
    from = to;
  }
  return parts;
}

/** The first day of the period (day, month, year) holding `d`. */
const periodStart = (d: Date, period: 'day' | 'month' | 'year') =>
  period === 'day' ? d : new Date(Date.UTC(d.getUTCFullYear(), period === 'month' ? d.getUTCMonth() : 0, 1));

const DAY_MS = 86_400_000;
/** A UTC day as the database's `date` reads it, whatever the session's time zone. */
const dateText = (d: Date) => d.toISOString().slice(0, 10);
const DISCLOSURE_COLUMNS = `principal_sub, principal_unit, resource_unit, dataset_id, purpose, personal_whole,
  personal_masked, entries, rows, first_at, last_at`;

/**
 * The disclosure rows of a part, exact and current, read in one statement (one snapshot): by day,
 * the daily rollup's range (in day and DISCLOSURE_ORDER through its index); by month or year,
 * each whole month's monthly rows and each edge day's daily rows as a branch of its own (each in
 * DISCLOSURE_ORDER through its index, so the branches merge without sorting the period), and the
 * entries after the catch-up job's mark from the log (the job's lag, sorted).
 */
function disclosureRows(sql: Queryable, sel: ReportSelection, period: 'day' | 'month' | 'year'): Fragment {
  const p = sel.period;
  const day = (d: Date) => sql`select day, ${sql.unsafe(DISCLOSURE_COLUMNS)} from audit_rollup
    where kind = 'disclosure' and day = ${dateText(d)}::date`;
  const days = (from: Date, to: Date) => {
    const out: Fragment[] = [];
    for (let d = from; d < to; d = new Date(d.getTime() + DAY_MS)) out.push(day(d));
    return out;
  };
  const parts: Fragment[] = [];
  const months = period === 'day' ? undefined : wholeMonths(p);
  if (period === 'day')
    parts.push(sql`select day, ${sql.unsafe(DISCLOSURE_COLUMNS)} from audit_rollup
      where kind = 'disclosure' and day >= ${dateText(p.from)}::date and day < ${dateText(p.to)}::date`);
  else if (!months) parts.push(...days(p.from, p.to));
  else {
    parts.push(...days(p.from, months.from));
    for (let m = months.from; m < months.to; m = firstOfMonth(m, 1))
      parts.push(sql`select month as day, ${sql.unsafe(DISCLOSURE_COLUMNS)} from audit_rollup_month
        where kind = 'disclosure' and month = ${dateText(m)}::date`);
    parts.push(...days(months.to, p.to));
  }
  parts.push(sql`select day, principal_sub, principal_unit, resource_unit, dataset_id, purpose, pw as personal_whole,
      pm as personal_masked, 1::int8 as entries, coalesce(row_count, 0)::int8 as rows, at as first_at, at as last_at
    from (select ${sql.unsafe(ROLLUP_PROJECTION)} from audit_entry e
      where e.seq > (select seq from audit_rollup_mark) and e.at >= ${p.from} and e.at < ${p.to}
        and e.at >= ${sel.tailFrom ?? p.from}
        and ${sql.unsafe(ROLLUP_CANDIDATE)}) t
    where kind = 'disclosure' and ${sql.unsafe(ROLLUP_COUNTED)}`);
  const ordered = (x: Fragment) =>
    sql`(select day, ${sql.unsafe(DISCLOSURE_COLUMNS)}, ${sql.unsafe(DISCLOSURE_KEY)} from (${x}) b
      order by ${period === 'day' ? sql`day, ` : sql``}${sql.unsafe(DISCLOSURE_ORDER)})`;
  return parts.map(ordered).reduce((acc, x) => sql`${acc} union all ${x}`);
}

/**
 * Personal-data disclosures from the rollups, grouped by period, recipient, dataset, purpose and the
 * personal fields whole and masked: the first `max` groups in that order after `after` (a keyset
 * page). By month or year, part after part (each one statement, exact as of its reading: later
 * entries fall in later parts), stopping once the page is full.
 */
export async function disclosureReport(
  sql: Sql,
  sel: ReportSelection,
  period: 'day' | 'month' | 'year',
  max = REPORT_ROWS,
  after?: DisclosureKey,
): Promise<DisclosureDb[]> {
  sel = await withTailBound(sql, sel);
  return sql.begin(async (tx) => {
    await planDisclosureReport(tx, sel);
    const out: DisclosureDb[] = [];
    for (const part of reportParts(sel.period, period)) {
      const start = periodStart(part.from, period);
      if (after && period !== 'day' && start < after.period) continue;
      const from = after && (period === 'day' || start.getTime() === after.period.getTime()) ? after : undefined;
      const q = disclosureReportQuery(tx, { ...sel, period: part }, period, max - out.length, from);
      out.push(...(await tx<DisclosureDb[]>`${q}`));
      if (out.length >= max) break;
    }
    return out;
  });
}

/**
 * The planner costs each branch of a report as if all its rows were read (a subquery gets no share
 * of the LIMIT above it), so it would sort each month whole; a page reads only its own rows through
 * the indexes of migration 0015 when sorting is the last resort. A narrow report (a unit's) keeps
 * sorting: walking the whole year in report order to find a district's few rows costs more than
 * reading them by unit and sorting them. Without sorting the cost passes JIT's threshold, which
 * would spend longer compiling than the page takes. For this transaction only.
 */
export async function streamedPlan(tx: Queryable, stream = true): Promise<void> {
  await tx`select set_config('enable_sort', ${stream ? 'off' : 'on'}, true), set_config('jit', 'off', true)`;
}

/** How the disclosures report over `sel` is planned: streamed, unless it is narrow (see streamedPlan). */
export const planDisclosureReport = (tx: Queryable, sel: ReportSelection) => streamedPlan(tx, !sel.narrow);

/**
 * The disclosures report's statement over one part of its period (reportParts; for EXPLAIN too):
 * the part's rows merged in DISCLOSURE_ORDER, grouped as they stream, cut at `limit`, so a page
 * reads about its own rows whatever the period holds.
 */
export function disclosureReportQuery(
  sql: Queryable,
  sel: ReportSelection,
  period: 'day' | 'month' | 'year',
  limit: number,
  after?: DisclosureKey,
): Fragment {
  const byDay = period === 'day';
  const order = () => sql.unsafe(DISCLOSURE_ORDER);
  const keyset = after
    ? byDay
      ? sql`and (day, ${order()}) > (${dateText(after.period)}::date, ${orderValues(sql, after)})`
      : sql`and (${order()}) > (${orderValues(sql, after)})`
    : sql``;
  const label = byDay ? sql`day::timestamp` : sql`${dateText(periodStart(sel.period.from, period))}::date::timestamp`;
  return sql`
    select ${label} as period, min(principal_sub) as principal_sub, min(principal_unit) as principal_unit,
           min(dataset_id) as dataset_id, min(purpose) as purpose, personal_whole as fields_whole,
           personal_masked as fields_masked, sum(entries) as disclosures, sum(rows) as rows,
           min(first_at) as first_at, max(last_at) as last_at
    from (${disclosureRows(sql, sel, period)}) r
    where ${sel.where} ${keyset}
    group by ${byDay ? sql`day, ` : sql``}${order()}
    order by ${byDay ? sql`day, ` : sql``}${order()}
    limit ${limit}`;
}

export interface DisclosureSeriesDb {
  period: Date;
  whole: string;
  masked: string;
}

/** Personal-data disclosures per period: with a personal field whole, and with personal fields only masked. */
export async function disclosureSeries(
  sql: Queryable,
  sel: ReportSelection,
  period: 'day' | 'month' | 'year',
): Promise<DisclosureSeriesDb[]> {
  sel = await withTailBound(sql, sel);
  return sql<DisclosureSeriesDb[]>`
    select date_trunc(${period}, day::timestamp) as period,
           coalesce(sum(entries) filter (where cardinality(personal_whole) > 0), 0) as whole,
           coalesce(sum(entries) filter (where cardinality(personal_whole) = 0), 0) as masked
    from ${reportRows(sql, 'disclosure', sel, period === 'day' ? 'daily' : 'monthly')}
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

/** Denied attempts per principal from the rollups, most first (possible probing). */
export async function deniedReport(sql: Queryable, sel: ReportSelection, max = REPORT_ROWS): Promise<DeniedDb[]> {
  return sql<DeniedDb[]>`${deniedReportQuery(sql, await withTailBound(sql, sel), max)}`;
}

/**
 * The denied-attempts report's statement (for EXPLAIN too). Rows per principal with their datasets
 * and actions as arrays: from the per-principal monthly level for whole months where it can answer
 * (a row per principal and month), else from the detailed rollups; each principal's distinct
 * datasets and actions are counted from the union of its arrays.
 */
export function deniedReportQuery(sql: Queryable, sel: ReportSelection, max = REPORT_ROWS): Fragment {
  const months = sel.perPrincipal ? wholeMonths(sel.period) : undefined;
  const detail = (level: 'monthly' | 'edges') =>
    sql`select principal_sub, principal_kind, principal_unit, entries as attempts,
      case when dataset_id is null then '{}'::text[] else array[dataset_id] end as datasets, array[action] as actions,
      first_at, last_at
    from ${reportRows(sql, 'denied', sel, level)}`;
  const source =
    months && sel.perPrincipal
      ? sql`select principal_sub, principal_kind, principal_unit, attempts, datasets, actions, first_at, last_at
          from audit_denied_month
          where month >= ${months.from}::date and month < ${months.to}::date and ${sel.perPrincipal}
        union all ${detail('edges')}`
      : detail('monthly');
  return sql`
    select principal_sub, principal_kind, principal_unit, sum(attempts) as attempts,
           (select count(distinct d) from unnest(jaga_array_cat(datasets)) d) as datasets,
           array(select distinct a from unnest(jaga_array_cat(actions)) a order by a) as actions,
           min(first_at) as first_at, max(last_at) as last_at
    from (${source}) r
    group by principal_sub, principal_kind, principal_unit
    order by sum(attempts) desc, principal_sub
    limit ${max}`;
}
