import type { Sql } from '../db/database.ts';
import { DomainError } from '../shared/errors.ts';
import type { Principal } from '../identity/principal.ts';
import type { OpennessReader } from '../catalog/openness.repo.ts';
import type { PolicyService } from '../policy/policy.service.ts';
import { auditScope, type AuditUse } from './audit.access.ts';
import { csvLine } from '../shared/csv.ts';
import { keysetExport } from '../shared/keyset-export.ts';
import { CONTENT_TYPES, ENTRY_CSV_HEADER, entryCsvCells, rowsToCsv, toItem, type Format } from './audit.format.ts';
import { signCheckpoint, type Checkpoint } from './audit.hash.ts';
import type { AuditLog } from './audit.port.ts';
import {
  deniedReport,
  disclosureKeyOf,
  disclosureReport,
  disclosureSeries,
  REPORT_ROWS,
  findEntries,
  rollupWhere,
  whereClause,
  type DeniedDb,
  type DisclosureDb,
  type EntryFilter,
  type ReportPeriod,
} from './audit-query.repo.ts';
import { fromDb, lastVerified, readHead, recordVerified, saveCheckpoint } from './audit.repo.ts';
import { createVerifyJobs, type VerifyJob } from './audit.verify-jobs.ts';
import type {
  AuditItem,
  DecisionQuery,
  DeniedRow,
  DisclosureReportQuery,
  DisclosureRow,
  OpennessQuery,
  OpennessReport,
  ReportQuery,
  StreamQuery,
  VerifyQuery,
} from './audit.schema.ts';
import { followLog, type StreamFormat, type StreamTiming } from './audit.stream.ts';
import { verifyChain, type StartPieceWalkers, type VerifyResult } from './audit.verify.ts';
import { decodeReportCursor, encodeReportCursor } from './report-cursor.ts';
import { disclosureChartSvg, MAX_BARS, periodKey, TooManyPeriods } from './disclosure-chart.ts';

export interface ReadContext {
  principal: Principal;
  requestId: string;
  traceId?: string | undefined;
}

export interface AuditServiceDeps {
  sql: Sql;
  log: AuditLog;
  policy: PolicyService;
  hmacKey?: string | undefined;
  /** Most rows of a report (AUDIT_REPORT_MAX_ROWS, default REPORT_ROWS); a longer one is cut and says so. */
  reportMaxRows?: number | undefined;
  /** Segments a full verification job walks at once (1 when absent). */
  verifyParallelism?: number;
  /** Where those segments are walked: worker threads (Node with PostgreSQL); absent, this thread. */
  verifyWorkers?: StartPieceWalkers | undefined;
  /** The catalog's counts for the openness report (the catalog owns its tables). */
  openness: OpennessReader;
  /** The decision-log stream's timing and the server's shutdown signal (streams end on it). */
  stream?: StreamTiming & { stopping: AbortSignal };
}

/** Defaults of the stream's timing (AUDIT_STREAM_POLL_MS, AUDIT_STREAM_HEARTBEAT_MS, AUDIT_STREAM_MAX_MS). */
const STREAM_DEFAULTS: StreamTiming = { pollMs: 1000, heartbeatMs: 15_000, maxMs: 900_000 };

const EXPORT_PAGE = 1000;

export type Answer<T> = (
  | { kind: 'json'; body: T }
  | { kind: 'text'; contentType: string; body: string }
  | { kind: 'stream'; contentType: string; body: ReadableStream<Uint8Array> }
) & { headers?: Record<string, string> };

/** How far back a read of the log goes when it names no dataset, principal, request or time. */
export const RECENT_WINDOW_DAYS = 7;
const DAY_MS = 86_400_000;

/** The window a read was narrowed to because it gave no anchor, as the response states it. */
export interface ReadWindow {
  from: string;
  reason: string;
}

/**
 * A read that names no dataset, principal, request or time reads the last RECENT_WINDOW_DAYS days
 * only (every such page costs the same at any size of the log); the caller gives `from` to go further.
 */
function defaultWindow(q: DecisionQuery, now: Date): ReadWindow | undefined {
  if (q.dataset || q.principal || q.requestId || q.from || q.to) return undefined;
  return {
    from: new Date(now.getTime() - RECENT_WINDOW_DAYS * DAY_MS).toISOString(),
    reason: `no dataset, principal, requestId, from or to given: the last ${RECENT_WINDOW_DAYS} days only; give from= to read further back`,
  };
}

