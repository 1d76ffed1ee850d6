import { AuditEntryRefused } from '../audit/audit.entry.ts';
import type { AuditEntryInput, AuditLog } from '../audit/audit.port.ts';
import type { CatalogService, FieldForRead } from '../catalog/catalog.service.ts';
import type { Sql } from '../db/database.ts';
import { ApiError } from '../http/problem.ts';
import { ANONYMOUS, type Principal } from '../identity/principal.ts';
import type { DatasetAttributes, FieldDecision, MaskKind, PolicyEngine } from '../policy/engine.types.ts';
import { planToSql, type Fragment } from '../policy/plan-sql.ts';
import type { PolicyService } from '../policy/policy.service.ts';
import { isHeaderSafe } from '../shared/text.ts';
import type { Logger } from '../system/logger.ts';
import { csvCell, csvLine } from '../http/csv.ts';
import { CONTENT_TYPES, type ReadFormat } from './formats.ts';
import { applyMask, type CryptoKeyLike } from './masks.ts';
import { pseudonymKeyFor } from './pseudonym.ts';
import { normaliseValue, type Value } from './record-values.ts';
import { canSeeDataset } from './records.access.ts';
import { eachRecord, recordPage, rowSeq, type RecordRow } from './records.repo.ts';

export interface ReadDeps {
  sql: Sql;
  catalog: Pick<CatalogService, 'getFieldsForRead'>;
  policy: Pick<PolicyService, 'current'>;
  audit: AuditLog;
  pseudonymMaster: string | undefined;
  logger: Logger;
  /** Rows per keyset page while streaming an export. */
  streamPage?: number;
}

export type FilterOp = 'eq' | 'gt' | 'gte' | 'lt' | 'lte';
export interface Filter {
  field: string;
  op: FilterOp;
  value: string;
}

export interface ReadRequest {
  datasetId: string;
  format: ReadFormat;
  purpose: string | null;
  cursor: string | undefined;
  /** Page size. JSON: default 100; NDJSON/CSV: unset means the whole export from the cursor. */
  limit: number | undefined;
  filters: Filter[];
  requestId: string | null;
  traceId: string | null;
}

export interface ReadResult {
  status: 200;
  headers: Record<string, string>;
  body: string | ReadableStream<Uint8Array>;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/** Rows rendered into one chunk of a streamed export. */
const RENDER_SLICE = 200;

/** Opaque cursor: the last record's seq, base64url. */
export const encodeSeq = (seq: string) => Buffer.from(seq, 'utf8').toString('base64url');
export function decodeSeq(cursor: string | undefined): bigint {
  if (cursor === undefined || cursor === '') return 0n;
  const s = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{1,19}$/.test(s)) {
    throw new ApiError('VALIDATION_FAILED', 'The cursor is not valid.', { errors: [{ path: 'query.cursor', message: 'not a cursor this API issued' }] });
  }
  return BigInt(s);
}

/** A streamed page, rendered and encoded. */
interface RenderedPage {
  chunks: Uint8Array[];
  rows: number;
  last: string;
  more: boolean;
}

/** One field's way out: whole, masked (with its mask) or not at all. */
interface Outgoing {
  field: FieldForRead;
  mask: MaskKind | null;
}

const notFound = (id: string) => new ApiError('NOT_FOUND', `There is no dataset ${id}.`);

/**
 * The second guard of the open-data export, independent of policies: only fields whose
 * effective label is public and that are not specific personal data may leave, and only whole.
 */
export function openDataField(f: FieldForRead): boolean {
  return f.classification === 'public' && f.personalDataKind !== 'specific';
}

export interface ReadService {
  /** An enforced read: row scope, field decisions and purpose from the policies. */
  read(p: Principal, req: ReadRequest): Promise<ReadResult>;
  /** The anonymous open-data export: public datasets and effectively public fields only. */
  readPublic(req: ReadRequest): Promise<ReadResult>;
}

