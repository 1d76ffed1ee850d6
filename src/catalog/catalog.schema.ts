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
  /** Civil-servant number (NIP), passport and BPJS numbers: added with detection (api-contract.md). */
  'nip',
  'passport',
  'bpjs',
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
/** UU 14/2008 art. 17 letters, e.g. `17h`, with an optional sub-clause (`17a.2`); another statute is cited under 17j. */
export const KIP_GROUND = /^17[a-j](\.[1-9][0-9]?)?$/;

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

/**
 * How records may be filtered on a field: `equality` (`?field=value`, always; served by the index
 * on all of `data`), or `range` (`?field[gt|gte|lt|lte]=v` as well, served by an index of its own,
 * built when declared). Range only on typed fields (integer, number, date, datetime).
 */
export const FIELD_FILTERS = ['equality', 'range'] as const;
export const RANGE_FIELD_TYPES: readonly FieldType[] = ['integer', 'number', 'date', 'datetime'];

export const FieldInputSchema = v.pipe(
  v.strictObject({
    name: FieldNameSchema,
    type: v.picklist(FIELD_TYPES),
    description: v.optional(text(2000)),
    personalData: v.optional(v.picklist(PERSONAL_DATA)),
    /** Unset: `equality` on create, unchanged on update. */
    filter: v.optional(v.picklist(FIELD_FILTERS)),
  }),
  v.forward(
    v.check(
      (f) => f.filter !== 'range' || RANGE_FIELD_TYPES.includes(f.type),
      'range filters need an integer, number, date or datetime field',
    ),
    ['filter'],
  ),
);
export type FieldInput = v.InferOutput<typeof FieldInputSchema>;

/** Satu Data metadata (Perpres 39/2019): optional on create and update. */
const satuData = {
  producerUnit: v.optional(v.nullable(UnitCodeSchema)),
  updateFrequency: optionalText(100),
  periodCovered: optionalText(100),
  concepts: optionalText(10_000),
  referenceCodes: v.optional(v.pipe(v.array(requiredText(200)), v.maxLength(100))),
};

/** Kinds of public information (UU 14/2008 art. 9–11): periodic, immediate, available at any time. */
export const INFO_KINDS = ['berkala', 'serta_merta', 'setiap_saat'] as const;

/** The DIP's columns the steward supplies (Perki 1/2021); optional on create and update. */
const dipMetadata = {
  /** The summary of contents (ringkasan isi) the DIP lists; a dataset without one is not yet listed. */
  summary: optionalText(2000),
  responsibleOfficial: v.optional(v.nullable(v.strictObject({ name: requiredText(200), position: requiredText(200) }))),
  /** When the information was produced (a date, a year or a period, as the body records it). */
  producedAt: optionalText(100),
  producedPlace: optionalText(200),
  /** Forms held: print, electronic, and formats (e.g. "elektronik (CSV)"). */
  forms: v.optional(v.pipe(v.array(requiredText(100)), v.maxLength(20))),
  /** Retention period and the archival rule it comes from (jadwal retensi arsip). */
  retention: v.optional(v.nullable(v.strictObject({ period: requiredText(200), reference: requiredText(300) }))),
  infoKind: v.optional(v.nullable(v.picklist(INFO_KINDS))),
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
  ...dipMetadata,
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
  ...dipMetadata,
  /** Added or changed fields, by name; fields not listed stay as they are. */
  fields: v.optional(fieldList),
});
export type UpdateDataset = v.InferOutput<typeof UpdateDatasetSchema>;

/** When the consequence test was run (domain.md §1): before any request, at a request, on the Commission's order. */
export const TEST_TIMINGS = ['before_request', 'at_request', 'commission_order'] as const;

/**
 * Uji konsekuensi (consequence test, UU 14/2008 art. 2 and 19) as stored and shown. Records made
 * before the registers issue hold only `harm` and `publicInterest`.
 */
export const ConsequenceTestSchema = v.object({
  harm: v.string(),
  protectedInterest: v.optional(v.string()),
  publicInterest: v.string(),
  balance: v.optional(v.string()),
  conclusion: v.optional(v.string()),
  timing: v.optional(v.picklist(TEST_TIMINGS)),
  testRecordNo: v.optional(v.string()),
  testDate: v.optional(v.string()),
  participants: v.optional(v.array(v.string())),
});
export type ConsequenceTest = v.InferOutput<typeof ConsequenceTestSchema>;