/** The longest period a report covers per request. */
export const REPORT_MAX_DAYS = 366;

const startOfUtcDay = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
const dayText = (d: Date) => d.toISOString().slice(0, 10);

/**
 * A report's period in whole UTC days, `to` exclusive: by default the current month; `from` alone
 * runs through today, `to` alone starts on the first of its month; at most REPORT_MAX_DAYS. The
 * rollups are per day, so a report reads at most that many days of them and never the log.
 */
export function reportPeriod(q: { from?: string | undefined; to?: string | undefined }, now: Date): ReportPeriod {
  const bad = (path: string, message: string) =>
    new DomainError('VALIDATION_FAILED', `The report period is not valid: ${message}.`, {
      errors: [{ path, message }],
    });
  const day = (s: string, path: string) => {
    const d = new Date(s);
    if (d.getTime() % DAY_MS !== 0) throw bad(path, 'reports count whole UTC days: give a date or a UTC midnight');
    return d;
  };
  let from = q.from === undefined ? undefined : day(q.from, 'query.from');
  const tomorrow = new Date(startOfUtcDay(now).getTime() + DAY_MS);
  // `from` alone runs through today (or through its own month when it lies ahead).
  const through = (f: Date) =>
    f < tomorrow ? tomorrow : new Date(Date.UTC(f.getUTCFullYear(), f.getUTCMonth() + 1, 1));
  const to = q.to === undefined ? (from ? through(from) : undefined) : day(q.to, 'query.to');
  if (!from && !to) {
    return {
      from: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
      to: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)),
    };
  }
  const end = to!;
  if (!from) {
    const last = new Date(end.getTime() - DAY_MS);
    from = new Date(Date.UTC(last.getUTCFullYear(), last.getUTCMonth(), 1));
  }
  if (from >= end) throw bad('query.to', 'to must come after from');
  if (end.getTime() - from.getTime() > REPORT_MAX_DAYS * DAY_MS)
    throw bad('query.to', `at most ${REPORT_MAX_DAYS} days per report`);
  return { from, to: end };
}

type Details = Record<string, string | number | boolean | null>;

/** The filters of a read as entry details: strings and numbers only, with the format. */
function filterDetails(f: object, format: Format | StreamFormat | 'svg'): Details {
  const d: Details = { format };
  for (const [k, v] of Object.entries(f)) if (typeof v === 'string' || typeof v === 'number') d[k] = v;
  return d;
}

/**
 * Compliance reads of the log: queries, exports, verification, checkpoints and reports.
 * Every read (and every refused attempt) is itself an entry (event `audit_read`); an allowed
 * read is committed before anything is answered.
 */
