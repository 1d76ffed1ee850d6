import * as v from 'valibot';
import { NameText, storable } from '../shared/text.ts';
import { UNIT_CODE } from '../shared/unit-code.ts';

/**
 * Request and response shapes of the catalog (api-contract.md). Request objects are strict:
 * an unknown key (`version`, `ownerUnit` on update, approval state…) is refused, never ignored,
 * so nothing can be mass-assigned.
 */

export const CLASSIFICATIONS = ['public', 'restricted', 'exempt'] as const;
export const ClassificationSchema = v.picklist(CLASSIFICATIONS);
export type Classification = v.InferOutput<typeof ClassificationSchema>;

export const FIELD_TYPES = ['string', 'integer', 'number', 'boolean', 'date', 'datetime'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export const GENERAL_PERSONAL_DATA = [
  'name',
  'nik',
  'kk',
  'npwp',
  'phone',
  'email',
  'address',
  'birthdate',
  'other_general',
] as const;
/** Specific personal data (UU 27/2022 art. 4). */
export const SPECIFIC_PERSONAL_DATA = [
  'health',
  'biometric',
  'genetic',
  'criminal_record',
  'child',
  'financial',
  'other_specific',
] as const;
export const PERSONAL_DATA = ['none', ...GENERAL_PERSONAL_DATA, ...SPECIFIC_PERSONAL_DATA] as const;
export type PersonalData = (typeof PERSONAL_DATA)[number];

export const DATASET_ID = /^[a-z0-9][a-z0-9-]{1,63}$/;
export const FIELD_NAME = /^[a-z][a-z0-9_]{0,62}$/;
/** UU 14/2008 art. 17 letters, e.g. `17h`. Any other non-empty string cites another statute. */
export const KIP_GROUND = /^17[a-j]$/;

// Free text (src/shared/text.ts): anything PostgreSQL stores unchanged, newlines included.
const text = (max: number) => v.pipe(v.string(), storable(), v.trim(), v.maxLength(max));
const requiredText = (max: number) =>
  v.pipe(v.string(), storable(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(max));
const optionalText = (max: number) => v.optional(v.nullable(text(max)));
const isoDate = v.pipe(v.string(), v.isoDate('must be an ISO date (YYYY-MM-DD)'));

export const UnitCodeSchema = v.pipe(
  v.string(),
  v.regex(UNIT_CODE, 'must be a unit code such as RI, 32, 32.01 or 32.01.05'),
);
export const DatasetIdSchema = v.pipe(
  v.string(),
  v.regex(DATASET_ID, 'must be a slug: lowercase letters, digits and dashes, 2–64 characters'),
);
export const FieldNameSchema = v.pipe(
  v.string(),
  v.regex(FIELD_NAME, 'must start with a lowercase letter; lowercase letters, digits and _ only'),
);

export const FieldInputSchema = v.strictObject({
  name: FieldNameSchema,
  type: v.picklist(FIELD_TYPES),
  description: v.optional(text(2000)),
  personalData: v.optional(v.picklist(PERSONAL_DATA)),
});
export type FieldInput = v.InferOutput<typeof FieldInputSchema>;

/** Satu Data metadata (Perpres 39/2019): optional on create and update. */
const satuData = {
  producerUnit: v.optional(v.nullable(UnitCodeSchema)),
  updateFrequency: optionalText(100),
  periodCovered: optionalText(100),
  concepts: optionalText(10_000),
  referenceCodes: v.optional(v.pipe(v.array(requiredText(200)), v.maxLength(100))),
};

const fieldList = v.pipe(
  v.array(FieldInputSchema),
  v.maxLength(500),
  v.check((fs) => new Set(fs.map((f) => f.name)).size === fs.length, 'field names must be unique'),
);

export const CreateDatasetSchema = v.strictObject({
  id: DatasetIdSchema,
  title: requiredText(300),
  description: v.optional(text(10_000)),
  ownerUnit: UnitCodeSchema,
  sourceSystem: optionalText(100),
  steward: optionalText(200),
  ...satuData,
  fields: fieldList,
});
export type CreateDataset = v.InferOutput<typeof CreateDatasetSchema>;

/** Metadata update (PATCH). Owner unit, version and labels are not updatable here. */
export const UpdateDatasetSchema = v.strictObject({
  title: v.optional(requiredText(300)),
  description: v.optional(text(10_000)),
  sourceSystem: optionalText(100),
  steward: optionalText(200),
  ...satuData,
  /** Added or changed fields, by name; fields not listed stay as they are. */
  fields: v.optional(fieldList),
});
export type UpdateDataset = v.InferOutput<typeof UpdateDatasetSchema>;

/** Uji konsekuensi (consequence test, UU 14/2008 art. 2 and 19). */
export const ConsequenceTestSchema = v.strictObject({
  /** The harm disclosure would cause. */
  harm: requiredText(10_000),
  /** Why withholding outweighs the public interest in disclosure. */
  publicInterest: requiredText(10_000),
});
export type ConsequenceTest = v.InferOutput<typeof ConsequenceTestSchema>;

export const LabelDatasetSchema = v.strictObject({
  classification: ClassificationSchema,
  justification: v.optional(requiredText(10_000)),
  grounds: v.optional(v.pipe(v.array(requiredText(200)), v.maxLength(20))),
  // Completeness of an exemption is checked by the service, so all missing parts are listed at once.
  consequenceTest: v.optional(
    v.strictObject({ harm: v.optional(requiredText(10_000)), publicInterest: v.optional(requiredText(10_000)) }),
  ),
  reviewBy: v.optional(isoDate),
});
export type LabelDataset = v.InferOutput<typeof LabelDatasetSchema>;

export const LabelFieldSchema = v.strictObject({
  /** null removes the field's own label (it then follows the dataset's). */
  classification: v.nullable(ClassificationSchema),
  justification: v.optional(requiredText(10_000)),
});
export type LabelField = v.InferOutput<typeof LabelFieldSchema>;

export const DecideProposalSchema = v.strictObject({
  /** The decision's reference (e.g. the PPID's decree number). */
  decisionRef: v.optional(requiredText(200)),
  justification: v.optional(requiredText(10_000)),
});
export type DecideProposal = v.InferOutput<typeof DecideProposalSchema>;

const booleanQuery = v.pipe(
  v.picklist(['true', 'false']),
  v.transform((s) => s === 'true'),
);

export const ListDatasetsQuerySchema = v.strictObject({
  classification: v.optional(ClassificationSchema),
  unit: v.optional(UnitCodeSchema),
  unlabelled: v.optional(booleanQuery),
  reviewOverdue: v.optional(booleanQuery),
  sourceSystem: v.optional(requiredText(100)),
  pending: v.optional(booleanQuery),
  search: v.optional(requiredText(100)),
  cursor: v.optional(v.pipe(v.string(), storable(), v.maxLength(200))),
  limit: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,3}$/, 'must be an integer 1–200'), v.toNumber(), v.minValue(1), v.maxValue(200)),
  ),
});
export type ListDatasetsQuery = v.InferOutput<typeof ListDatasetsQuerySchema>;