/** The exemption period (UU 14/2008 art. 20): exactly one of the three. */
export const PeriodSchema = v.union([
  v.object({ until: v.string() }),
  v.object({ untilEvent: v.string() }),
  v.object({ indefinite: v.literal(true) }),
]);
export type ExemptionPeriod = v.InferOutput<typeof PeriodSchema>;

/**
 * The parts of an exemption proposal (dataset or field). Types only: whether the parts are
 * complete and lawful is checked by the service (exemption-rules.ts), which lists every problem
 * at once as a 422.
 */
const exemptionParts = {
  subject: v.optional(requiredText(500)),
  grounds: v.optional(v.pipe(v.array(requiredText(200)), v.maxLength(20))),
  statute: v.optional(requiredText(300)),
  consequenceTest: v.optional(
    v.strictObject({
      harm: v.optional(requiredText(10_000)),
      protectedInterest: v.optional(requiredText(10_000)),
      publicInterest: v.optional(requiredText(10_000)),
      balance: v.optional(requiredText(10_000)),
      conclusion: v.optional(requiredText(10_000)),
      timing: v.optional(requiredText(50)),
      testRecordNo: v.optional(requiredText(200)),
      testDate: v.optional(requiredText(50)),
      participants: v.optional(v.pipe(v.array(requiredText(300)), v.maxLength(50))),
    }),
  ),
  period: v.optional(
    v.strictObject({
      until: v.optional(requiredText(50)),
      untilEvent: v.optional(requiredText(1000)),
      indefinite: v.optional(v.boolean()),
    }),
  ),
  liftConditions: v.optional(v.pipe(v.array(requiredText(1000)), v.maxLength(50))),
  reviewBy: v.optional(isoDate),
};

export const LabelDatasetSchema = v.strictObject({
  classification: ClassificationSchema,
  justification: v.optional(requiredText(10_000)),
  ...exemptionParts,
});
export type LabelDataset = v.InferOutput<typeof LabelDatasetSchema>;
/** The exemption parts of a dataset or field label. */
export type ExemptionInput = Pick<LabelDataset, keyof typeof exemptionParts>;

/** The bases on which UU 14/2008 art. 18(2) lets personal data (art. 17 letters g and h) be opened. */
export const ART18_BASES = ['public_office', 'consent'] as const;

/**
 * A declassification of specific personal data under UU 14/2008 art. 18(2): the information
 * concerns the person's public office, or the person consented in writing (`reference` names the
 * statute that requires it announced, or the written consent).
 */
export const Art18DeclassificationSchema = v.strictObject({
  article: v.literal('18(2)'),
  basis: v.picklist(ART18_BASES),
  reference: requiredText(500),
  justification: v.pipe(requiredText(10_000), v.minLength(10, 'must say why, in at least 10 characters')),
});
export type Art18Declassification = v.InferOutput<typeof Art18DeclassificationSchema>;

export const LabelFieldSchema = v.strictObject({
  /** null removes the field's own label (it then follows the dataset's). */
  classification: v.nullable(ClassificationSchema),
  justification: v.optional(requiredText(10_000)),
  /** Only with `classification: public` on a field of specific personal data: proposed, approved by a PPID. */
  declassification: v.optional(Art18DeclassificationSchema),
  ...exemptionParts,
});
export type LabelField = v.InferOutput<typeof LabelFieldSchema>;

/**
 * The legal bases under which a PPID lets an exemption in force be shared with another agency for
 * its legal duty, under a data-sharing agreement citing one of them (docs/agreements.md). The whole
 * list is given each time; an empty list shares nothing.
 */
export const ExemptionSharingSchema = v.strictObject({
  shareableUnder: v.pipe(v.array(requiredText(1000)), v.maxLength(20)),
  justification: v.optional(requiredText(10_000)),
});
export type ExemptionSharing = v.InferOutput<typeof ExemptionSharingSchema>;

/** The decision that puts an exemption in force: the PPID's decree, agreed by the head of the body. */
export const DecisionSchema = v.object({
  ref: v.string(),
  date: v.string(),
  place: v.string(),
  agreedBy: v.object({ name: v.string(), position: v.string() }),
});
export type ExemptionDecision = v.InferOutput<typeof DecisionSchema>;