export function createAuditService(deps: AuditServiceDeps) {
  const { sql } = deps;
  const authorize = (ctx: ReadContext, use: AuditUse, what: string, details: Details) =>
    authorizeRead(deps, ctx, use, what, details);
  const timing = { ...STREAM_DEFAULTS, ...deps.stream };
  const stopping = deps.stream?.stopping ?? new AbortController().signal;
  /** Streams open now, and entries they have read from the database (tests; how far streams read ahead). */
  const streams = { open: 0, entriesRead: 0 };
  const jobs = createVerifyJobs(sql, deps.hmacKey, deps.verifyParallelism, deps.verifyWorkers);
  const maxRows = deps.reportMaxRows ?? REPORT_ROWS;
  return {
    /**
     * Follows the log from `after` (a seq; the current head when absent): same access as
     * `decisions` (an auditor sees every entry, a PPID their unit's), decided once when the stream
     * opens and logged as an `audit_read`; the stream ends by `maxMs`, so rights are checked again
     * when the client resumes.
     */
    async stream(ctx: ReadContext, q: StreamQuery, format: StreamFormat): Promise<ReadableStream<Uint8Array>> {
      const scope = await authorize(ctx, 'entries', 'stream', filterDetails(q, format));
      const where = whereClause(sql, scope, q as EntryFilter);
      const after = q.after ?? (await readHead(sql)).seq;
      streams.open++;
      return followLog({
        ...timing,
        stopping,
        after,
        format,
        read: async (seq, limit) => (await findEntries(sql, where, seq, limit)).map(fromDb),
        onPage: (n) => (streams.entriesRead += n),
        onEnd: () => streams.open--,
      });
    },

    streamStats: (): Readonly<typeof streams> => ({ ...streams }),

    async decisions(
      ctx: ReadContext,
      q: DecisionQuery,
      format: Format,
    ): Promise<Answer<{ items: AuditItem[]; nextCursor: string | null; window?: ReadWindow }>> {
      const window = defaultWindow(q, new Date());
      const details = filterDetails(q, format);
      if (window) details.window = window.from;
      const scope = await authorize(ctx, 'entries', 'decisions', details);
      const where = whereClause(sql, scope, { ...(q as EntryFilter), ...(window ? { from: window.from } : {}) });
      const after = q.cursor ? Number(q.cursor) : 0;
      const headers: Record<string, string> = window ? { 'jaga-audit-window': `from=${window.from}` } : {};
      if (format !== 'json') {
        const body = exportEntries(sql, where, after, format);
        return { kind: 'stream', contentType: CONTENT_TYPES[format], body, headers };
      }
      const limit = q.limit ?? 100;
      const rows = (await findEntries(sql, where, after, limit + 1)).map(fromDb);
      const page = rows.slice(0, limit);
      const more = rows.length > limit;
      return {
        kind: 'json',
        headers,
        body: {
          items: page.map(toItem),
          nextCursor: more ? String(page[page.length - 1]!.seq) : null,
          ...(window ? { window } : {}),
        },
      };
    },

    /**
     * Walks the chain: by default from the last point a walk found intact (recorded in
     * audit_verified), so it answers promptly; `from=genesis` walks it all. An intact walk records
     * its end as the next starting point.
     */
    async verify(ctx: ReadContext, q: VerifyQuery): Promise<VerifyResult> {
      await authorize(ctx, 'verify', 'verify', { from: q.from, checkpointSeq: q.checkpointSeq ?? null });
      const cp = checkpointToVerify(q);
      const point = q.from === 'verified' ? await lastVerified(sql) : undefined;
      const start = point
        ? { seq: point.seq, hash: point.hash, verifiedAt: point.verifiedAt.toISOString() }
        : undefined;
      const { lastHash, ...result } = await verifyChain(sql, {
        hmacKey: deps.hmacKey,
        ...cp,
        ...(start ? { start } : {}),
      });
      const walkedFromStart = q.from === 'genesis' || (q.from === 'verified' && !point);
      if (result.ok && (walkedFromStart || start))
        await recordVerified(sql, { seq: result.lastSeq, hash: lastHash, fullWalk: walkedFromStart });
      return result;
    },

    /** Starts a full re-verification in the background (or answers the one running). */
    async startVerifyJob(ctx: ReadContext): Promise<VerifyJob> {
      await authorize(ctx, 'verify', 'verify-job', {});
      return { ...jobs.start() };
    },

    async verifyJob(ctx: ReadContext, id: string): Promise<VerifyJob> {
      await authorize(ctx, 'verify', 'verify-job', { job: id });
      return { ...jobs.get(id) };
    },

    /** Resolves once no verification job runs (shutdown, tests). */
    verifyJobsIdle: () => jobs.idle(),

    /** The current head as a checkpoint, signed when a key is configured, and kept in the database too. */
    async checkpoint(ctx: ReadContext): Promise<Checkpoint> {
      await authorize(ctx, 'verify', 'checkpoint', {});
      const head = await readHead(sql);
      const cp = signCheckpoint(deps.hmacKey, { seq: head.seq, hash: head.hash, at: head.at.toISOString() });
      await saveCheckpoint(sql, { seq: head.seq, hash: head.hash, at: head.at, signature: cp.signature });
      return cp;
    },

    /**
     * A keyset page of the disclosures report: its first `limit` groups (default and most
     * AUDIT_REPORT_MAX_ROWS) after the cursor's, and the cursor of the next page when more follow.
     */
    async disclosures(
      ctx: ReadContext,
      q: DisclosureReportQuery,
      format: Format,
    ): Promise<Answer<ReportBody<DisclosureRow>>> {
      const period = reportPeriod(q, new Date());
      const cursorScope = { period: q.period, range: period, principal: q.principal, dataset: q.dataset, unit: q.unit };
      const after = q.cursor === undefined ? undefined : decodeReportCursor(q.cursor, cursorScope);
      const limit = Math.min(q.limit ?? maxRows, maxRows);
      const scope = await authorize(ctx, 'reports', 'report:disclosures', filterDetails(q, format));
      const rows = await disclosureReport(sql, rollupWhere(sql, scope, q, period), q.period, limit + 1, after);
      const truncated = rows.length > limit;
      const last = rows[limit - 1];
      const nextCursor = truncated && last ? encodeReportCursor(disclosureKeyOf(last), cursorScope) : null;
      const items = rows.slice(0, limit).map((r) => disclosureItem(r, q.period));
      if (format === 'json') return { kind: 'json', body: { ...periodOf(period), truncated, nextCursor, items } };
      return {
        ...report(format, DISCLOSURE_COLUMNS, items),
        headers: {
          ...reportHeaders(period, truncated),
          ...(nextCursor ? { 'jaga-report-next-cursor': nextCursor } : {}),
        },
      };
    },

    async denied(ctx: ReadContext, q: ReportQuery, format: Format): Promise<Answer<ReportBody<DeniedRow>>> {
      const period = reportPeriod(q, new Date());
      const scope = await authorize(ctx, 'reports', 'report:denied', filterDetails(q, format));
      const rows = await deniedReport(sql, rollupWhere(sql, scope, q, period), maxRows + 1);
      const truncated = rows.length > maxRows;
      const items = rows.slice(0, maxRows).map(deniedItem);
      if (format === 'json') return { kind: 'json', body: { ...periodOf(period), truncated, items } };
      return { ...report(format, DENIED_COLUMNS, items), headers: reportHeaders(period, truncated) };
    },

    /** The disclosures report drawn: an SVG bar chart of disclosures per period, whole and masked only. */
    async disclosureChart(ctx: ReadContext, q: ReportQuery): Promise<string> {
      const period = reportPeriod(q, new Date());
      const scope = await authorize(ctx, 'reports', 'report:disclosures-chart', filterDetails(q, 'svg'));
      const rows = await disclosureSeries(sql, rollupWhere(sql, scope, q, period), q.period);
      const points = rows.map((r) => ({
        period: periodKey(r.period, q.period),
        whole: Number(r.whole),
        masked: Number(r.masked),
      }));
      try {
        return disclosureChartSvg(points, { period: q.period, title: `Personal-data disclosures per ${q.period}` });
      } catch (error) {
        if (!(error instanceof TooManyPeriods)) throw error;
        throw new DomainError('VALIDATION_FAILED', `The chart would have more than ${MAX_BARS} bars.`, {
          errors: [
            { path: 'query.period', message: `more than ${MAX_BARS} periods: use a coarser period or narrow from/to` },
          ],
        });
      }
    },

    /**
     * Openness statistics for the annual public-information report (UU 14/2008 art. 7, 12):
     * datasets per classification per unit, exemptions by legal ground, overdue reviews. JSON is
     * the whole report; CSV / NDJSON one `part` (a spreadsheet holds one table).
     */
    async openness(ctx: ReadContext, q: OpennessQuery, format: Format): Promise<Answer<OpennessReport>> {
      const scope = await authorize(ctx, 'reports', 'report:openness', filterDetails(q, format));
      const asOf = q.asOf ?? new Date().toISOString().slice(0, 10);
      const parts = await opennessParts(deps.openness, scope, q.unit, asOf);
      if (format === 'json')
        return { kind: 'json', body: { asOf, unit: q.unit ?? 'RI', ...parts, totals: totalsOf(parts.units) } };
      if (q.part === 'grounds')
        return report(format, ['ground', 'statute', 'datasets', 'units', 'pending'], parts.grounds);
      if (q.part === 'overdue')
        return report(format, ['dataset', 'title', 'unit', 'reviewBy', 'daysOverdue', 'grounds'], parts.overdue);
      return report(format, ['unit', 'unitName', ...COUNTS], parts.units);
    },
  };
}

