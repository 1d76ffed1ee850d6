import type { Sql } from '../db/database.ts';
import { ApiError } from '../http/problem.ts';
import type { Principal } from '../identity/principal.ts';
import type { OpennessReader } from '../catalog/openness.repo.ts';
import type { PolicyService } from '../policy/policy.service.ts';
import { auditScope, type AuditUse } from './audit.access.ts';
import { csvLine } from '../http/csv.ts';
import { CONTENT_TYPES, ENTRY_CSV_HEADER, entryCsvCells, rowsToCsv, toItem, type Format } from './audit.format.ts';
import { signCheckpoint, type Checkpoint } from './audit.hash.ts';
import type { AuditLog } from './audit.port.ts';
import { deniedReport, disclosureReport, disclosureSeries, findEntries, whereClause, type EntryFilter } from './audit-query.repo.ts';
import { fromDb, readHead, saveCheckpoint } from './audit.repo.ts';
import type { AuditItem, DecisionQuery, DeniedRow, DisclosureRow, OpennessQuery, OpennessReport, ReportQuery } from './audit.schema.ts';
import { verifyChain, type VerifyResult } from './audit.verify.ts';
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
  /** The catalog's counts for the openness report (the catalog owns its tables). */
  openness: OpennessReader;
}

const EXPORT_PAGE = 1000;

export type Answer<T> = { kind: 'json'; body: T } | { kind: 'text'; contentType: string; body: string } | { kind: 'stream'; contentType: string; body: ReadableStream<Uint8Array> };

/**
 * Compliance reads of the log: queries, exports, verification, checkpoints and reports.
 * Every read (and every refused attempt) is itself an entry (event `audit_read`); an allowed
 * read is committed before anything is answered.
 */