export const DecideProposalSchema = v.strictObject({
  /** Approval: the decision (checked whole by the service, 422 listing what is missing). */
  decision: v.optional(
    v.strictObject({
      ref: v.optional(requiredText(200)),
      date: v.optional(requiredText(50)),
      place: v.optional(requiredText(200)),
      agreedBy: v.optional(
        v.strictObject({ name: v.optional(requiredText(200)), position: v.optional(requiredText(200)) }),
      ),
    }),
  ),
  /** Rejection: the reference of the decision that rejects (optional). */
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
  /** Only datasets with scan suggestions awaiting a steward. */
  openSuggestions: v.optional(booleanQuery),
  /** Only datasets with a field in quarantine (held back, or its identifiers redacted) until a steward decides. */
  quarantined: v.optional(booleanQuery),
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
  /** Where the personal-data kind comes from: `declared`, `confirmed` (a suggestion accepted), `suggested` (a scan's suggestion awaits a steward). */
  provenance: v.picklist(['declared', 'suggested', 'confirmed']),
  /** A detector found personal data the label does not allow: read as restricted until a steward decides. */
  quarantined: v.boolean(),
  /** Identifiers found inside the text are redacted wherever the field leaves whole. */
  redactSpans: v.boolean(),
  /** `range`: range filters are declared and indexed; `equality`: only `?field=value` is indexed. */
  filter: v.picklist(FIELD_FILTERS),
  /**
   * The range filter's index (null unless `filter` is `range`): `building` until the database has
   * it, `ready` once reads use it, `failed` with the database's reason (retried in the background).
   */
  rangeIndex: v.nullable(
    v.object({ status: v.picklist(['building', 'ready', 'failed']), error: v.nullable(v.string()) }),
  ),
  /** A declassification under UU 14/2008 art. 18(2), in force or pending a PPID's approval; null when none. */
  declassification: v.nullable(
    v.object({
      article: v.literal('18(2)'),
      basis: v.picklist(ART18_BASES),
      reference: v.string(),
      status: v.picklist(['pending', 'in_force']),
      decisionRef: v.nullable(v.string()),
    }),
  ),
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
  registerNo: v.nullable(v.string()),
  summary: v.nullable(v.string()),
  responsibleOfficial: v.nullable(v.object({ name: v.string(), position: v.string() })),
  producedAt: v.nullable(v.string()),
  producedPlace: v.nullable(v.string()),
  forms: v.array(v.string()),
  retention: v.nullable(v.object({ period: v.string(), reference: v.string() })),
  infoKind: v.nullable(v.picklist(INFO_KINDS)),
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
  event: v.picklist(['label', 'proposal', 'approval', 'rejection', 'sharing']),
  from: nullableClassification,
  to: nullableClassification,
  grounds: v.nullable(v.array(v.string())),
  consequenceTest: v.nullable(ConsequenceTestSchema),
  reviewBy: v.nullable(v.string()),
  justification: v.nullable(v.string()),
  declassification: v.boolean(),
  /** For an art. 18(2) declassification of personal data: its basis (the category it was decided for). */
  art18: v.optional(
    v.object({
      article: v.literal('18(2)'),
      basis: v.picklist(ART18_BASES),
      reference: v.string(),
      personalData: v.string(),
    }),
  ),
  proposalId: v.nullable(v.string()),
  decisionRef: v.nullable(v.string()),
  /** `sub` is left out for anonymous callers. */
  by: v.object({ sub: v.optional(v.string()), roles: v.array(v.string()), unit: v.nullable(v.string()) }),
  at: v.string(),
  labelVersion: v.number(),
  /** For a decided scan suggestion: the decision and what was suggested (never values). */
  suggestion: v.optional(
    v.object({
      decision: v.picklist(['accepted', 'rejected']),
      personalData: v.string(),
      fromPersonalData: v.string(),
      confidence: v.number(),
    }),
  ),
  /** For `sharing`: the legal bases the exemption in force may now be shared under (staff only). */
  sharing: v.optional(v.object({ dikNo: v.string(), shareableUnder: v.array(v.string()) })),
});
export type LabelEventView = v.InferOutput<typeof LabelEventViewSchema>;

export const UnitViewSchema = v.object({ code: v.string(), name: v.string(), parent: v.nullable(v.string()) });
export type UnitView = v.InferOutput<typeof UnitViewSchema>;