export const RegisterQuerySchema = v.strictObject({
  cursor: v.optional(v.pipe(v.string(), storable(), v.maxLength(200))),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,4}$/, 'must be an integer 1–1000'),
      v.toNumber(),
      v.minValue(1),
      v.maxValue(1000),
    ),
  ),
});

/**
 * Ids in paths: names (no NUL, lone surrogate, whitespace or control character), so a well-formed
 * id that names nothing is a 404 and text the database cannot compare is a 400.
 */
export const DatasetParamSchema = v.object({ id: NameText() });
export const FieldParamSchema = v.object({ id: NameText(), field: NameText() });

export const CreateUnitSchema = v.strictObject({
  code: UnitCodeSchema,
  name: requiredText(200),
});
export type CreateUnit = v.InferOutput<typeof CreateUnitSchema>;

// ---- Responses (documentation; built by catalog.view.ts) ----

const nullableClassification = v.nullable(ClassificationSchema);

export const FieldViewSchema = v.object({
  name: v.string(),
  type: v.picklist(FIELD_TYPES),
  description: v.string(),
  personalData: v.picklist(PERSONAL_DATA),
  personalDataKind: v.picklist(['none', 'general', 'specific']),
  classification: nullableClassification,
  effectiveClassification: nullableClassification,
});
export type FieldView = v.InferOutput<typeof FieldViewSchema>;

export const PendingViewSchema = v.object({
  classification: v.literal('exempt'),
  grounds: v.array(v.string()),
  consequenceTest: ConsequenceTestSchema,
  reviewBy: v.string(),
  proposedBy: v.string(),
  proposedAt: v.string(),
  historyId: v.string(),
});

