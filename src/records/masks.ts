import { redactSpans } from '../detection/spans.ts';
import type { MaskKind } from '../policy/engine.types.ts';
import { charAt, truncate, truncateStart } from '../shared/text.ts';
import type { FieldType, Value } from './record-values.ts';

/**
 * The masks a policy rule may choose for a field (engine.types.ts MaskKind). Each takes a
 * stored value and returns what may leave; null stays null. A mask never returns the value
 * whole, and pseudonyms are keyed so they cannot be reversed or recomputed without the key.
 * What a mask keeps of a value is cut at character boundaries: never half a surrogate pair.
 */
export interface MaskContext {
  /** personal-data category of the field (api-contract.md), shapes the partial mask. */
  personalData: string;
  type: FieldType;
  /** HMAC-SHA-256 key of this dataset, for pseudonyms. */
  pseudonymKey: Pseudonymiser;
}

/** Turns a value into its keyed pseudonym (an HMAC keyed for one dataset, precomputed). */
export type Pseudonymiser = (value: string) => string;

// Runs of stars are built once: masks run for every value of an export.
const STARS = Array.from({ length: 65 }, (_, n) => '*'.repeat(n));
const stars = (n: number) => (n <= 0 ? '' : (STARS[n] ?? '*'.repeat(n)));

/** NIK and other identity numbers: first 4 digits (province + regency) and last 2 (domain.md §3, §6). */
function partialDigits(s: string, head: number, tail: number): string {
  const digits = s.replace(/[\s.-]/g, '');
  if (digits.length <= head + tail) return stars(digits.length);
  return truncate(digits, head) + stars(digits.length - head - tail) + truncateStart(digits, tail);
}

function partialEmail(s: string): string {
  const at = s.lastIndexOf('@');
  if (at < 1) return stars(s.length);
  const first = charAt(s, 0);
  return first + stars(Math.max(at - first.length, 3)) + s.slice(at);
}

/** What `\s` matches in a JavaScript regular expression. */
function isSpace(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Each word's first letter, the rest starred, words joined by one space (one pass, no arrays). */
function partialName(s: string): string {
  let out = '';
  for (let i = 0; i < s.length;) {
    if (isSpace(s.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < s.length && !isSpace(s.charCodeAt(j))) j++;
    const first = charAt(s, i);
    out += (out ? ' ' : '') + first + stars(j - i - first.length);
    i = j;
  }
  return out;
}

function partialText(s: string): string {
  if (s.length <= 2) return stars(s.length);
  return truncate(s, 2) + stars(Math.min(s.length - 2, 12));
}

export function partial(value: string, personalData: string): string {
  switch (personalData) {
    case 'nik':
    case 'kk':
    case 'npwp':
    case 'nip':
    case 'bpjs':
      return partialDigits(value, 4, 2);
    case 'phone':
      return partialDigits(value, 4, 2);
    case 'email':
      return partialEmail(value);
    case 'name':
      return partialName(value);
    default:
      return partialText(value);
  }
}

/** Coarser values: dates to their year, numbers to a band of ten, identifiers to their region. */
export function generalise(value: Value, type: FieldType, personalData: string): Value {
  if (value === null) return null;
  if (type === 'date' || type === 'datetime') return String(value).slice(0, 4);
  if (type === 'integer' || type === 'number') {
    const lo = Math.floor(Number(value) / 10) * 10;
    return `${lo}-${lo + 9}`;
  }
  if (type === 'boolean') return '[redacted]';
  const s = String(value);
  switch (personalData) {
    case 'nik':
    case 'kk':
      return truncate(s.replace(/[\s.-]/g, ''), 4); // the regency/city the number was issued in
    case 'email':
      return s.includes('@') ? s.slice(s.lastIndexOf('@') + 1) : '[redacted]';
    case 'address': {
      const parts = s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      return parts.length > 1 ? parts[parts.length - 1]! : '[redacted]';
    }
    default:
      return '[redacted]';
  }
}

/**
 * The masks a read applies: the policies' kinds, and `redact_spans`, Jaga's own for free text in
 * which a scan found identifiers (src/detection): each identifier becomes `[nik]`, `[phone]`, …
 */
export type RecordMask = MaskKind | 'redact_spans';

/** Applies `kind` to one value. */
export function applyMask(kind: RecordMask, value: Value, ctx: MaskContext): Value {
  if (value === null) return null;
  switch (kind) {
    case 'redact_spans':
      return typeof value === 'string' ? redactSpans(value) : value;
    case 'partial':
      if (ctx.type === 'date' || ctx.type === 'datetime') return generalise(value, ctx.type, ctx.personalData);
      return partial(String(value), ctx.personalData);
    case 'pseudonym':
      return ctx.pseudonymKey(String(value));
    case 'generalise':
      return generalise(value, ctx.type, ctx.personalData);
    case 'redact':
      return '[redacted]';
  }
}
