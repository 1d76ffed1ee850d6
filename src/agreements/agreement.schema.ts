import * as v from 'valibot';
import { DatasetIdSchema, FieldNameSchema } from '../catalog/catalog.schema.ts';
import { NameText, NAME_MAX, storable } from '../shared/text.ts';

/**
 * Data-sharing agreements (perjanjian kerja sama, PKS): the shapes of the API
 * (shared/api-contract.md, "agreements"). `status` as answered is computed at the time of asking
 * (agreement.model.ts): stored `approved` reads `active` between validFrom and validTo, `expired`
 * after validTo.
 */
export const AGREEMENT_STATUSES = ['draft', 'approved', 'active', 'suspended', 'revoked', 'expired'] as const;
export type AgreementStatus = (typeof AGREEMENT_STATUSES)[number];
/** What the database holds; `active` and `expired` are read off the dates. */
export type StoredStatus = 'draft' | 'approved' | 'suspended' | 'revoked';

export const COVERAGES = ['whole', 'masked'] as const;
export type Coverage = (typeof COVERAGES)[number];

/** Why an agreement does not let a service principal have data: the reason codes of decisions and reads. */
export const AGREEMENT_DENIALS = [
  'NO_AGREEMENT',
  'AGREEMENT_EXPIRED',
  'PURPOSE_NOT_IN_AGREEMENT',
  'FIELD_NOT_IN_AGREEMENT',
  'EXEMPT_NOT_IN_AGREEMENT',
  'EXEMPTION_NOT_SHAREABLE',
] as const;
export type AgreementDenial = (typeof AGREEMENT_DENIALS)[number];

const requiredText = (max: number) =>
  v.pipe(v.string(), storable(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(max));
const isoDate = v.pipe(v.string(), v.isoDate('must be an ISO date (YYYY-MM-DD)'));
const Name = NameText(NAME_MAX);
const nonEmpty = <S extends v.GenericSchema>(s: S, max: number) =>
  v.pipe(v.array(s), v.minLength(1, 'must not be empty'), v.maxLength(max));

const coverage = v.picklist(COVERAGES, 'must be "whole" or "masked"');
/**
 * How an agreement covers one field: `"whole"` or `"masked"`, or `{ coverage, exempt: true }` to
 * cover exempt content of the field too (the drafting steward's explicit opt-in, approved with the
 * rest by a PPID). Without the opt-in an exempt field never leaves under the agreement.
 */
export const FieldCoverageSchema = v.union(
  [coverage, v.strictObject({ coverage, exempt: v.boolean() })],
  'must be "whole", "masked" or { "coverage": "whole" | "masked", "exempt": true }',
);
export type FieldCoverage = v.InferOutput<typeof FieldCoverageSchema>;

export const AgreementDatasetSchema = v.strictObject({
  id: DatasetIdSchema,
  fields: v.pipe(
    v.record(FieldNameSchema, FieldCoverageSchema),
    v.check((o) => Object.keys(o).length > 0, 'must name at least one field'),
  ),
});
export type AgreementDataset = v.InferOutput<typeof AgreementDatasetSchema>;

const datasetsSchema = v.pipe(
  nonEmpty(AgreementDatasetSchema, 100),
  v.check((list) => new Set(list.map((d) => d.id)).size === list.length, 'a dataset is named once'),
);

const bodyEntries = {
  title: requiredText(300),
  reference: requiredText(200),
  referenceDate: v.optional(v.nullable(isoDate)),
  recipient: v.strictObject({ agency: requiredText(300), principals: nonEmpty(Name, 50) }),
  legalBasis: requiredText(1000),
  purposes: nonEmpty(Name, 50),
  datasets: datasetsSchema,
  validFrom: isoDate,
  validTo: isoDate,
  rowsPerDay: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(2 ** 31 - 1)))),
  /** Whether the public register of agreements lists it (the PPID's choice; no field lists are shown). */
  publish: v.optional(v.boolean()),
};

const periodMessage = 'validTo must not be before validFrom';

export const CreateAgreementSchema = v.pipe(
  v.strictObject(bodyEntries),
  v.forward(
    v.partialCheck([['validFrom'], ['validTo']], (o) => o.validFrom <= o.validTo, periodMessage),
    ['validTo'],
  ),
);
export type CreateAgreement = v.InferOutput<typeof CreateAgreementSchema>;

/** A draft's terms may change; an approved agreement's terms are what was signed (only `publish` changes). */
export const UpdateAgreementSchema = v.pipe(
  v.partial(v.strictObject(bodyEntries)),
  v.forward(
    v.partialCheck(
      [['validFrom'], ['validTo']],
      (o) => o.validFrom === undefined || o.validTo === undefined || o.validFrom <= o.validTo,
      periodMessage,
    ),
    ['validTo'],
  ),
);
export type UpdateAgreement = v.InferOutput<typeof UpdateAgreementSchema>;

export const AgreementParamSchema = v.strictObject({
  id: v.pipe(v.string(), v.regex(/^pks-[a-z0-9]{1,40}$/, 'not an agreement id')),
});

export const DecideAgreementSchema = v.optional(
  v.strictObject({ note: v.optional(v.pipe(v.string(), storable(), v.maxLength(2000))) }),
  {},
);

export const ListAgreementsQuerySchema = v.strictObject({
  recipient: v.optional(v.pipe(v.string(), v.maxLength(300))),
  status: v.optional(v.picklist(AGREEMENT_STATUSES)),
  /** `30d`: agreements in force whose validTo falls within the next 30 days. */
  expiring: v.optional(v.pipe(v.string(), v.regex(/^\d{1,4}d$/, 'expected days, e.g. 30d'))),
});

export const AgreementViewSchema = v.object({
  id: v.string(),
  title: v.string(),
  reference: v.string(),
  referenceDate: v.nullable(v.string()),
  /** The owner units of the datasets covered: whose PPID approves. */
  providerUnits: v.array(v.string()),
  recipient: v.object({ agency: v.string(), principals: v.array(v.string()) }),
  legalBasis: v.string(),
  purposes: v.array(v.string()),
  datasets: v.array(
    v.object({
      id: v.string(),
      fields: v.record(
        v.string(),
        v.union([v.picklist(COVERAGES), v.object({ coverage: v.picklist(COVERAGES), exempt: v.boolean() })]),
      ),
    }),
  ),
  validFrom: v.string(),
  validTo: v.string(),
  rowsPerDay: v.nullable(v.number()),
  publish: v.boolean(),
  /** As of the time of asking: `active` / `expired` are read off the dates. */
  status: v.picklist(AGREEMENT_STATUSES),
  draftedBy: v.string(),
  approvedBy: v.nullable(v.string()),
  version: v.number(),
  createdAt: v.string(),
  updatedAt: v.string(),
});
export type AgreementView = v.InferOutput<typeof AgreementViewSchema>;

export const AgreementEventViewSchema = v.object({
  seq: v.string(),
  at: v.string(),
  event: v.string(),
  actor: v.nullable(v.string()),
  status: v.string(),
  note: v.nullable(v.string()),
});
export type AgreementEventView = v.InferOutput<typeof AgreementEventViewSchema>;

export const ReportQuerySchema = v.strictObject({
  from: v.optional(isoDate),
  to: v.optional(isoDate),
  within: v.optional(v.pipe(v.string(), v.regex(/^\d{1,4}d$/, 'expected days, e.g. 30d'))),
});
