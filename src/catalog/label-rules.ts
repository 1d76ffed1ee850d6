import type { PersonalDataKind } from '../policy/engine.types.ts';
import {
  GENERAL_PERSONAL_DATA,
  SPECIFIC_PERSONAL_DATA,
  type Classification,
  type PersonalData,
} from './catalog.schema.ts';

/**
 * The label rules (issue 4, domain.md §1 and §3), as pure functions: the service applies them,
 * tests and other capabilities can rely on the same definitions.
 */

const RANK: Record<Classification, number> = { public: 0, restricted: 1, exempt: 2 };

export function rank(c: Classification): number {
  return RANK[c];
}

/** The stricter of two labels; null (no label) yields to any label. */
export function stricter(a: Classification | null, b: Classification | null): Classification | null {
  if (a === null) return b;
  if (b === null) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

/** True when moving from `from` to `to` loosens the label (restricted → public, exempt → anything). */
export function isDeclassification(from: Classification | null, to: Classification | null): boolean {
  if (from === null) return false;
  if (to === null) return true;
  return RANK[to] < RANK[from];
}

const GENERAL = new Set<string>(GENERAL_PERSONAL_DATA);
const SPECIFIC = new Set<string>(SPECIFIC_PERSONAL_DATA);

/** The kind of a personal-data category, or null for a category Jaga does not know. */
export function kindOfCategory(pd: string): PersonalDataKind | null {
  if (SPECIFIC.has(pd)) return 'specific';
  if (GENERAL.has(pd)) return 'general';
  return pd === 'none' ? 'none' : null;
}

/** The kind of a category; one Jaga does not know counts as specific (fail closed). */
export function personalDataKind(pd: PersonalData | string): PersonalDataKind {
  return kindOfCategory(pd) ?? 'specific';
}

/**
 * A field's effective classification: the stricter of its own label and its dataset's (null
 * while the dataset is unlabelled: an unlabelled dataset discloses nothing). Personal data is
 * never effectively public by default: specific personal data (UU PDP art. 4) only when a PPID
 * declassified the field under UU 14/2008 art. 18(2) (`declassified`) and its own label is public;
 * general personal data unless the field itself is explicitly labelled public.
 */
export function effectiveFieldClassification(
  dataset: Classification | null,
  own: Classification | null,
  personalData: PersonalData | string,
  declassified = false,
): Classification | null {
  if (dataset === null) return null;
  const label = stricter(dataset, own);
  const kind = personalDataKind(personalData);
  if (kind === 'specific' && !(declassified && own === 'public')) return stricter(label, 'restricted');
  if (kind === 'general' && own === null) return stricter(label, 'restricted');
  return label;
}

/**
 * Why a field's own label is refused, or null when it is allowed. `art18`: the label comes with an
 * art. 18(2) declassification (proposed, for a PPID to approve), the only way specific personal data
 * may be labelled public.
 */
export function fieldLabelProblem(
  dataset: Classification | null,
  own: Classification | null,
  personalData: PersonalData | string,
  art18 = false,
): { code: 'LABEL_NOT_STRICTER' | 'LABEL_NOT_ALLOWED'; detail: string } | null {
  if (own === null) return null;
  if (dataset === null) {
    return { code: 'LABEL_NOT_ALLOWED', detail: 'Label the dataset before labelling its fields.' };
  }
  if (rank(own) < rank(dataset)) {
    return {
      code: 'LABEL_NOT_STRICTER',
      detail: `A field of a ${dataset} dataset can only be ${dataset} or stricter.`,
    };
  }
  const specific = personalDataKind(personalData) === 'specific';
  if (art18 && (own !== 'public' || !specific)) {
    return {
      code: 'LABEL_NOT_ALLOWED',
      detail: 'An art. 18(2) declassification makes a field of specific personal data public; nothing else.',
    };
  }
  if (own === 'public' && specific && !art18) {
    return {
      code: 'LABEL_NOT_ALLOWED',
      detail: `The field holds specific personal data (${personalData}, UU 27/2022 art. 4); it is public only by a PPID's declassification under UU 14/2008 art. 18(2) (public office or written consent).`,
    };
  }
  return null;
}
