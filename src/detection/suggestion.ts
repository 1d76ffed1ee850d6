import type { Verdict } from './verdict.ts';

/**
 * From a field's verdict to what a steward is asked to decide, and when the finding may not wait
 * for the steward (quarantine). Pure; the categories are the catalog's (catalog.schema.ts).
 */
export type Kind = 'none' | 'general' | 'specific';

const SPECIFIC = new Set(['health', 'biometric', 'genetic', 'criminal_record', 'child', 'financial', 'other_specific']);
const RANK: Record<Kind, number> = { none: 0, general: 1, specific: 2 };

export function kindOf(category: string): Kind {
  if (category === 'none') return 'none';
  return SPECIFIC.has(category) ? 'specific' : 'general';
}

/** Identifiers keep region and last digits; dates and places generalise; specific data and text spans are redacted. */
export function maskFor(category: string, spans: boolean): string | null {
  if (spans) return 'redact_spans';
  switch (category) {
    case 'none':
      return null;
    case 'nik':
    case 'kk':
    case 'npwp':
    case 'nip':
    case 'passport':
    case 'bpjs':
    case 'phone':
    case 'email':
    case 'name':
      return 'partial';
    case 'address':
    case 'birthdate':
    case 'child':
      return 'generalise';
    default:
      return 'redact';
  }
}

export interface Suggestion {
  field: string;
  personalData: string;
  personalDataKind: Kind;
  /** Personal data is restricted (UU PDP); nothing found suggests no change of label. */
  classification: 'restricted' | null;
  mask?: string;
  confidence: number;
  evidence: Verdict['evidence'];
  /** The identifiers sit inside free text. */
  spans: boolean;
}

export function suggestionOf(field: string, v: Verdict): Suggestion {
  const kind = kindOf(v.category);
  const mask = maskFor(v.category, v.spans === true);
  return {
    field,
    personalData: v.category,
    personalDataKind: kind,
    classification: kind === 'none' ? null : 'restricted',
    ...(mask ? { mask } : {}),
    confidence: v.confidence,
    evidence: v.evidence,
    spans: v.spans === true,
  };
}

export type Quarantine = { kind: 'field'; category: string } | { kind: 'spans'; category: string } | null;

/**
 * What a finding does before a steward decides: a confident finding of a stricter kind than the
 * field declares quarantines the field; identifiers inside a field declared `none` get their spans
 * redacted. A category a steward already rejected for this field quarantines nothing again.
 */
export function quarantineFor(
  declared: string,
  s: Suggestion,
  threshold: number,
  rejectedCategory: string | null,
): Quarantine {
  if (s.personalDataKind === 'none' || s.personalData === rejectedCategory) return null;
  if (s.spans)
    return declared === 'none' && s.confidence >= threshold ? { kind: 'spans', category: s.personalData } : null;
  if (s.confidence < threshold) return null;
  return RANK[s.personalDataKind] > RANK[kindOf(declared)] ? { kind: 'field', category: s.personalData } : null;
}