/** Logs the read (or the refused attempt) and answers the principal's scope; an allowed read is durable first. */
async function authorizeRead(deps: AuditServiceDeps, ctx: ReadContext, use: AuditUse, what: string, details: Details) {
  const access = auditScope(deps.policy.current(), ctx.principal, use);
  const entry = (effect: 'allow' | 'deny', reason: string) => ({
    event: 'audit_read' as const,
    principal: {
      sub: ctx.principal.sub,
      kind: ctx.principal.kind,
      roles: ctx.principal.roles,
      unit: ctx.principal.unit,
    },
    action: 'audit',
    resource: { type: 'AuditEntry', id: what },
    effect,
    ruleId: access.ruleId,
    reason,
    policyVersion: access.policyVersion,
    requestId: ctx.requestId,
    traceId: ctx.traceId ?? null,
    details,
  });
  if (!access.allow) {
    await deps.log.append(entry('deny', access.reason));
    throw access.error;
  }
  await deps.log.appendDurable(entry('allow', access.reason));
  return access.scope;
}

/** The entries after `after` as CSV or NDJSON, streamed in keyset pages on seq: memory stays bounded by one page. */
function exportEntries(
  sql: Sql,
  where: ReturnType<typeof whereClause>,
  after: number,
  format: 'csv' | 'ndjson',
): ReadableStream<Uint8Array> {
  return keysetExport<number>({
    ...(format === 'csv' ? { head: csvLine(ENTRY_CSV_HEADER) } : {}),
    start: after,
    next: async (seq, emit) => {
      const rows = await findEntries(sql, where, seq, EXPORT_PAGE + 1);
      const page = rows.length > EXPORT_PAGE ? rows.slice(0, EXPORT_PAGE) : rows;
      for (const db of page) {
        const r = fromDb(db);
        emit(format === 'csv' ? csvLine(entryCsvCells(r)) : JSON.stringify(toItem(r)) + '\n');
      }
      return { rows: page.length, last: page.length ? Number(page.at(-1)!.seq) : seq, more: rows.length > EXPORT_PAGE };
    },
  });
}

