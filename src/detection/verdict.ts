/**
 * What a detector says about a field: a personal-data category (api-contract.md), how sure it is,
 * and evidence that names the detector, counts and the column-name hint — never a value, so a
 * verdict may be stored, logged and shown to anyone who may see the dataset's metadata.
 */
export type DetectorName =
  | 'nik'
  | 'kk'
  | 'npwp'
  | 'nip'
  | 'phone'
  | 'email'
  | 'passport'
  | 'bpjs'
  | 'bank_account'
  | 'name_hint'
  | 'address'
  | 'birthdate'
  | 'birthplace'
  | 'sex'
  | 'religion'
  | 'health'
  | 'criminal_record'
  | 'child'
  | 'financial'
  | 'biometric'
  | 'genetic'
  | 'text_spans'
  /** No detector matched. */
  | 'none';

export type Evidence = {
  detector: DetectorName;
  /** Sampled values the detector matched (for text_spans: values holding at least one span). */
  matched: number;
  /** Non-empty values looked at. */
  sampled: number;
  /** The column-name hint that contributed, as the hint word Jaga knows (never a value). */
  hint?: string;
};

export interface Verdict {
  /** A category of the personal-data list (catalog.schema.ts). */
  category: string;
  confidence: number;
  evidence: Evidence;
  /** True when the identifiers sit inside free text (redact the spans, not the field). */
  spans?: boolean;
}

/** Confidence of a value detector: the share matched, raised a little by an agreeing column name. */
export function valueConfidence(matched: number, sampled: number, hinted: boolean): number {
  if (sampled === 0 || matched === 0) return 0;
  const share = matched / sampled;
  return round(Math.min(1, hinted ? 0.15 + share * 0.85 : share * 0.95));
}

export const round = (x: number) => Math.round(x * 1000) / 1000;

export function verdict(
  category: string,
  detector: DetectorName,
  matched: number,
  sampled: number,
  confidence: number,
  hint: string | null,
): Verdict {
  const evidence: Evidence = { detector, matched, sampled };
  if (hint !== null) evidence.hint = hint;
  return { category, confidence: round(confidence), evidence };
}
