import fc from 'fast-check';
import { expect } from 'vitest';
import type { TestResponse } from '../helpers/app.ts';

/** A 4xx problem+json with a stable code (the route's own, or VALIDATION_FAILED). */
export function expectProblem(res: TestResponse, status: number, code: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body.code).toBe(code);
}

/** Never a 5xx; any 4xx is problem+json with one of the stable `codes`. */
export function expectNoServerError(res: TestResponse, codes: readonly string[]): void {
  expect(res.status, res.text).toBeLessThan(500);
  if (res.status >= 400) {
    expect(res.headers.get('content-type'), res.text).toBe('application/problem+json');
    expect(codes, res.text).toContain(res.body.code);
  }
}

/**
 * A URL component as a client would put it on the wire: UTF-8 percent-encoded, a lone surrogate
 * as the (invalid UTF-8) bytes it would have in WTF-8.
 */
export function pathSegment(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff)
      out += [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)]
        .map((b) => '%' + b.toString(16).toUpperCase())
        .join('');
    else out += encodeURIComponent(ch);
  }
  return out;
}

/**
 * What a server sees of `s` sent as a URL component: `s` itself, or, when it holds a lone
 * surrogate, the percent-encoded text as is (invalid UTF-8 is left undecoded).
 */
export const urlSees = (s: string) => (Buffer.from(s, 'utf8').toString('utf8') === s ? s : pathSegment(s));

export const query = (params: Record<string, string>) =>
  '?' +
  Object.entries(params)
    .map(([k, val]) => `${encodeURIComponent(k)}=${pathSegment(val)}`)
    .join('&');

/**
 * The test's own oracle, independent of src/shared/text.ts: text PostgreSQL can hold unchanged
 * survives a UTF-8 round trip (no lone surrogate) and has no NUL.
 */
export const roundTrips = (s: string) => Buffer.from(s, 'utf8').toString('utf8') === s && !s.includes('\0');

/** Characters that have broken text handling somewhere: NUL, lone surrogates, astral pairs, white space, controls, URL and CSV syntax. */
const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff'];
const WELL_FORMED_AWKWARD = [
  '\0',
  '😀',
  '𝄞',
  ' ',
  '\n',
  '\r',
  '\t',
  '\u0007',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u200b',
  '\ufeff',
  '\ufffd',
  '\uffff',
  'ü',
  'é',
  '数',
  '%',
  '/',
  '?',
  '#',
  '&',
  '=',
  '+',
  '"',
  "'",
  '\\',
  ',',
  '.',
  '-',
  '_',
  'a',
  'Z',
  '0',
];

const AWKWARD = [...LONE_SURROGATES, ...WELL_FORMED_AWKWARD];

/**
 * Arbitrary strings: any code point (astral included), strings of awkward characters (NUL, white
 * space, controls) with and without lone surrogates (a URL cannot carry one, so without them the
 * other characters reach the server decoded), and mixes.
 */
export const anyText = (maxLength = 40) => {
  const any = fc.string({ unit: 'binary', maxLength: Math.floor(maxLength / 2) });
  return fc.oneof(
    { arbitrary: fc.string({ unit: 'binary', maxLength }), weight: 2 },
    { arbitrary: fc.string({ unit: fc.constantFrom(...WELL_FORMED_AWKWARD), maxLength }), weight: 2 },
    { arbitrary: fc.string({ unit: fc.constantFrom(...AWKWARD), maxLength }), weight: 1 },
    {
      arbitrary: fc.string({
        unit: fc.oneof(fc.constantFrom(...AWKWARD), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
        maxLength,
      }),
      weight: 1,
    },
    // Any text with one NUL or lone surrogate injected.
    {
      arbitrary: fc.tuple(any, fc.constantFrom('\0', '\0', ...LONE_SURROGATES), any).map(([a, x, b]) => a + x + b),
      weight: 2,
    },
  );
};

/** Like anyText, but never empty. */
export const someText = (maxLength = 40) => anyText(maxLength).filter((s) => s.length > 0);

/** Characters a name may hold (no white space, no controls), astral and non-Latin ones included. */
const NAME_CHARS = WELL_FORMED_AWKWARD.filter((ch) => !/[\s\p{Cc}]/u.test(ch));

/** Mostly names (so the stored branch is exercised when several must all be names), sometimes anything. */
export const mostlyNames = (maxLength = 40) =>
  fc.oneof(
    { arbitrary: fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength }), weight: 3 },
    { arbitrary: someText(maxLength), weight: 1 },
  );
