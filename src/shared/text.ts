import * as v from 'valibot';

/**
 * The one definition of text Jaga accepts, for every capability (this module imports none).
 *
 * Text is acceptable when PostgreSQL stores it and gives it back unchanged. Two things break
 * that: a lone UTF-16 surrogate cannot be encoded as UTF-8, so the driver sends U+FFFD instead
 * (what was compared or hashed differs from what is stored: a broken audit chain), and a NUL
 * cannot be held by `text` or `jsonb` at all (an error, a 500). So:
 * - free text (titles, descriptions, justifications, record values): anything else, newlines and
 *   tabs included;
 * - names (ids, subjects, roles, purposes, field names, filters of the audit log): also no
 *   whitespace and no control characters, bounded, so they read safely in logs, CSV and headers.
 */

// With the u flag a surrogate pair is one code point: \p{Cs} matches only a lone surrogate.
const UNSTORABLE = /[\0\p{Cs}]/u;
// \s covers Unicode white space (NBSP, U+2028…); \p{Cc} the C0 and C1 controls and DEL.
const NAME = /^[^\s\p{Cc}\p{Cs}]*$/u;

/** The longest name, in characters (code points, as PostgreSQL counts them). */
export const NAME_MAX = 200;

export const STORABLE_MESSAGE = 'must not contain a NUL character or a lone UTF-16 surrogate';
export const nameMessage = (max: number) =>
  `must be a name: no whitespace or control characters, at most ${max} characters`;

/** True when the database stores `s` and reads it back unchanged. */
export function isStorable(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/** Characters of `s` as PostgreSQL counts them: a surrogate pair is one. */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** True for an id-like name: storable, no whitespace, no control characters, at most `max` characters. */
export function isName(s: string, max = NAME_MAX): boolean {
  // Cheap bounds first: characters <= code units <= 2 * characters.
  return s.length <= 2 * max && NAME.test(s) && (s.length <= max || codePointLength(s) <= max);
}

/**
 * At most `max` UTF-16 code units of `s`, cut at a character boundary: a surrogate pair is kept
 * whole or dropped whole, never split (a split pair would be stored as U+FFFD).
 */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const last = s.charCodeAt(max - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/** At most `max` UTF-16 code units from the end of `s`, never starting inside a surrogate pair. */
export function truncateStart(s: string, max: number): string {
  if (s.length <= max) return s;
  const first = s.charCodeAt(s.length - max);
  return s.slice(first >= 0xdc00 && first <= 0xdfff ? s.length - max + 1 : s.length - max);
}

/** The first character (code point) of `s` from `i`: one or two code units. */
export function charAt(s: string, i: number): string {
  const c = s.codePointAt(i);
  return c === undefined ? '' : c > 0xffff ? s.slice(i, i + 2) : s[i]!;
}

/** True for text safe to put in an HTTP header as is: printable ASCII (what every client decodes alike). */
export function isHeaderSafe(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/**
 * The path (`a.b.0`) of the first string, key or value, in a JSON-like value that is not
 * storable, or null when every string is. Iterative, so a deeply nested body cannot overflow the stack.
 */
export function unstorablePath(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length) {
    const [x, path] = stack.pop()!;
    if (typeof x === 'string') {
      if (!isStorable(x)) return path;
    } else if (x !== null && typeof x === 'object') {
      for (const [k, child] of Object.entries(x)) {
        const at = path ? `${path}.${k}` : k;
        if (!isStorable(k)) return at;
        stack.push([child, at]);
      }
    }
  }
  return null;
}

// ---- valibot: the same definition in request, claims and policy schemas ----

/** A check that a string is storable (free text). */
export const storable = (message: string = STORABLE_MESSAGE) => v.check((s: string) => isStorable(s), message);

/** A check that a string is a name of at most `max` characters. */
export const name = (max: number = NAME_MAX, message?: string) =>
  v.check((s: string) => isName(s, max), message ?? nameMessage(max));

/** Free text of at most `max` code units (newlines and tabs allowed). */
export const FreeText = (max: number) => v.pipe(v.string(), storable(), v.maxLength(max));

/** A non-empty name of at most `max` characters. */
export const NameText = (max: number = NAME_MAX) => v.pipe(v.string(), v.minLength(1, 'must not be empty'), name(max));

/** A check that every string in a JSON-like value (keys included) is storable; the message names the first bad path. */
export const storableJson = <T>() =>
  v.check(
    (x: T) => unstorablePath(x) === null,
    (issue: v.CheckIssue<T>) => `${unstorablePath(issue.input) || 'the value'} ${STORABLE_MESSAGE}`,
  );