/** The checkpoint to verify against, if any (both seq and hash, or neither). */
function checkpointToVerify(q: VerifyQuery): {
  checkpoint?: { seq: number; hash: string; at?: string; signature: string | null };
  fromCheckpoint: boolean;
} {
  if ((q.checkpointSeq === undefined) !== (q.checkpointHash === undefined)) {
    throw new DomainError('VALIDATION_FAILED', 'Give checkpointSeq and checkpointHash together.', {
      errors: [{ path: 'query.checkpointHash', message: 'checkpointSeq and checkpointHash go together' }],
    });
  }
  if (q.from === 'checkpoint' && q.checkpointSeq === undefined) {
    throw new DomainError('VALIDATION_FAILED', 'from=checkpoint needs a checkpoint.', {
      errors: [{ path: 'query.from', message: 'needs checkpointSeq and checkpointHash' }],
    });
  }
  const fromCheckpoint = q.from === 'checkpoint';
  if (q.checkpointSeq === undefined || q.checkpointHash === undefined) return { fromCheckpoint };
  return {
    checkpoint: {
      seq: q.checkpointSeq,
      hash: q.checkpointHash,
      ...(q.checkpointAt ? { at: q.checkpointAt } : {}),
      signature: q.checkpointSignature ?? null,
    },
    fromCheckpoint,
  };
}

/** A report's JSON: its period (whole UTC days, `to` exclusive) and its rows. */
type ReportBody<T> =
  | { from: string; to: string; items: T[] }
  | { from: string; to: string; truncated: boolean; items: T[] }
  | { from: string; to: string; truncated: boolean; nextCursor: string | null; items: T[] };
const periodOf = (p: ReportPeriod) => ({ from: dayText(p.from), to: dayText(p.to) });
const periodHeader = (p: ReportPeriod) => ({ 'jaga-report-period': `${dayText(p.from)}/${dayText(p.to)}` });
// A report longer than its row limit is cut in its order; it never looks complete when it is not.
const reportHeaders = (p: ReportPeriod, truncated: boolean) => ({
  ...periodHeader(p),
  'jaga-report-truncated': String(truncated),
});

