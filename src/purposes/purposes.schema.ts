import * as v from 'valibot';
import { storable } from '../shared/text.ts';
import { DatasetIdSchema, PERSONAL_DATA } from '../catalog/catalog.schema.ts';

/** The register of processing purposes (UU 27/2022 art. 20 and 31): request and response shapes. */

/** Lawful bases of processing (UU 27/2022 art. 20(2)). */
export const LAWFUL_BASES = [
  'consent',
  'contract',
  'legal_obligation',
  'vital_interest',
  'public_task',
  'legitimate_interest',
] as const;

const text = (max: number) =>
  v.pipe(v.string(), storable(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(max));
const CATEGORIES = PERSONAL_DATA.filter((c) => c !== 'none');

const parts = {
  description: text(2000),
  lawfulBasis: v.picklist(LAWFUL_BASES, `one of ${LAWFUL_BASES.join(', ')} (UU 27/2022 art. 20(2))`),
  /** The datasets the purpose may use; empty or absent: any dataset. */
  datasets: v.optional(v.pipe(v.array(DatasetIdSchema), v.maxLength(500))),
  /** The personal-data categories it may use; empty or absent: any category. */
  categories: v.optional(v.pipe(v.array(v.picklist(CATEGORIES)), v.maxLength(50))),
  recipients: v.optional(v.pipe(v.array(text(300)), v.maxLength(100))),
  retention: v.optional(v.nullable(text(300))),
};

export const PurposeIdSchema = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9][a-z0-9-]{1,63}$/, 'a slug: lowercase letters, digits and dashes, 2–64 characters'),
);

export const CreatePurposeSchema = v.strictObject({ id: PurposeIdSchema, ...parts });
export type CreatePurpose = v.InferOutput<typeof CreatePurposeSchema>;

export const UpdatePurposeSchema = v.strictObject({
  description: v.optional(parts.description),
  lawfulBasis: v.optional(parts.lawfulBasis),
  datasets: parts.datasets,
  categories: parts.categories,
  recipients: parts.recipients,
  retention: parts.retention,
});
export type UpdatePurpose = v.InferOutput<typeof UpdatePurposeSchema>;

export const PurposeParamSchema = v.object({ id: PurposeIdSchema });

export const PurposeViewSchema = v.object({
  id: v.string(),
  description: v.string(),
  lawfulBasis: v.picklist(LAWFUL_BASES),
  datasets: v.array(v.string()),
  categories: v.array(v.string()),
  recipients: v.array(v.string()),
  retention: v.nullable(v.string()),
  createdAt: v.string(),
  updatedAt: v.string(),
});
export type PurposeView = v.InferOutput<typeof PurposeViewSchema>;

/** One dataset's entry in the record of processing (UU 27/2022 art. 31). */
export const ProcessingEntrySchema = v.object({
  dataset: v.string(),
  title: v.string(),
  ownerUnit: v.string(),
  /** The personal-data categories the dataset holds. */
  categories: v.array(v.string()),
  purposes: v.array(
    v.object({
      id: v.string(),
      description: v.string(),
      lawfulBasis: v.picklist(LAWFUL_BASES),
      categories: v.array(v.string()),
      recipients: v.array(v.string()),
      retention: v.nullable(v.string()),
    }),
  ),
});
export type ProcessingEntry = v.InferOutput<typeof ProcessingEntrySchema>;

export const ProcessingQuerySchema = v.strictObject({
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
