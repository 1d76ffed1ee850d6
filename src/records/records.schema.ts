import * as v from 'valibot';
import { DatasetIdSchema } from '../catalog/catalog.schema.ts';
import { storable } from '../shared/text.ts';

export const DatasetParamSchema = v.object({ id: DatasetIdSchema });

export const IngestResultSchema = v.object({
  inserted: v.number(),
  /** Fields this upload quarantined (personal data their label does not allow): restricted until a steward decides. */
  quarantined: v.optional(
    v.array(
      v.object({
        field: v.string(),
        personalData: v.string(),
        scope: v.picklist(['field', 'spans']),
        confidence: v.number(),
      }),
    ),
  ),
});

/** `?cursor=&limit=` of the open-data catalogue. */
export const PublicListQuerySchema = v.object({
  cursor: v.optional(v.pipe(v.string(), storable(), v.maxLength(200))),
  limit: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,4}$/, 'expected 1-1000'), v.toNumber(), v.minValue(1), v.maxValue(1000)),
  ),
});

export const PublicDatasetSchema = v.object({
  id: v.string(),
  title: v.string(),
  description: v.string(),
  ownerUnit: v.string(),
  updatedAt: v.string(),
  labelVersion: v.number(),
  fields: v.array(v.object({ name: v.string(), type: v.string() })),
  records: v.string(),
});
export type PublicDataset = v.InferOutput<typeof PublicDatasetSchema>;

export const PublicDatasetPageSchema = v.object({
  items: v.array(PublicDatasetSchema),
  nextCursor: v.nullable(v.string()),
});

/** JSON page of records: field names → values (whole or masked); omitted fields are absent. */
export const RecordPageSchema = v.object({
  items: v.array(v.record(v.string(), v.nullable(v.union([v.string(), v.number(), v.boolean()])))),
  nextCursor: v.nullable(v.string()),
});