export function createAuditService(deps: AuditServiceDeps) {
  const { sql, log } = deps;

  async function authorize(ctx: ReadContext, use: AuditUse, what: string, details: Record<string, string | number | boolean | null>) {
    const access = auditScope(deps.policy.current(), ctx.principal, use);
    const entry = (effect: 'allow' | 'deny', reason: string) => ({
      event: 'audit_read' as const,
      principal: { sub: ctx.principal.sub, kind: ctx.principal.kind, roles: ctx.principal.roles, unit: ctx.principal.unit },
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
      await log.append(entry('deny', access.reason));
      throw access.error;
    }
    await log.appendDurable(entry('allow', access.reason));
    return access.scope;
  }

  const filterDetails = (f: Record<string, unknown>, format: Format | 'svg') => {
    const d: Record<string, string | number | boolean | null> = { format };
    for (const [k, v] of Object.entries(f)) if (typeof v === 'string' || typeof v === 'number') d[k] = v;
    return d;
  };

  return {
    async decisions(ctx: ReadContext, q: DecisionQuery, format: Format): Promise<Answer<{ items: AuditItem[]; nextCursor: string | null }>> {
      const scope = await authorize(ctx, 'entries', 'decisions', filterDetails(q, format));
      const where = whereClause(sql, scope, q as EntryFilter);
      const after = q.cursor ? Number(q.cursor) : 0;
      if (format === 'json') {
        const limit = q.limit ?? 100;
        const rows = (await findEntries(sql, where, after, limit + 1)).map(fromDb);
        const page = rows.slice(0, limit);
        const more = rows.length > limit;
        return { kind: 'json', body: { items: page.map(toItem), nextCursor: more ? String(page[page.length - 1]!.seq) : null } };
      }
      // Exports stream page by page (keyset on seq): memory stays bounded by one page.
      const encoder = new TextEncoder();
      let last = after;
      let headerSent = format !== 'csv';
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (!headerSent) {
            headerSent = true;
            controller.enqueue(encoder.encode(csvLine(ENTRY_CSV_HEADER)));
          }
          const rows = (await findEntries(sql, where, last, EXPORT_PAGE)).map(fromDb);
          if (rows.length) {
            last = rows[rows.length - 1]!.seq;
            const text = rows.map((r) => (format === 'csv' ? csvLine(entryCsvCells(r)) : JSON.stringify(toItem(r)) + '\n')).join('');
            controller.enqueue(encoder.encode(text));
          }
          if (rows.length < EXPORT_PAGE) controller.close();
        },
      });
      return { kind: 'stream', contentType: CONTENT_TYPES[format], body };
    },

    async verify(ctx: ReadContext, q: { checkpointSeq?: number | undefined; checkpointHash?: string | undefined; checkpointAt?: string | undefined; checkpointSignature?: string | undefined; from: 'genesis' | 'checkpoint' }): Promise<VerifyResult> {
      await authorize(ctx, 'verify', 'verify', { from: q.from, checkpointSeq: q.checkpointSeq ?? null });
      if ((q.checkpointSeq === undefined) !== (q.checkpointHash === undefined)) {
        throw new ApiError('VALIDATION_FAILED', 'Give checkpointSeq and checkpointHash together.', {
          errors: [{ path: 'query.checkpointHash', message: 'checkpointSeq and checkpointHash go together' }],
        });
      }
      if (q.from === 'checkpoint' && q.checkpointSeq === undefined) {
        throw new ApiError('VALIDATION_FAILED', 'from=checkpoint needs a checkpoint.', {
          errors: [{ path: 'query.from', message: 'needs checkpointSeq and checkpointHash' }],
        });
      }
      const checkpoint =
        q.checkpointSeq !== undefined && q.checkpointHash !== undefined
          ? { seq: q.checkpointSeq, hash: q.checkpointHash, ...(q.checkpointAt ? { at: q.checkpointAt } : {}), signature: q.checkpointSignature ?? null }
          : undefined;
      return verifyChain(sql, { hmacKey: deps.hmacKey, ...(checkpoint ? { checkpoint } : {}), fromCheckpoint: q.from === 'checkpoint' });
    },

    /** The current head as a checkpoint, signed when a key is configured, and kept in the database too. */
    async checkpoint(ctx: ReadContext): Promise<Checkpoint> {
      await authorize(ctx, 'verify', 'checkpoint', {});
      const head = await readHead(sql);
      const cp = signCheckpoint(deps.hmacKey, { seq: head.seq, hash: head.hash, at: head.at.toISOString() });
      await saveCheckpoint(sql, { seq: head.seq, hash: head.hash, at: head.at, signature: cp.signature });
      return cp;
    },

    async disclosures(ctx: ReadContext, q: ReportQuery, format: Format): Promise<Answer<{ items: DisclosureRow[] }>> {
      const scope = await authorize(ctx, 'reports', 'report:disclosures', filterDetails(q, format));
      const rows = await disclosureReport(sql, whereClause(sql, scope, q), q.period);
      const items: DisclosureRow[] = rows.map((r) => ({
        period: r.period.toISOString().slice(0, q.period === 'day' ? 10 : q.period === 'month' ? 7 : 4),
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
      }));
      if (format === 'json') return { kind: 'json', body: { items } };
      const header = ['period', 'principal', 'principalUnit', 'dataset', 'purpose', 'fieldsWhole', 'fieldsMasked', 'disclosures', 'rows', 'first', 'last'];
      return report(format, header, items);
    },

    async denied(ctx: ReadContext, q: ReportQuery, format: Format): Promise<Answer<{ items: DeniedRow[] }>> {
      const scope = await authorize(ctx, 'reports', 'report:denied', filterDetails(q, format));
      const rows = await deniedReport(sql, whereClause(sql, scope, q));
      const items: DeniedRow[] = rows.map((r) => ({
        principal: r.principal_sub,
        kind: r.principal_kind,
        principalUnit: r.principal_unit,
        attempts: Number(r.attempts),
        datasets: Number(r.datasets),
        actions: r.actions,
        first: r.first_at.toISOString(),
        last: r.last_at.toISOString(),
      }));
      if (format === 'json') return { kind: 'json', body: { items } };
      return report(format, ['principal', 'kind', 'principalUnit', 'attempts', 'datasets', 'actions', 'first', 'last'], items);
    },

    /** The disclosures report drawn: an SVG bar chart of disclosures per period, whole and masked only. */
    async disclosureChart(ctx: ReadContext, q: ReportQuery): Promise<string> {
      const scope = await authorize(ctx, 'reports', 'report:disclosures-chart', filterDetails(q, 'svg'));
      const rows = await disclosureSeries(sql, whereClause(sql, scope, q), q.period);
      const points = rows.map((r) => ({ period: periodKey(r.period, q.period), whole: Number(r.whole), masked: Number(r.masked) }));
      try {
        return disclosureChartSvg(points, { period: q.period, title: `Personal-data disclosures per ${q.period}` });
      } catch (error) {
        if (!(error instanceof TooManyPeriods)) throw error;
        throw new ApiError('VALIDATION_FAILED', `The chart would have more than ${MAX_BARS} bars.`, {
          errors: [{ path: 'query.period', message: `more than ${MAX_BARS} periods: use a coarser period or narrow from/to` }],
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
      // One query after another: the embedded database has one connection.
      const unitRows = await deps.openness.datasetsPerUnit(scope, q.unit);
      const groundRows = await deps.openness.exemptionsByGround(scope, q.unit);
      const overdueRows = await deps.openness.overdueReviews(scope, q.unit, asOf);
      const units = unitRows.map((r) => ({
        unit: r.unit,
        unitName: r.unit_name,
        total: Number(r.total),
        public: Number(r.public),
        restricted: Number(r.restricted),
        exempt: Number(r.exempt),
        pending: Number(r.pending),
        unlabelled: Number(r.unlabelled),
      }));
      const sum = (k: 'total' | 'public' | 'restricted' | 'exempt' | 'pending' | 'unlabelled') => units.reduce((n, u) => n + u[k], 0);
      const grounds = groundRows.map((r) => ({ ground: r.ground, statute: statuteOf(r.ground), datasets: Number(r.datasets), units: Number(r.units), pending: Number(r.pending) }));
      const overdue = overdueRows.map((r) => ({
        dataset: r.dataset,
        title: r.title,
        unit: r.unit,
        reviewBy: r.review_by,
        daysOverdue: Number(r.days_overdue),
        grounds: Array.isArray(r.grounds) ? r.grounds.map(String) : [],
      }));
      if (format === 'json') {
        const totals = { total: sum('total'), public: sum('public'), restricted: sum('restricted'), exempt: sum('exempt'), pending: sum('pending'), unlabelled: sum('unlabelled') };
        return { kind: 'json', body: { asOf, unit: q.unit ?? 'RI', units, totals, grounds, overdue } };
      }
      if (q.part === 'grounds') return report(format, ['ground', 'statute', 'datasets', 'units', 'pending'], grounds);
      if (q.part === 'overdue') return report(format, ['dataset', 'title', 'unit', 'reviewBy', 'daysOverdue', 'grounds'], overdue);
      return report(format, ['unit', 'unitName', 'total', 'public', 'restricted', 'exempt', 'pending', 'unlabelled'], units);
    },
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