export const DatasetViewSchema = v.object({
  id: v.string(),
  title: v.string(),
  description: v.string(),
  ownerUnit: v.string(),
  sourceSystem: v.nullable(v.string()),
  steward: v.nullable(v.string()),
  producerUnit: v.nullable(v.string()),
  updateFrequency: v.nullable(v.string()),
  periodCovered: v.nullable(v.string()),
  concepts: v.nullable(v.string()),
  referenceCodes: v.array(v.string()),
  createdAt: v.string(),
  updatedAt: v.string(),
  version: v.number(),
  /** What every decision uses: null when unlabelled; `exempt` while an exemption is pending. */
  classification: nullableClassification,
  /** `unlabelled`, `labelled`, or `pending` (an exemption awaits a PPID). */
  labelStatus: v.picklist(['unlabelled', 'labelled', 'pending']),
  /** The label in force, not counting a pending proposal. */
  approvedClassification: nullableClassification,
  labelVersion: v.number(),
  label: v.object({
    grounds: v.nullable(v.array(v.string())),
    consequenceTest: v.nullable(ConsequenceTestSchema),
    reviewBy: v.nullable(v.string()),
    justification: v.nullable(v.string()),
    decidedBy: v.nullable(v.string()),
    decidedAt: v.nullable(v.string()),
    decisionRef: v.nullable(v.string()),
  }),
  pending: v.nullable(PendingViewSchema),
  fields: v.array(FieldViewSchema),
});
export type DatasetView = v.InferOutput<typeof DatasetViewSchema>;

export const DatasetPageSchema = v.object({ items: v.array(DatasetViewSchema), nextCursor: v.nullable(v.string()) });

export const LabelEventViewSchema = v.object({
  id: v.string(),
  datasetId: v.string(),
  field: v.nullable(v.string()),
  event: v.picklist(['label', 'proposal', 'approval', 'rejection']),
  from: nullableClassification,
  to: nullableClassification,
  grounds: v.nullable(v.array(v.string())),
  consequenceTest: v.nullable(ConsequenceTestSchema),
  reviewBy: v.nullable(v.string()),
  justification: v.nullable(v.string()),
  declassification: v.boolean(),
  proposalId: v.nullable(v.string()),
  decisionRef: v.nullable(v.string()),
  by: v.object({ sub: v.string(), roles: v.array(v.string()), unit: v.nullable(v.string()) }),
  at: v.string(),
  labelVersion: v.number(),
});
export type LabelEventView = v.InferOutput<typeof LabelEventViewSchema>;

export const UnitViewSchema = v.object({ code: v.string(), name: v.string(), parent: v.nullable(v.string()) });
export type UnitView = v.InferOutput<typeof UnitViewSchema>;

export const PublicRegisterEntrySchema = v.object({
  id: v.string(),
  title: v.string(),
  description: v.string(),
  ownerUnit: v.string(),
  ownerUnitName: v.string(),
  sourceSystem: v.nullable(v.string()),
  producerUnit: v.nullable(v.string()),
  updateFrequency: v.nullable(v.string()),
  periodCovered: v.nullable(v.string()),
  concepts: v.nullable(v.string()),
  referenceCodes: v.array(v.string()),
  updatedAt: v.string(),
  labelVersion: v.number(),
  /** The fields anyone may read (effectively public). */
  publicFields: v.array(v.object({ name: v.string(), type: v.string(), description: v.string() })),
});
export type PublicRegisterEntry = v.InferOutput<typeof PublicRegisterEntrySchema>;

export const ExemptRegisterEntrySchema = v.object({
  id: v.string(),
  title: v.string(),
  ownerUnit: v.string(),
  ownerUnitName: v.string(),
  grounds: v.array(v.string()),
  consequenceTest: ConsequenceTestSchema,
  decidedAt: v.nullable(v.string()),
  decisionRef: v.nullable(v.string()),
  reviewBy: v.string(),
  labelVersion: v.number(),
});
export type ExemptRegisterEntry = v.InferOutput<typeof ExemptRegisterEntrySchema>;

export const RegisterPageSchema = (item: v.GenericSchema) =>
  v.object({ items: v.array(item), nextCursor: v.nullable(v.string()) });