/** One row of the DIP (Daftar Informasi Publik, UU 14/2008 art. 11(1)(a); Perki 1/2021), as a PPID publishes it. */
export const PublicRegisterEntrySchema = v.object({
  registerNo: v.string(),
  id: v.string(),
  title: v.string(),
  summary: v.string(),
  holdingUnit: v.object({ code: v.string(), name: v.string() }),
  responsibleOfficial: v.nullable(v.object({ name: v.string(), position: v.string() })),
  producedAt: v.nullable(v.string()),
  producedPlace: v.nullable(v.string()),
  forms: v.array(v.string()),
  retention: v.nullable(v.object({ period: v.string(), reference: v.string() })),
  infoKind: v.nullable(v.picklist(INFO_KINDS)),
  /** open: its public fields are open data; on_request: listed, its records served by a decision on a request. */
  access: v.picklist(['open', 'on_request']),
  /** The PPID's decision determining the DIP; null while the entry awaits determination. */
  determination: v.nullable(v.object({ ref: v.string(), date: v.string() })),
  sourceSystem: v.nullable(v.string()),
  updateFrequency: v.nullable(v.string()),
  periodCovered: v.nullable(v.string()),
  updatedAt: v.string(),
  labelVersion: v.number(),
  /** The fields anyone may read (effectively public); field names only for on_request entries. */
  publicFields: v.array(
    v.object({
      name: v.string(),
      type: v.string(),
      description: v.string(),
      /** Specific personal data opened by a PPID under UU 14/2008 art. 18(2): the basis and the decision. */
      declassification: v.optional(
        v.object({
          article: v.literal('18(2)'),
          basis: v.picklist(ART18_BASES),
          reference: v.string(),
          decisionRef: v.nullable(v.string()),
        }),
      ),
    }),
  ),
});
export type PublicRegisterEntry = v.InferOutput<typeof PublicRegisterEntrySchema>;

/** A dataset as anyone may see it when its records are not theirs to read: its DIP entry and field names. */
export const PublicDatasetViewSchema = v.object({
  ...PublicRegisterEntrySchema.entries,
  classification: v.picklist(['public', 'restricted']),
  fields: v.array(v.object({ name: v.string(), type: v.string(), description: v.string() })),
});
export type PublicDatasetView = v.InferOutput<typeof PublicDatasetViewSchema>;

export const DeterminationSchema = v.strictObject({
  /** The PPID's decree determining (menetapkan) the DIP. */
  ref: requiredText(200),
  date: isoDate,
  /** The unit whose DIP (with the units under it) is determined; the PPID's own unit by default. */
  unit: v.optional(UnitCodeSchema),
});
export type Determination = v.InferOutput<typeof DeterminationSchema>;

/** A determination as recorded: the DIP of `unit` (and the units under it) determined by the decree `ref`. */
export const DeterminationRecordSchema = v.object({
  id: v.string(),
  unit: v.string(),
  ref: v.string(),
  date: v.string(),
  determinedAt: v.string(),
});

/** One row of the DIK (Daftar Informasi yang Dikecualikan), as a PPID publishes it (docs/registers.md). */
export const ExemptRegisterEntrySchema = v.object({
  dikNo: v.string(),
  /** The dataset. */
  id: v.string(),
  title: v.string(),
  /** A public-safe description of what is withheld. */
  subject: v.string(),
  /** Present when only part of the dataset is exempt. */
  fields: v.optional(v.array(v.string())),
  ownerUnit: v.string(),
  ownerUnitName: v.string(),
  grounds: v.array(v.string()),
  statute: v.optional(v.string()),
  consequenceTest: ConsequenceTestSchema,
  period: v.union([PeriodSchema, v.object({})]),
  liftConditions: v.array(v.string()),
  decision: v.nullable(
    v.object({
      ref: v.optional(v.string()),
      date: v.optional(v.string()),
      place: v.optional(v.string()),
      agreedBy: v.optional(v.object({ name: v.string(), position: v.string() })),
    }),
  ),
  decidedAt: v.nullable(v.string()),
  reviewBy: v.string(),
  /** Past its review date or its period's end: still in force (fail closed), a task for the PPID. */
  reviewOverdue: v.boolean(),
  periodEnded: v.boolean(),
  labelVersion: v.number(),
});
export type ExemptRegisterEntry = v.InferOutput<typeof ExemptRegisterEntrySchema>;

export const RegisterPageSchema = (item: v.GenericSchema) =>
  v.object({ items: v.array(item), nextCursor: v.nullable(v.string()) });
