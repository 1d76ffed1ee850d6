import { datasetAgreement, withFieldAgreement } from '../agreements/agreement.attributes.ts';
import type { AgreementGate, Held } from '../agreements/agreement.gate.ts';
import { guardFields } from '../agreements/agreement.guard.ts';
import { NO_SHARING, type DatasetSharing, type Selection } from '../agreements/agreement.model.ts';
import { AuditEntryRefused } from '../audit/audit.entry.ts';
import type { AuditEntryInput, AuditLog } from '../audit/audit.port.ts';
import type { CatalogService, FieldForRead } from '../catalog/catalog.service.ts';
import { asTransaction, type Queryable, type Sql } from '../db/database.ts';
import { DomainError } from '../shared/errors.ts';
import { ANONYMOUS, type Principal } from '../identity/principal.ts';
import type { DatasetAttributes, FieldDecision, PolicyEngine } from '../policy/engine.types.ts';
import { planToSql, type Fragment } from '../policy/plan-sql.ts';
import type { PolicyService } from '../policy/policy.service.ts';
import { keysetExport, type Emit, type ExportEnd, type PageEnd } from '../shared/keyset-export.ts';
import type { Logger } from '../system/logger.ts';
import { csvCell, csvLine } from '../shared/csv.ts';
import type { ReadFormat } from './formats.ts';
import { applyMask, type Pseudonymiser, type RecordMask } from './masks.ts';
import { pseudonymKeyFor } from './pseudonym.ts';
import { normaliseValue, type Value } from './record-values.ts';
import { canSeeDataset } from './records.access.ts';
import { countUpTo, eachRecord, recordPage, rowSeq, type RecordRow } from './records.repo.ts';
import { datasetPredicate, isRangeType, rangeExpression } from './range-filter.ts';
import { readyRangeFields } from './range-index.repo.ts';
import { lawfulBasisOf, type PurposeRegister } from '../policy/purpose-register.ts';
import { legalBasisKey } from '../shared/legal-basis.ts';

export interface ReadDeps {
  sql: Sql;
  catalog: Pick<CatalogService, 'getFieldsForRead'>;
  policy: Pick<PolicyService, 'current'>;
  audit: AuditLog;
  pseudonymMaster: string | undefined;
  logger: Logger;
  /** Rows per keyset page while streaming an export. */
  streamPage?: number;
  /** Agreements a service principal's reads rest on (src/agreements); absent, none are consulted. */
  agreements?: AgreementGate;
  /** The register of processing purposes (in memory): a disclosure's entry records its lawful basis. */
  purposes?: () => PurposeRegister | null;
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
  /** Aborted once the caller was answered without this read (its deadline passed): nothing may count as sent. */
  gaveUp?: AbortSignal | undefined;
}

/** Why fields were omitted, as data: the route words it (X-Jaga-Omitted-Reason). */
export type Omission =
  /** Personal or exempt fields that need a (different) declared purpose. */
  | { because: 'purpose'; purpose: string | null; fields: string[]; detail?: string }
  /** The open-data route exports public fields only. */
  | { because: 'open-data'; fields: string[]; law?: string[] }
  /** The policies grant these fields to nobody like this principal. */
  | { because: 'policy'; fields: string[]; law?: string[] };