const DISCLOSURE_COLUMNS = [
  'period',
  'principal',
  'principalUnit',
  'dataset',
  'purpose',
  'fieldsWhole',
  'fieldsMasked',
  'disclosures',
  'rows',
  'first',
  'last',
];
const DENIED_COLUMNS = ['principal', 'kind', 'principalUnit', 'attempts', 'datasets', 'actions', 'first', 'last'];
const COUNTS = ['total', 'public', 'restricted', 'exempt', 'pending', 'unlabelled', 'personalDataUndeclared'] as const;

function disclosureItem(r: DisclosureDb, period: ReportQuery['period']): DisclosureRow {
  return {
    period: r.period.toISOString().slice(0, period === 'day' ? 10 : period === 'month' ? 7 : 4),
    principal: r.principal_sub,
    principalUnit: r.principal_unit,
    dataset: r.dataset_id,
    purpose: r.purpose,
    fieldsWhole: r.fields_whole,
    fieldsMasked: r.fields_masked,
    disclosures: Number(r.disclosures),
    rows: Number(r.rows ?? 0),
    first: r.first_at.toISOString(),
    last: r.last_at.toISOString(),
  };
}

function deniedItem(r: DeniedDb): DeniedRow {
  return {
    principal: r.principal_sub,
    kind: r.principal_kind,
    principalUnit: r.principal_unit,
    attempts: Number(r.attempts),
    datasets: Number(r.datasets),
    actions: r.actions,
    first: r.first_at.toISOString(),
    last: r.last_at.toISOString(),
  };
}

/** The three tables of the openness report, read one after another (the embedded database has one connection). */
async function opennessParts(
  reader: OpennessReader,
  scope: Parameters<OpennessReader['datasetsPerUnit']>[0],
  unit: string | undefined,
  asOf: string,
) {
  const unitRows = await reader.datasetsPerUnit(scope, unit);
  const groundRows = await reader.exemptionsByGround(scope, unit);
  const overdueRows = await reader.overdueReviews(scope, unit, asOf);
  const units = unitRows.map((r) => ({
    unit: r.unit,
    unitName: r.unit_name,
    total: Number(r.total),
    public: Number(r.public),
    restricted: Number(r.restricted),
    exempt: Number(r.exempt),
    pending: Number(r.pending),
    unlabelled: Number(r.unlabelled),
    personalDataUndeclared: Number(r.personal_data_undeclared),
  }));
  const grounds = groundRows.map((r) => ({
    ground: r.ground,
    statute: statuteOf(r.ground),
    datasets: Number(r.datasets),
    units: Number(r.units),
    pending: Number(r.pending),
  }));
  const overdue = overdueRows.map((r) => ({
    dataset: r.dataset,
    title: r.title,
    unit: r.unit,
    reviewBy: r.review_by,
    daysOverdue: Number(r.days_overdue),
    grounds: Array.isArray(r.grounds) ? r.grounds.map(String) : [],
  }));
  return { units, grounds, overdue };
}

function totalsOf(units: Record<(typeof COUNTS)[number], number>[]): OpennessReport['totals'] {
  const sum = (k: (typeof COUNTS)[number]) => units.reduce((n, u) => n + u[k], 0);
  return {
    total: sum('total'),
    public: sum('public'),
    restricted: sum('restricted'),
    exempt: sum('exempt'),
    pending: sum('pending'),
    unlabelled: sum('unlabelled'),
    personalDataUndeclared: sum('personalDataUndeclared'),
  };
}

/** A ground as cited in law: `17a` … `17j` are the letters of UU 14/2008 art. 17; anything else cites itself. */
function statuteOf(ground: string): string {
  const m = /^17([a-j])$/.exec(ground);
  return m ? `UU 14/2008 art. 17 letter ${m[1]}` : ground;
}

function report<T>(format: Format, header: string[], items: Record<string, unknown>[]): Answer<T> {
  if (format === 'csv') return { kind: 'text', contentType: CONTENT_TYPES.csv, body: rowsToCsv(header, items) };
  return { kind: 'text', contentType: CONTENT_TYPES.ndjson, body: items.map((i) => JSON.stringify(i) + '\n').join('') };
}

export type AuditService = ReturnType<typeof createAuditService>;
