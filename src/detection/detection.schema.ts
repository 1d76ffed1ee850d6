import * as v from 'valibot';
import { storable } from '../shared/text.ts';

/** Request and response shapes of scans and suggestions (api-contract.md, second round). */

export const EvidenceSchema = v.object({
  detector: v.string(),
  matched: v.number(),
  sampled: v.number(),
  hint: v.optional(v.string()),
});

export const SuggestionViewSchema = v.object({
  field: v.string(),
  personalData: v.string(),
  personalDataKind: v.picklist(['none', 'general', 'specific']),
  classification: v.nullable(v.literal('restricted')),
  mask: v.optional(v.string()),
  confidence: v.number(),
  evidence: EvidenceSchema,
  spans: v.boolean(),
  /** open: awaits a steward; agrees: what the field declares already; accepted / rejected: decided. */
  status: v.picklist(['open', 'agrees', 'accepted', 'rejected']),
});

export const QuarantineViewSchema = v.object({
  field: v.string(),
  personalData: v.string(),
  scope: v.picklist(['field', 'spans']),
  confidence: v.number(),
});

export const ScanResultSchema = v.object({
  suggestions: v.array(SuggestionViewSchema),
  quarantined: v.array(QuarantineViewSchema),
});

export const DecideSuggestionSchema = v.strictObject({
  justification: v.optional(v.pipe(v.string(), storable(), v.trim(), v.minLength(1), v.maxLength(10_000))),
});