/** The legal citation at the head of an omission's reason (src/policy/citations.ts), if any. */
const CITATION = /^(exempt information [^;]*|exemption proposed [^;]*|personal data \([^;]*)/;

/** A read decided, logged and rendered; the route turns it into a response. */
export interface ReadResult {
  format: ReadFormat;
  /** The id of the audit entry that records this disclosure. */
  decisionId: string;
  masked: string[];
  omitted: string[];
  omission: Omission | null;
  purpose: string | null;
  /** Only public data left: the answer is the same for everyone and may be cached. */
  publicOnly: boolean;
  /** The cursor after this page (paged reads; null for a whole export or the last page). */
  nextCursor: string | null;
  body: string | ReadableStream<Uint8Array>;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** Opaque cursor: the last record's seq, base64url. */
export const encodeSeq = (seq: string) => Buffer.from(seq, 'utf8').toString('base64url');
export function decodeSeq(cursor: string | undefined): bigint {
  if (cursor === undefined || cursor === '') return 0n;
  const s = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{1,19}$/.test(s)) {
    throw new DomainError('VALIDATION_FAILED', 'The cursor is not valid.', {
      errors: [{ path: 'query.cursor', message: 'not a cursor this API issued' }],
    });
  }
  return BigInt(s);
}

/** One field's way out: whole, masked (with its mask) or not at all. */
interface Outgoing {
  field: FieldForRead;
  mask: RecordMask | null;
}

const notFound = (id: string) => new DomainError('NOT_FOUND', `There is no dataset ${id}.`);

/**
 * The second guard of the open-data export, independent of policies: only fields whose
 * effective label is public and that are not specific personal data (unless a PPID declassified
 * them under UU 14/2008 art. 18(2)) may leave, and only whole.
 */
export function openDataField(f: FieldForRead): boolean {
  return f.classification === 'public' && (f.personalDataKind !== 'specific' || f.declassified === true);
}

export interface ReadService {
  /** An enforced read: row scope, field decisions and purpose from the policies. */
  read(p: Principal, req: ReadRequest): Promise<ReadResult>;
  /** The anonymous open-data export: public datasets and effectively public fields only. */
  readPublic(req: ReadRequest): Promise<ReadResult>;
}

/** Step 1, decide: who reads which dataset, for which purpose, on which route. */
interface Access {
  route: 'enforced' | 'open-data';
  principal: Principal;
  dataset: DatasetAttributes;
  fields: FieldForRead[];
  engine: PolicyEngine;
  /** The dataset decision (rule and reason), recorded with the disclosure. */
  seen: { ruleId: string | null; reason: string };
  purpose: string | null;
  /** A service principal's read: the agreement it rests on (or why none), read from the database. */
  agreement: Selection | null;
  /** Under an agreement: the dataset's field exemptions that may be shared (their DIK records), as decided. */
  sharing: DatasetSharing;
  /** The purpose's lawful basis in the register (UU 27/2022 art. 20), null when none. */
  lawfulBasis: string | null;
}

/** Step 2a, plan fields: which fields leave (the columns, in dataset order) and how. */
interface FieldPlan {
  columns: FieldForRead[];
  /** Per column: its mask, or null when it leaves whole. */
  columnMasks: (RecordMask | null)[];
  outgoing: Map<string, Outgoing>;
  whole: string[];
  masked: string[];
  omitted: string[];
  masks: Record<string, RecordMask>;
  omission: Omission | null;
}

/** Step 2b, plan rows: which rows (row scope and filters as SQL; null reads none) and how many. */
interface RowPlan {
  where: Fragment | null;
  paged: boolean;
  limit: number;
  after: bigint;
  /** Find the rows through the range indexes first (few match), not by walking the dataset in order. */
  indexFirst: boolean;
}

/** The first page, read before anything leaves so that a failing query still answers with a problem. */
interface FirstPage {
  rows: RecordRow[];
  more: boolean;
  /** The seq after which the next page starts. */
  last: string;
}

export function createReadService(deps: ReadDeps): ReadService {
  const reader: Reader = { ...deps, streamPage: deps.streamPage ?? 2000 };
  return {
    read: (p, req) => read(reader, p, req, 'enforced'),
    readPublic: (req) => read(reader, ANONYMOUS, req, 'open-data'),
  };
}

/** The service's dependencies with the page size settled. */
type Reader = ReadDeps & { streamPage: number };

/** Step 1: the dataset must be visible (else 404, as if missing) and the purpose held. */
async function decide(deps: Reader, p: Principal, req: ReadRequest, route: Access['route']): Promise<Access> {
  const read = await deps.catalog.getFieldsForRead(req.datasetId);
  const engine = deps.policy.current();
  if (!read) throw notFound(req.datasetId);
  let dataset = read.dataset;
  let fields = read.fields;
  if (route === 'open-data' && (dataset.classification !== 'public' || dataset.labelPending))
    throw notFound(req.datasetId);
  const purpose = route === 'open-data' ? null : req.purpose;
  // A service principal's read rests on an agreement, which the policies name as `agreement`.
  let agreement: Selection | null = null;
  let sharing: DatasetSharing = NO_SHARING;
  if (route === 'enforced' && p.kind === 'service' && deps.agreements) {
    const selected = await deps.agreements.select(p, dataset.id, purpose);
    const selection = selected.selection;
    agreement = selection;
    sharing = selected.sharing;
    const plain = dataset;
    dataset = { ...dataset, agreement: datasetAgreement(selection) } as DatasetAttributes;
    fields = fields.map((f) => withFieldAgreement(selection, selected.sharing, plain.id, f));
    if (selection.code && plain.classification !== 'public') {
      // Refused for want of an agreement: logged (the refusals report), and said by its code when
      // the principal knows the dataset (an agreement names it, or the policies show it the dataset).
      const known =
        selection.mentioned || canSeeDataset(engine, p, { ...plain, agreement: null } as DatasetAttributes).allow;
      await logRefusal(deps, p, plain, engine.version, purpose, selection.code, req);
      if (!known) throw notFound(req.datasetId);
      throw new DomainError(selection.code, refusalText(selection.code, plain.id));
    }
  }
  const seen = canSeeDataset(engine, p, dataset, agreement ? purpose : null);
  const unheld = purpose !== null && !p.purposes.includes(purpose);
  // Under an agreement the dataset is seen for the purpose, so a purpose not held hides it: say why.
  if (!seen.allow && !(unheld && agreement?.agreement)) throw notFound(req.datasetId);
  if (unheld) {
    throw new DomainError('PURPOSE_NOT_HELD', `The purpose "${purpose}" is not one you hold.`);
  }
  return {
    route,
    principal: p,
    dataset,
    fields,
    engine,
    seen: { ruleId: seen.ruleId, reason: seen.reason },
    purpose,
    agreement,
    sharing,
    lawfulBasis: lawfulBasisOf(deps.purposes?.() ?? null, purpose),
  };
}

const REFUSALS: Record<string, string> = {
  NO_AGREEMENT: 'No active agreement names you and covers dataset',
  AGREEMENT_EXPIRED: 'The agreement covering you for this data has expired: dataset',
  PURPOSE_NOT_IN_AGREEMENT: 'No active agreement covering you names the declared purpose for dataset',
};
const refusalText = (code: string, id: string) => `${REFUSALS[code] ?? code} ${id}.`;

/** A service read refused for want of an agreement, in the log before the refusal is answered (the refusals report). */
async function logRefusal(
  deps: Reader,
  p: Principal,
  d: DatasetAttributes,
  policyVersion: string,
  purpose: string | null,
  code: string,
  req: ReadRequest,
): Promise<void> {
  await deps.audit
    .appendDurable({
      event: 'decision',
      principal: { sub: p.sub, kind: p.kind, roles: [...p.roles], unit: p.unit },
      action: 'read',
      resource: { type: 'Dataset', id: d.id, classification: d.classification, labelVersion: d.labelVersion },
      effect: 'deny',
      ruleId: null,
      reason: `${code}: ${refusalText(code, d.id)}`,
      policyVersion,
      purpose,
      requestId: req.requestId,
      traceId: req.traceId,
      details: { route: 'enforced', refusal: code },
    })
    .catch((error: unknown) => deps.logger.warn('audit entry of a refused read failed', { error }));
}

function planFields(a: Access): FieldPlan {
  let decisions: FieldDecision[] = a.engine.decideFields(a.principal, a.fields, a.purpose);
  // A service principal's fields leave only as its agreement covers them, whatever its other roles.
  if (a.agreement) decisions = guardFields(a.principal, a.fields as unknown as Record<string, unknown>[], decisions);
  // Every withheld part states its reason (UU 14/2008 art. 17; the exemption or the PDP rule).
  const law = decisions.flatMap((x) => {
    const cited = x.outcome === 'omitted' ? CITATION.exec(x.reason)?.[1] : undefined;
    return cited ? [`${x.field}: ${cited}`] : [];
  });
  if (a.route === 'open-data') {
    // Never masked, never anything but effectively public fields, whatever the policies say.
    decisions = decisions.map((x, i) =>
      x.outcome === 'whole' && openDataField(a.fields[i]!)
        ? x
        : { field: x.field, outcome: 'omitted', ruleId: null, reason: 'not open data' },
    );
  }
  const byName = new Map(a.fields.map((f) => [f.name, f]));
  const plan: FieldPlan = {
    columns: [],
    columnMasks: [],
    outgoing: new Map(),
    whole: [],
    masked: [],
    omitted: [],
    masks: {},
    omission: null,
  };
  for (const x of decisions) {
    const field = byName.get(x.field)!;
    if (x.outcome === 'whole' && field.redactSpans && field.type === 'string') {
      // A scan found identifiers inside this text: they stay behind until a steward decides.
      plan.outgoing.set(x.field, { field, mask: 'redact_spans' });
      plan.masked.push(x.field);
      plan.masks[x.field] = 'redact_spans';
    } else if (x.outcome === 'whole') {
      plan.outgoing.set(x.field, { field, mask: null });
      plan.whole.push(x.field);
    } else if (x.outcome === 'masked' && x.mask) {
      plan.outgoing.set(x.field, { field, mask: x.mask });
      plan.masked.push(x.field);
      plan.masks[x.field] = x.mask;
    } else plan.omitted.push(x.field);
  }
  plan.columns = a.fields.filter((f) => plan.outgoing.has(f.name));
  plan.columnMasks = plan.columns.map((f) => plan.outgoing.get(f.name)!.mask);
  const needing = decisions.filter((x) => x.outcome === 'omitted' && x.needs === 'purpose');
  const forPurpose = needing.map((x) => x.field);
  // The register's refusal (purpose-register.ts), when that is why: the caller learns what to fix.
  const unregistered = needing.map((x) => /withheld: (purpose [^;]*)/.exec(x.reason)?.[1]).find(Boolean);
  if (forPurpose.length)
    plan.omission = {
      because: 'purpose',
      purpose: a.purpose,
      fields: forPurpose,
      ...(unregistered ? { detail: unregistered } : {}),
    };
  else if (plan.omitted.length)
    plan.omission = {
      because: a.route === 'open-data' ? 'open-data' : 'policy',
      fields: plan.omitted,
      ...(law.length ? { law } : {}),
    };
  return plan;
}

function scopeSql(deps: Reader, a: Access): Fragment | null {
  const { sql } = deps;
  const plan = a.engine.plan(a.principal, 'read', 'Record', a.purpose);
  if (plan.kind === 'never') return null;
  const lit = (v: string | null): Fragment => (v === null ? sql`null::text` : sql`${v}::text`);
  // Record attributes (engine.types.ts): the row's unit is a column; the rest are the dataset's.
  const scope = planToSql(sql, plan, {
    unit: sql`r.unit`,
    datasetId: lit(a.dataset.id),
    ownerUnit: lit(a.dataset.ownerUnit),
    classification: lit(a.dataset.classification),
    agreement: lit(a.agreement ? datasetAgreement(a.agreement) : null),
  });
  if (a.route === 'open-data')
    return sql`${scope} and ${a.dataset.classification === 'public' ? sql`true` : sql`false`}`;
  return scope;
}

const RANGE_OPS = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** A range comparison: its field, the expression its index holds, and the comparison itself. */
interface Ranged {
  field: string;
  expr: Fragment;
  cmp: Fragment;
}

/** The filters as SQL; `ranged` are the range comparisons, each on the expression its index holds. */
function filterSql(
  deps: Reader,
  datasetId: string,
  filters: Filter[],
  fields: FieldForRead[],
  outgoing: Map<string, Outgoing>,
  law: string[] = [],
): { where: Fragment; ranged: Ranged[] } {
  const { sql } = deps;
  let where: Fragment = sql`true`;
  const ranged: Ranged[] = [];
  for (const f of filters) {
    const field = fields.find((x) => x.name === f.field);
    if (!field) {
      throw new DomainError('VALIDATION_FAILED', `The dataset has no field ${f.field}.`, {
        errors: [{ path: `query.${f.field}`, message: 'unknown field' }],
      });
    }
    // A filter discloses the value it matches: only on fields the caller sees whole.
    const out = outgoing.get(f.field);
    if (!out || out.mask !== null) {
      const cited = law.find((l) => l.startsWith(`${f.field}: `))?.slice(f.field.length + 2);
      throw new DomainError(
        'FILTER_NOT_ALLOWED',
        `You may not filter on ${f.field}: you do not see it whole${cited ? ` (${cited})` : ''}.`,
        { errors: [{ path: `query.${f.field}`, message: cited ?? 'not a field you may see whole' }] },
      );
    }
    const v = normaliseValue(field.type, f.value, true);
    if ('error' in v || v.value === null) {
      throw new DomainError('VALIDATION_FAILED', `The filter on ${f.field} is not valid.`, {
        errors: [{ path: `query.${f.field}`, message: 'error' in v ? v.error : 'expected a value' }],
      });
    }
    if (f.op === 'eq') {
      const numeric = field.type === 'integer' || field.type === 'number';
      const col = numeric ? sql`(r.data->>${f.field})::numeric` : sql`(r.data->>${f.field})`;
      const val = numeric ? sql`${String(v.value)}::numeric` : sql`${String(v.value)}::text`;
      // Equality also as containment, which the GIN index on data (jsonb_path_ops, migration 0011)
      // serves; the comparison stays, so the result is exactly the same.
      where = sql`${where} and r.data @> ${sql.json({ [f.field]: v.value })} and ${col} = ${val}`;
      continue;
    }
    if (!isRangeType(field.type)) {
      // Text and booleans keep their plain comparison (no order worth an index: never declared range).
      where = sql`${where} and (r.data->>${f.field}) ${sql.unsafe(RANGE_OPS[f.op])} ${String(v.value)}::text`;
      continue;
    }
    // The very expression the field's range index holds (range-filter.ts), so the planner matches it.
    const expr = sql`${sql.unsafe(rangeExpression(f.field, field.type, 'r.data'))}`;
    const cmp = sql`${expr} ${sql.unsafe(RANGE_OPS[f.op])} ${
      field.type === 'integer' || field.type === 'number'
        ? sql`${String(v.value)}::numeric`
        : sql`${String(v.value)}::text`
    }`;
    ranged.push({ field: f.field, expr, cmp });
  }
  if (!ranged.length) return { where, ranged };
  // The range indexes are partial on their dataset: say it as they do, so the planner can prove it.
  const indexed = sql`${sql.unsafe(datasetPredicate(datasetId, 'r.dataset_id'))}`;
  return { where: ranged.reduce((acc, r) => sql`${acc} and ${r.cmp}`, sql`${where} and ${indexed}`), ranged };
}

/**
 * Most rows a range read finds through its indexes and then sorts; where more match, walking the
 * dataset in order fills a page sooner (about `limit` / share-matching rows are read). Every range
 * read on an indexed field counts up to this many matches first, a heap visit each: the bound
 * weighs that count, paid by wide ranges, against the walk, paid by ranges just above it.
 */
export const INDEX_FIRST_MAX = 2000;

async function planRows(deps: Reader, a: Access, fields: FieldPlan, req: ReadRequest): Promise<RowPlan> {
  const { sql } = deps;
  const filters = filterSql(
    deps,
    a.dataset.id,
    req.filters,
    a.fields,
    fields.outgoing,
    fields.omission && fields.omission.because !== 'purpose' ? (fields.omission.law ?? []) : [],
  );
  const scope = scopeSql(deps, a);
  const paged = req.format === 'json' || req.limit !== undefined;
  const limit = Math.min(req.limit ?? (paged ? DEFAULT_LIMIT : deps.streamPage), paged ? MAX_LIMIT : deps.streamPage);
  const rows: RowPlan = {
    where: scope ? sql`${scope} and ${filters.where}` : null,
    paged,
    limit,
    after: decodeSeq(req.cursor),
    indexFirst: false,
  };
  // The planner cannot know how many records a range matches (a partial index's statistics are not
  // used for estimates): ask the ready indexes, counting no further than the point where walking wins.
  if (rows.where && filters.ranged.length) {
    const ready = await readyRangeFields(sql, a.dataset.id);
    const indexed = filters.ranged.filter((r) => ready.has(r.field));
    if (indexed.length) {
      const probe = indexed.reduce(
        (acc, r) => sql`${acc} and ${r.cmp}`,
        sql`${sql.unsafe(datasetPredicate(a.dataset.id, 'r.dataset_id'))}`,
      );
      rows.indexFirst =
        (await countUpTo(sql, a.dataset.id, probe, INDEX_FIRST_MAX, indexed[0]!.expr)) < INDEX_FIRST_MAX;
    }
  }
  return rows;
}

async function readFirst(
  deps: Reader,
  a: Access,
  fields: FieldPlan,
  rows: RowPlan,
  sql: Queryable = deps.sql,
): Promise<FirstPage> {
  const page = {
    datasetId: a.dataset.id,
    afterSeq: rows.after,
    where: rows.where!,
    limit: rows.limit + 1,
    columns: fields.columns,
    indexFirst: rows.indexFirst,
  };
  const first: RecordRow[] = rows.where ? await recordPage(sql, page) : [];
  const more = first.length > rows.limit;
  if (more) first.length = rows.limit;
  return { rows: first, more, last: first.length ? rowSeq(first.at(-1)!) : rows.after.toString() };
}

/** The disclosure entry: ids and field names only, never a value. */
function disclosureEntry(
  a: Access,
  fields: FieldPlan,
  rows: RowPlan,
  first: FirstPage,
  req: ReadRequest,
  held: Held | null,
): AuditEntryInput {
  const p = a.principal;
  const d = a.dataset;
  // Exempt content that left under an agreement: which fields, on which DIK records, on which legal basis.
  const exempt = held ? fields.columns.filter((f) => f.classification === 'exempt') : [];
  const basis = a.agreement?.agreement?.legalBasis;
  return {
    event: 'disclosure',
    principal: { sub: p.sub, kind: p.kind, roles: [...p.roles], unit: p.unit },
    action: 'read',
    resource: { type: 'Dataset', id: d.id, classification: d.classification, labelVersion: d.labelVersion },
    effect: 'allow',
    ruleId: a.seen.ruleId,
    reason: a.seen.reason,
    policyVersion: a.engine.version,
    fields: { whole: fields.whole, masked: fields.masked, omitted: fields.omitted },
    purpose: a.purpose,
    rowCount: rows.paged ? first.rows.length : null,
    requestId: req.requestId,
    traceId: req.traceId,
    details: {
      ...(held ? { agreementId: held.agreementId } : {}),
      ...(exempt.length && basis
        ? {
            exemptFields: exempt.map((f) => f.name),
            exemptDik: exempt.map((f) => a.sharing.get(f.name)?.dikNo ?? 'unknown'),
            exemptBasis: legalBasisKey(basis),
          }
        : {}),
      route: a.route,
      format: req.format,
      lawfulBasis: a.lawfulBasis,
      masks: Object.entries(fields.masks).map(([field, kind]) => `${field}:${kind}`),
      // The fields that left (whole or masked) and are personal data: what the disclosure reports count.
      personal: fields.columns.filter((f) => f.personalDataKind !== 'none').map((f) => f.name),
      // Filter fields and operators only: a filter value may itself be personal data.
      filters: req.filters.map((f) => `${f.field}[${f.op}]`),
      rowScope: rows.where ? 'plan' : 'never',
      cursorFrom: rows.after.toString(),
      ...(rows.paged ? { cursorTo: first.last, limit: rows.limit } : { export: true, limit: null }),
    },
  };
}

/**
 * Step 3, log: the entry's id once the log holds it. A restricted or exempt read waits until the
 * entry is durable; a public-only read until it is queued. Either way, an entry the log did not
 * take means nothing is disclosed (and no id is handed out that the log does not hold).
 */
async function logDisclosure(deps: Reader, entry: AuditEntryInput, publicOnly: boolean): Promise<string> {
  try {
    return (publicOnly ? await deps.audit.append(entry) : await deps.audit.appendDurable(entry)).id;
  } catch (error) {
    if (error instanceof AuditEntryRefused) throw error; // the request's text, not the log's state
    deps.logger.error(`audit log unavailable: refusing a ${publicOnly ? 'public' : 'restricted'} read`, { error });
    throw new DomainError('AUDIT_UNAVAILABLE', 'The audit log cannot record this read, so nothing is disclosed.', {
      cause: error,
    });
  }
}

/** Step 4a: one function per column from stored value to the value that leaves (masks applied). */
async function projectorsFor(deps: Reader, a: Access, fields: FieldPlan): Promise<((row: RecordRow) => Value)[]> {
  const { sql } = deps;
  const key: Pseudonymiser = fields.masked.some((f) => fields.masks[f] === 'pseudonym')
    ? await pseudonymKeyFor(sql, deps.pseudonymMaster, a.dataset.id)
    : () => '[redacted]';
  return fields.columns.map((f, i): ((row: RecordRow) => Value) => {
    const mask = fields.columnMasks[i];
    if (!mask) return (row) => row[i + 1]!;
    const ctx = { personalData: f.personalData, type: f.type, pseudonymKey: key };
    return (row) => applyMask(mask, row[i + 1]!, ctx);
  });
}

/** Step 4b: the body. JSON is one page; NDJSON and CSV stream (one page, or the export from the cursor). */
function render(
  deps: Reader,
  a: Access,
  fields: FieldPlan,
  rows: RowPlan,
  first: FirstPage,
  project: ((row: RecordRow) => Value)[],
  ends: (end: ExportEnd, rowCount: number, last: string) => void,
  format: ReadFormat,
): string | ReadableStream<Uint8Array> {
  const names = fields.columns.map((f) => f.name);
  if (format === 'json') {
    const items = first.rows.map((row) => {
      const o: Record<string, Value> = {};
      for (let i = 0; i < names.length; i++) o[names[i]!] = project[i]!(row);
      return o;
    });
    return JSON.stringify({ items, nextCursor: first.more ? encodeSeq(first.last) : null });
  }
  const renderRow = rowRenderer(format, names, project);
  const whole = !rows.paged && rows.where !== null;
  return keysetExport<string>({
    ...(format === 'csv' ? { head: csvLine(names) } : {}),
    start: first.last,
    first: {
      end: { rows: first.rows.length, last: first.last, more: whole && first.more },
      render: (emit) => first.rows.forEach((row) => emit(renderRow(row))),
    },
    next: (after, emit) => renderPage(deps, a, fields, rows, after, emit, renderRow),
    ...(rows.paged ? {} : { onEnd: ends }),
    onError: (error) => deps.logger.error('records stream failed', { error }),
  });
}

/**
 * The page after `seq`, each row rendered as the driver decodes it: no page of rows is held, so
 * rows die in V8's young generation instead of surviving collections while the page is sent.
 */
async function renderPage(
  deps: Reader,
  a: Access,
  fields: FieldPlan,
  plan: RowPlan,
  seq: string,
  emit: Emit,
  renderRow: (row: RecordRow) => string,
): Promise<PageEnd<string>> {
  const { sql, streamPage } = deps;
  let rows = 0;
  let last = seq;
  let failure: { error: unknown } | null = null;
  const page = {
    datasetId: a.dataset.id,
    afterSeq: BigInt(seq),
    where: plan.where!,
    limit: streamPage + 1,
    columns: fields.columns,
    indexFirst: plan.indexFirst,
  };
  const total = await eachRecord(sql, page, (row) => {
    if (rows === streamPage || failure) return; // the extra row only says that more follow
    try {
      emit(renderRow(row));
    } catch (error) {
      failure = { error }; // thrown below: a throw here would break the driver's parsing
      return;
    }
    rows++;
    last = rowSeq(row);
  });
  if (failure) throw (failure as { error: unknown }).error;
  return { rows, last, more: total > streamPage };
}

async function read(deps: Reader, p: Principal, req: ReadRequest, route: Access['route']): Promise<ReadResult> {
  const access = await decide(deps, p, req, route);
  const fields = planFields(access);
  const rows = await planRows(deps, access, fields, req);
  const { first, held, logged } = await readUnderAgreement(deps, access, fields, rows, req);
  const project = await projectorsFor(deps, access, fields);
  // The decision is durable before the first byte of a restricted or exempt read leaves.
  const publicOnly =
    access.dataset.classification === 'public' && fields.columns.every((f) => f.classification === 'public');
  const entry = logged?.entry ?? disclosureEntry(access, fields, rows, first, req, held);
  const decisionId = logged?.id ?? (await logDisclosure(deps, entry, publicOnly));
  // A streamed export's row count is known only at its end, however it ends (read to the end,
  // abandoned by the client, failed); it is recorded once, beside the decision. The count is of
  // rows handed to the response, so for an abandoned export it is an upper bound of what arrived.
  const ends = (end: ExportEnd, rowCount: number, last: string) =>
    void deps.audit
      .append({ ...entry, rowCount, details: { ...entry.details, completes: decisionId, cursorTo: last, end } })
      .catch((error: unknown) => deps.logger.warn('audit completion entry failed', { error }));
  return {
    format: req.format,
    decisionId,
    masked: fields.masked,
    omitted: fields.omitted,
    omission: fields.omission,
    purpose: access.purpose,
    publicOnly,
    nextCursor: rows.paged && first.more ? encodeSeq(first.last) : null,
    body: render(deps, access, fields, rows, first, project, ends, req.format),
  };
}

/**
 * The first page, and for a read resting on an agreement the agreement re-checked and the day's
 * allowance taken in the same transaction as the rows (agreement.gate.ts). A read under a row
 * limit is one page, cut to what is left of the day's allowance: nothing beyond the limit leaves.
 * Its disclosure entry is appended in that transaction too, so the rows counted against the
 * allowance and the entry commit together or not at all: a database lost before the commit
 * answers 503 and counts nothing, and no rows leave that the counter and the log do not hold.
 */
async function readUnderAgreement(
  deps: Reader,
  a: Access,
  fields: FieldPlan,
  rows: RowPlan,
  req: ReadRequest,
): Promise<{ first: FirstPage; held: Held | null; logged?: { id: string; entry: AuditEntryInput } }> {
  const gate = deps.agreements;
  const agreement = a.agreement?.agreement;
  if (!gate || !agreement || a.dataset.classification === 'public')
    return { first: await readFirst(deps, a, fields, rows), held: null };
  try {
    const read = await deps.sql.begin(async (tx) => {
      const held = await gate.hold(tx, a.principal, agreement, a.dataset.id, a.purpose, a.sharing);
      if (held.remaining !== null) {
        rows.paged = true;
        rows.limit = Math.min(rows.limit, held.remaining);
      }
      const first = await readFirst(deps, a, fields, rows, tx);
      await gate.count(tx, held, first.rows.length);
      const entry = disclosureEntry(a, fields, rows, first, req, held);
      const { id } = await deps.audit.appendWithin(asTransaction(tx), entry);
      // The caller already has its 503 (the database was slow or gone): roll back, count nothing.
      if (req.gaveUp?.aborted) throw new DomainError('DATABASE_UNAVAILABLE', 'The read was given up at its deadline.');
      return { first, held, logged: { id, entry } };
    });
    // Given up while the commit was on its way, or before this read is answered: the rows were
    // counted and logged but are never sent. (Answered in time, the deadline never aborts.)
    if (req.gaveUp?.aborted) await notSent(deps, gate, read);
    else req.gaveUp?.addEventListener('abort', () => void notSent(deps, gate, read), { once: true });
    return read;
  } catch (error) {
    if (
      error instanceof DomainError &&
      ['NO_AGREEMENT', 'AGREEMENT_EXPIRED', 'PURPOSE_NOT_IN_AGREEMENT'].includes(error.code)
    )
      await logRefusal(deps, a.principal, a.dataset, a.engine.version, a.purpose, error.code, req);
    throw error;
  }
}

/**
 * A read under an agreement that committed after its caller was answered 503: its rows are given
 * back to the day's allowance and a completion entry says they were not sent (`end: not_sent`,
 * `refunded`), which the disclosures report subtracts. Best effort: failures are logged.
 */
async function notSent(
  deps: Reader,
  gate: AgreementGate,
  read: { first: FirstPage; held: Held | null; logged?: { id: string; entry: AuditEntryInput } },
): Promise<void> {
  const { held, logged, first } = read;
  if (!held || !logged) return;
  try {
    await gate.refund(held, first.rows.length);
    await deps.audit.appendDurable({
      ...logged.entry,
      rowCount: 0,
      details: { ...logged.entry.details, completes: logged.id, end: 'not_sent', refunded: first.rows.length },
    });
  } catch (error) {
    deps.logger.error('a read given up at its deadline could not be uncounted', { error, decisionId: logged.id });
  }
}

/** One row as a line of text: CSV cells, or an NDJSON object written by hand (the keys are fixed). */
function rowRenderer(
  format: 'csv' | 'ndjson',
  names: string[],
  project: ((row: RecordRow) => Value)[],
): (row: RecordRow) => string {
  if (format === 'csv') {
    return (row) => {
      let out = '';
      for (let i = 0; i < project.length; i++) out += (i ? ',' : '') + csvCell(project[i]!(row));
      return out + '\r\n';
    };
  }
  const keyPrefixes = names.map((n, i) => (i ? ',' : '{') + JSON.stringify(n) + ':');
  return (row) => {
    let out = '';
    for (let i = 0; i < project.length; i++) out += keyPrefixes[i] + JSON.stringify(project[i]!(row));
    return out + (project.length ? '}\n' : '{}\n');
  };
}
