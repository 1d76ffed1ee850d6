import * as v from 'valibot';
import { name, NAME_MAX } from '../shared/text.ts';

// Filters compare with what entries hold (names, src/shared/text.ts) and are recorded in the read's own entry.
const id = v.pipe(
  v.string(),
  v.minLength(1, 'expected an id'),
  name(NAME_MAX, `expected an id (no spaces or control characters, at most ${NAME_MAX} characters)`),
);
const time = v.pipe(
  v.string(),
  v.regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/,
    'expected an ISO-8601 date or date-time',
  ),
  v.check((s) => !Number.isNaN(Date.parse(s)), 'expected a valid date'),
);
const limit = v.pipe(
  v.string(),
  v.regex(/^\d{1,4}$/, 'expected 1-1000'),
  v.toNumber(),
  v.minValue(1, 'expected 1-1000'),
  v.maxValue(1000, 'expected 1-1000'),
);

export const EVENTS = ['decision', 'disclosure', 'label_change', 'catalog_change', 'audit_read'] as const;

/** Filters of GET /v1/audit/decisions (all optional; combined with AND). */
export const DecisionQuerySchema = v.object({
  principal: v.optional(id),
  unit: v.optional(
    v.pipe(v.string(), v.regex(/^(RI|\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?)$/, 'expected a unit code such as 32.01')),
  ),
  dataset: v.optional(id),
  action: v.optional(id),
  effect: v.optional(v.picklist(['allow', 'deny'])),
  event: v.optional(v.picklist(EVENTS)),
  purpose: v.optional(id),
  classification: v.optional(v.picklist(['public', 'restricted', 'exempt'])),
  from: v.optional(time),
  to: v.optional(time),
  requestId: v.optional(id),
  cursor: v.optional(v.pipe(v.string(), v.regex(/^\d{1,18}$/, 'expected a cursor from nextCursor'))),
  limit: v.optional(limit),
});
export type DecisionQuery = v.InferOutput<typeof DecisionQuerySchema>;

/** The decision-log stream: where to start (`after` a seq; default: the head, so only new entries) and the decisions filters. */
export const StreamQuerySchema = v.object({
  after: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,15}$/, 'expected a seq: entries after it are sent (0: the whole log)'),
      v.toNumber(),
    ),
  ),
  principal: DecisionQuerySchema.entries.principal,
  unit: DecisionQuerySchema.entries.unit,
  dataset: DecisionQuerySchema.entries.dataset,
  action: DecisionQuerySchema.entries.action,
  effect: DecisionQuerySchema.entries.effect,
  event: DecisionQuerySchema.entries.event,
  purpose: DecisionQuerySchema.entries.purpose,
  classification: DecisionQuerySchema.entries.classification,
});
export type StreamQuery = v.InferOutput<typeof StreamQuerySchema>;

export const ReportQuerySchema = v.object({
  from: v.optional(time),
  to: v.optional(time),
  principal: v.optional(id),
  dataset: v.optional(id),
  unit: DecisionQuerySchema.entries.unit,
  period: v.optional(v.picklist(['day', 'month', 'year']), 'month'),
});
export type ReportQuery = v.InferOutput<typeof ReportQuerySchema>;

/** GET /v1/audit/reports/disclosures: a report's filters and period, and a keyset page of its groups. */
export const DisclosureReportQuerySchema = v.object({
  ...ReportQuerySchema.entries,
  cursor: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9_-]{1,8000}$/, 'expected a cursor from nextCursor (Jaga-Report-Next-Cursor)'),
    ),
  ),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,6}$/, 'expected a number of rows'),
      v.toNumber(),
      v.minValue(1, 'expected at least 1 row'),
    ),
  ),
});
export type DisclosureReportQuery = v.InferOutput<typeof DisclosureReportQuerySchema>;

export const VerifyQuerySchema = v.object({
  checkpointSeq: v.optional(v.pipe(v.string(), v.regex(/^\d{1,18}$/, 'expected a seq'), v.toNumber())),
  checkpointHash: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'expected a hex SHA-256'))),
  checkpointAt: v.optional(v.string()),
  checkpointSignature: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'expected a hex HMAC'))),
  from: v.optional(v.picklist(['verified', 'genesis', 'checkpoint']), 'verified'),
});
export type VerifyQuery = v.InferOutput<typeof VerifyQuerySchema>;

const nullableString = v.nullable(v.string());

export const AuditItemSchema = v.object({
  id: v.string(),
  seq: v.number(),
  at: v.string(),
  decidedAt: v.string(),
  event: v.picklist(EVENTS),
  principal: v.object({ sub: nullableString, kind: v.string(), roles: v.array(v.string()), unit: nullableString }),
  action: v.string(),
  resource: v.object({
    type: v.string(),
    id: nullableString,
    datasetId: nullableString,
    unit: nullableString,
    classification: nullableString,
    labelVersion: v.nullable(v.number()),
  }),
  effect: v.picklist(['allow', 'deny']),
  ruleId: nullableString,
  reason: v.string(),
  policyVersion: nullableString,
  fields: v.object({ whole: v.array(v.string()), masked: v.array(v.string()), omitted: v.array(v.string()) }),
  purpose: nullableString,
  /** The data-sharing agreement a disclosure (or a service's check) rested on (src/agreements). */
  agreementId: nullableString,
  rowCount: v.nullable(v.number()),
  requestId: nullableString,
  traceId: nullableString,
  details: v.record(v.string(), v.unknown()),
  hash: v.string(),
  prevHash: v.string(),
});
export type AuditItem = v.InferOutput<typeof AuditItemSchema>;