export function createReadService(deps: ReadDeps): ReadService {
  const { sql } = deps;
  const streamPage = deps.streamPage ?? 2000;

  function scopeSql(engine: PolicyEngine, p: Principal, d: DatasetAttributes, purpose: string | null): Fragment | null {
    const plan = engine.plan(p, 'read', 'Record', purpose);
    if (plan.kind === 'never') return null;
    const lit = (v: string | null): Fragment => (v === null ? sql`null::text` : sql`${v}::text`);
    // Record attributes (engine.types.ts): the row's unit is a column; the rest are the dataset's.
    return planToSql(sql, plan, {
      unit: sql`r.unit`,
      datasetId: lit(d.id),
      ownerUnit: lit(d.ownerUnit),
      classification: lit(d.classification),
    });
  }

  function filterSql(filters: Filter[], fields: Map<string, FieldForRead>, outgoing: Map<string, Outgoing>): Fragment {
    let where: Fragment = sql`true`;
    for (const f of filters) {
      const field = fields.get(f.field);
      if (!field) {
        throw new ApiError('VALIDATION_FAILED', `The dataset has no field ${f.field}.`, { errors: [{ path: `query.${f.field}`, message: 'unknown field' }] });
      }
      // A filter discloses the value it matches: only on fields the caller sees whole.
      const out = outgoing.get(f.field);
      if (!out || out.mask !== null) {
        throw new ApiError('FILTER_NOT_ALLOWED', `You may not filter on ${f.field}: you do not see it whole.`, {
          errors: [{ path: `query.${f.field}`, message: 'not a field you may see whole' }],
        });
      }
      const v = normaliseValue(field.type, f.value, true);
      if ('error' in v || v.value === null) {
        throw new ApiError('VALIDATION_FAILED', `The filter on ${f.field} is not valid.`, {
          errors: [{ path: `query.${f.field}`, message: 'error' in v ? v.error : 'expected a value' }],
        });
      }
      const numeric = field.type === 'integer' || field.type === 'number';
      const col = numeric ? sql`(r.data->>${f.field})::numeric` : sql`(r.data->>${f.field})`;
      const val = numeric ? sql`${String(v.value)}::numeric` : sql`${String(v.value)}::text`;
      const cmp =
        f.op === 'eq' ? sql`${col} = ${val}` : f.op === 'gt' ? sql`${col} > ${val}` : f.op === 'gte' ? sql`${col} >= ${val}` : f.op === 'lt' ? sql`${col} < ${val}` : sql`${col} <= ${val}`;
      where = sql`${where} and ${cmp}`;
    }
    return where;
  }

  async function prepare(p: Principal, req: ReadRequest, open: boolean): Promise<ReadResult> {
    const read = await deps.catalog.getFieldsForRead(req.datasetId);
    const engine = deps.policy.current();
    if (!read) throw notFound(req.datasetId);
    const d = read.dataset;
    if (open && (d.classification !== 'public' || d.labelPending)) throw notFound(req.datasetId);
    const seen = canSeeDataset(engine, p, d);
    if (!seen.allow) throw notFound(req.datasetId);

    const purpose = open ? null : req.purpose;
    if (purpose !== null && !p.purposes.includes(purpose)) {
      throw new ApiError('PURPOSE_NOT_HELD', `The purpose "${purpose}" is not one you hold.`);
    }

    let decisions: FieldDecision[] = engine.decideFields(p, read.fields, purpose);
    if (open) {
      // Never masked, never anything but effectively public fields, whatever the policies say.
      decisions = decisions.map((x, i) =>
        x.outcome === 'whole' && openDataField(read.fields[i]!) ? x : { ...x, outcome: 'omitted', ruleId: null, reason: 'not open data' },
      );
    }
    const byName = new Map(read.fields.map((f) => [f.name, f]));
    const outgoing = new Map<string, Outgoing>();
    const whole: string[] = [];
    const masked: string[] = [];
    const omitted: string[] = [];
    const masks: Record<string, MaskKind> = {};
    for (const x of decisions) {
      const field = byName.get(x.field)!;
      if (x.outcome === 'whole') {
        outgoing.set(x.field, { field, mask: null });
        whole.push(x.field);
      } else if (x.outcome === 'masked' && x.mask) {
        outgoing.set(x.field, { field, mask: x.mask });
        masked.push(x.field);
        masks[x.field] = x.mask;
      } else omitted.push(x.field);
    }
    const columns = read.fields.filter((f) => outgoing.has(f.name));
    const purposeOmitted = decisions.filter((x) => x.outcome === 'omitted' && /purpose/.test(x.reason)).map((x) => x.field);

    const filters = filterSql(req.filters, byName, outgoing);
    let scope = scopeSql(engine, p, d, purpose);
    if (open && scope) scope = sql`${scope} and ${d.classification === 'public' ? sql`true` : sql`false`}`;

    const paged = req.format === 'json' || req.limit !== undefined;
    const limit = Math.min(req.limit ?? (paged ? DEFAULT_LIMIT : streamPage), paged ? MAX_LIMIT : streamPage);
    const after = decodeSeq(req.cursor);
    // The first page is read before anything leaves, so a failing query answers with a problem.
    const first: RecordRow[] = scope ? await recordPage(sql, { datasetId: d.id, afterSeq: after, where: sql`${scope} and ${filters}`, limit: limit + 1, columns }) : [];
    const more = first.length > limit;
    if (more) first.length = limit;

    const key: CryptoKeyLike = masked.some((f) => masks[f] === 'pseudonym')
      ? await pseudonymKeyFor(sql, deps.pseudonymMaster, d.id)
      : () => '[redacted]';
    // One projector per outgoing column, built once per read (mask context included).
    const projectors = columns.map((f, i): ((row: RecordRow) => Value) => {
      const m = outgoing.get(f.name)!.mask;
      if (!m) return (row) => row[i + 1]!;
      const ctx = { personalData: f.personalData, type: f.type, pseudonymKey: key };
      return (row) => applyMask(m, row[i + 1]!, ctx);
    });
    const project = (row: RecordRow): Value[] => projectors.map((p) => p(row));
    const names = columns.map((f) => f.name);

    // The decision is durable before the first byte of a restricted or exempt read leaves.
    const disclosedOnlyPublic = d.classification === 'public' && columns.every((f) => f.classification === 'public');
    const entry: AuditEntryInput = {
      event: 'disclosure',
      principal: { sub: p.sub, kind: p.kind, roles: [...p.roles], unit: p.unit },
      action: 'read',
      resource: { type: 'Dataset', id: d.id, classification: d.classification, labelVersion: d.labelVersion },
      effect: 'allow',
      ruleId: seen.ruleId,
      reason: seen.reason,
      policyVersion: engine.version,
      fields: { whole, masked, omitted },
      purpose,
      rowCount: paged ? first.length : null,
      requestId: req.requestId,
      traceId: req.traceId,
      details: {
        route: open ? 'open-data' : 'enforced',
        format: req.format,
        masks: Object.entries(masks).map(([field, kind]) => `${field}:${kind}`),
        // Filter fields and operators only: a filter value may itself be personal data.
        filters: req.filters.map((f) => `${f.field}[${f.op}]`),
        rowScope: scope ? 'plan' : 'never',
        cursorFrom: after.toString(),
        ...(paged ? { cursorTo: first.length ? rowSeq(first.at(-1)!) : after.toString(), limit } : { export: true, limit: null }),
      },
    };
    let decisionId: string;
    if (disclosedOnlyPublic) {
      decisionId = await deps.audit.append(entry).then(
        (r) => r.id,
        (error: unknown) => {
          if (error instanceof AuditEntryRefused) throw error; // the request's text, not the log's state
          deps.logger.warn('audit append failed for a public read', { error });
          return crypto.randomUUID();
        },
      );
    } else {
      try {
        decisionId = (await deps.audit.appendDurable(entry)).id;
      } catch (error) {
        if (error instanceof AuditEntryRefused) throw error; // the request's text, not the log's state
        deps.logger.error('audit log unavailable: refusing a restricted read', { error });
        throw new ApiError('AUDIT_UNAVAILABLE', 'The audit log cannot record this read, so nothing is disclosed.', { cause: error });
      }
    }

    const headers: Record<string, string> = {
      'content-type': CONTENT_TYPES[req.format],
      'x-decision-id': decisionId,
      'x-jaga-fields-masked': masked.join(','),
      'x-jaga-fields-omitted': omitted.join(','),
      'cache-control': disclosedOnlyPublic ? 'public, max-age=60' : 'no-store',
      vary: 'Accept, Authorization, X-Purpose',
    };
    if (purposeOmitted.length) {
      headers['x-jaga-omitted-reason'] =
        purpose === null
          ? `no purpose declared: personal data omitted (${purposeOmitted.join(',')}); send X-Purpose with a purpose you hold`
          : `${isHeaderSafe(purpose) ? `purpose "${purpose}"` : 'the declared purpose'} does not allow: ${purposeOmitted.join(',')}`;
    } else if (open && omitted.length) {
      headers['x-jaga-omitted-reason'] = 'open data: only public fields are exported';
    } else if (omitted.length) {
      headers['x-jaga-omitted-reason'] = `not granted to this principal by the policies: ${omitted.join(',')}`;
    }
    // Headers carry printable ASCII only (clients decode other bytes differently): a purpose
    // with other characters is not echoed rather than echoed garbled.
    if (purpose && isHeaderSafe(purpose)) headers['x-purpose'] = purpose;
    const nextCursor = more ? encodeSeq(rowSeq(first.at(-1)!)) : null;

    if (req.format === 'json') {
      const items = first.map((row) => {
        const values = project(row);
        const o: Record<string, Value> = {};
        names.forEach((n, i) => (o[n] = values[i]!));
        return o;
      });
      return { status: 200, headers, body: JSON.stringify({ items, nextCursor }) };
    }
    if (paged && nextCursor) headers['x-next-cursor'] = nextCursor;

    const encoder = new TextEncoder();
    // NDJSON objects are written by hand: the keys are fixed, only values need encoding.
    const keyPrefixes = names.map((n, i) => (i ? ',' : '{') + JSON.stringify(n) + ':');
    // One row as text.
    const renderRow =
      req.format === 'csv'
        ? (r: RecordRow) => {
            let out = '';
            for (let i = 0; i < projectors.length; i++) out += (i ? ',' : '') + csvCell(projectors[i]!(r));
            return out + '\r\n';
          }
        : (r: RecordRow) => {
            let out = '';
            for (let i = 0; i < projectors.length; i++) out += keyPrefixes[i] + JSON.stringify(projectors[i]!(r));
            return out + (projectors.length ? '}\n' : '{}\n');
          };
    const where = scope ? sql`${scope} and ${filters}` : null;
    // Rows become text in slices of RENDER_SLICE rows: a whole page's megabyte string would go to
    // the large-object space and grow the heap until a full collection.
    const slicer = (push: (chunk: Uint8Array) => void) => {
      let out = '';
      let n = 0;
      return {
        add(row: RecordRow) {
          out += renderRow(row);
          if (++n % RENDER_SLICE === 0) {
            push(encoder.encode(out));
            out = '';
          }
        },
        end() {
          if (out) push(encoder.encode(out));
          out = '';
        },
      };
    };
    /**
     * The page after `seq`, rendered row by row as the driver decodes it: no page of rows is held,
     * so rows die in V8's young generation instead of surviving collections while the page is
     * sent (main-thread GC pauses per row: 2.8 -> 0.9 µs, bench/export/inprocess.ts).
     */
    const renderAfter = async (seq: string): Promise<RenderedPage> => {
      const chunks: Uint8Array[] = [];
      const slices = slicer((chunk) => chunks.push(chunk));
      let rows = 0;
      let lastSeq = seq;
      let failure: { error: unknown } | null = null;
      const page = { datasetId: d.id, afterSeq: BigInt(seq), where: where!, limit: streamPage + 1, columns };
      const total = await eachRecord(sql, page, (row) => {
        if (rows === streamPage || failure) return; // the extra row only says that more follow
        try {
          slices.add(row);
        } catch (error) {
          failure = { error }; // thrown below: a throw here would break the driver's parsing
          return;
        }
        rows++;
        lastSeq = rowSeq(row);
      });
      if (failure) throw (failure as { error: unknown }).error;
      slices.end();
      return { chunks, rows, last: lastSeq, more: total > streamPage };
    };
    // Keyset pages, the next one fetched and rendered while the current one is sent.
    const fetchAfter = (seq: string): Promise<RenderedPage> => {
      const page = renderAfter(seq);
      page.catch(() => {}); // awaited by the next pull; a cancelled stream must not leave it unhandled
      return page;
    };
    let pending: RecordRow[] | null = first;
    let nextPage: Promise<RenderedPage> | null = null;
    let last = first.length ? rowSeq(first.at(-1)!) : after.toString();
    let done = paged || !more || where === null;
    let sent = 0;
    let headerSent = req.format !== 'csv';
    // Streamed exports: the row count is known only at the end, however it ends (read to the end,
    // abandoned by the client, failed); it is recorded once, beside the decision. `sent` counts rows
    // handed to the response, so for an abandoned export it is an upper bound of what arrived.
    let completed = paged;
    const complete = (end: 'complete' | 'abandoned' | 'failed') => {
      if (completed) return;
      completed = true;
      void deps.audit
        .append({ ...entry, rowCount: sent, details: { ...entry.details, completes: decisionId, cursorTo: last, end } })
        .catch((error: unknown) => deps.logger.warn('audit completion entry failed', { error }));
    };
    const stream = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            if (!headerSent) {
              headerSent = true;
              controller.enqueue(encoder.encode(csvLine(names)));
            }
            if (pending) {
              const rows = pending;
              pending = null;
              nextPage = done ? null : fetchAfter(last);
              const slices = slicer((chunk) => controller.enqueue(chunk));
              for (const row of rows) slices.add(row);
              slices.end();
              sent += rows.length;
            } else if (nextPage) {
              const page = await nextPage;
              done = !page.more;
              last = page.last;
              nextPage = done ? null : fetchAfter(last);
              for (const chunk of page.chunks) controller.enqueue(chunk);
              sent += page.rows;
            }
            if (done) {
              complete('complete');
              controller.close();
            }
          } catch (error) {
            deps.logger.error('records stream failed', { error });
            complete('failed');
            controller.error(error);
          }
        },
        cancel() {
          complete('abandoned'); // the client went away mid-export
        },
      },
      { highWaterMark: 1 },
    );
    return { status: 200, headers, body: stream };
  }

  return {
    read: (p, req) => prepare(p, req, false),
    readPublic: (req) => prepare(ANONYMOUS, req, true),
  };
}
