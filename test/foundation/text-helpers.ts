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
    if (cp >= 0xd800 && cp <= 0xdfff) out += [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)].map((b) => '%' + b.toString(16).toUpperCase()).join('');
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
  '?' + Object.entries(params).map(([k, val]) => `${encodeURIComponent(k)}=${pathSegment(val)}`).join('&');

/**
 * The test's own oracle, independent of src/shared/text.ts: text PostgreSQL can hold unchanged
 * survives a UTF-8 round trip (no lone surrogate) and has no NUL.
 */
export const roundTrips = (s: string) => Buffer.from(s, 'utf8').toString('utf8') === s && !s.includes('\0');

/** Characters that have broken text handling somewhere: NUL, lone surrogates, astral pairs, white space, controls, URL and CSV syntax. */
const AWKWARD = [
  '\0', '\ud800', '\udbff', '\udc00', '\udfff', '😀', '𝄞', ' ', '\n', '\r', '\t', '\u0007', '\u001b', '\u007f', '\u0085', '\u00a0',
  '\u2028', '\u200b', '\ufeff', '\ufffd', '\uffff', 'ü', 'é', '数', '%', '/', '?', '#', '&', '=', '+', '"', "'", '\\', ',', '.', '-', '_', 'a', 'Z', '0',
];

/** Arbitrary strings: any code point (astral included), and strings built from awkward characters, lone surrogates and NUL included. */
export const anyText = (maxLength = 40) =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: fc.constantFrom(...AWKWARD), maxLength }),
    fc.string({ unit: fc.oneof(fc.constantFrom(...AWKWARD), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength }),
  );

/** Like anyText, but never empty. */
export const someText = (maxLength = 40) => anyText(maxLength).filter((s) => s.length > 0);