export const AuditPageSchema = v.object({
  items: v.array(AuditItemSchema),
  nextCursor: v.nullable(v.string()),
  window: v.optional(
    v.pipe(
      v.object({ from: v.string(), reason: v.string() }),
      v.description('Present when the read named no anchor and was narrowed to the recent window'),
    ),
  ),
});

export const CheckpointSchema = v.object({
  seq: v.number(),
  hash: v.string(),
  at: v.string(),
  signature: nullableString,
  algorithm: v.nullable(v.literal('hmac-sha256')),
});

export const VerifyResultSchema = v.object({
  ok: v.boolean(),
  keyed: v.pipe(
    v.boolean(),
    v.description(
      'false without AUDIT_HMAC_KEY: the chain is plain SHA-256 and anyone with write access to the database could rewrite it consistently',
    ),
  ),
  checked: v.number(),
  lastSeq: v.number(),
  from: v.optional(
    v.pipe(
      v.object({ seq: v.number(), verifiedAt: v.string() }),
      v.description('The walk started after this entry, which an earlier walk found intact (from=verified)'),
    ),
  ),
  firstBad: v.optional(
    v.object({
      seq: v.number(),
      id: nullableString,
      problem: v.picklist(['hash', 'link', 'missing']),
      detail: v.string(),
    }),
  ),
  checkpoint: v.optional(
    v.object({
      ok: v.boolean(),
      seq: v.number(),
      problem: v.optional(v.picklist(['missing', 'hash', 'head_behind'])),
      signatureValid: v.nullable(v.boolean()),
    }),
  ),
});

export const VerifyJobSchema = v.object({
  id: v.string(),
  state: v.picklist(['running', 'done', 'failed']),
  startedAt: v.string(),
  finishedAt: v.nullable(v.string()),
  checked: v.number(),
  total: v.number(),
  result: v.nullable(VerifyResultSchema),
  error: v.nullable(v.string()),
});

export const VerifyJobParamsSchema = v.object({ id: v.pipe(v.string(), v.uuid('expected a job id')) });

export const DisclosureRowSchema = v.object({
  period: v.string(),
  principal: nullableString,
  principalUnit: nullableString,
  dataset: nullableString,
  purpose: nullableString,
  fieldsWhole: v.array(v.string()),
  fieldsMasked: v.array(v.string()),
  disclosures: v.number(),
  rows: v.number(),
  first: v.string(),
  last: v.string(),
});
export type DisclosureRow = v.InferOutput<typeof DisclosureRowSchema>;

export const DeniedRowSchema = v.object({
  principal: nullableString,
  kind: v.string(),
  principalUnit: nullableString,
  attempts: v.number(),
  datasets: v.number(),
  actions: v.array(v.string()),
  first: v.string(),
  last: v.string(),
});
export type DeniedRow = v.InferOutput<typeof DeniedRowSchema>;

const date = v.pipe(
  v.string(),
  v.regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date (YYYY-MM-DD)'),
  v.check((s) => !Number.isNaN(Date.parse(s)), 'expected a valid date'),
);

/** GET /v1/audit/reports/openness: the whole report as JSON; CSV / NDJSON give one `part`. */
export const OpennessQuerySchema = v.object({
  unit: DecisionQuerySchema.entries.unit,
  asOf: v.optional(date),
  part: v.optional(v.picklist(['units', 'grounds', 'overdue']), 'units'),
});
export type OpennessQuery = v.InferOutput<typeof OpennessQuerySchema>;

export const OpennessUnitRowSchema = v.object({
  unit: v.string(),
  unitName: v.string(),
  total: v.number(),
  public: v.number(),
  restricted: v.number(),
  exempt: v.number(),
  pending: v.number(),
  unlabelled: v.number(),
  /** Fields declared `none` in which a scan found personal data (src/detection). */
  personalDataUndeclared: v.number(),
});
export type OpennessUnitRow = v.InferOutput<typeof OpennessUnitRowSchema>;

export const OpennessGroundRowSchema = v.object({
  ground: v.string(),
  statute: v.string(),
  datasets: v.number(),
  units: v.number(),
  pending: v.number(),
});
export type OpennessGroundRow = v.InferOutput<typeof OpennessGroundRowSchema>;

export const OpennessOverdueRowSchema = v.object({
  dataset: v.string(),
  title: v.string(),
  unit: v.string(),
  reviewBy: v.string(),
  daysOverdue: v.number(),
  grounds: v.array(v.string()),
});
export type OpennessOverdueRow = v.InferOutput<typeof OpennessOverdueRowSchema>;

export const OpennessReportSchema = v.object({
  asOf: v.string(),
  unit: v.string(),
  units: v.array(OpennessUnitRowSchema),
  totals: v.omit(OpennessUnitRowSchema, ['unit', 'unitName']),
  grounds: v.array(OpennessGroundRowSchema),
  overdue: v.array(OpennessOverdueRowSchema),
});
export type OpennessReport = v.InferOutput<typeof OpennessReportSchema>;
