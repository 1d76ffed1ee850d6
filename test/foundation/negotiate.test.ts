import fc from 'fast-check';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { negotiate } from '../../src/http/negotiate.ts';
import { ApiError } from '../../src/http/problem.ts';

const OFFERS = { 'application/json': 'json', 'application/x-ndjson': 'ndjson', 'text/csv': 'csv' } as const;
const TYPES = Object.keys(OFFERS);

/** The negotiator as a route sees it: the chosen format, or the problem's code. */
const app = new Hono().get('/', (c) => {
  try {
    return c.text(negotiate(c, OFFERS));
  } catch (error) {
    if (error instanceof ApiError) return c.text(error.code, error.status as 406);
    throw error;
  }
});
const chosen = async (accept?: string) =>
  (await app.request('/', accept === undefined ? {} : { headers: { accept } })).text();

/**
 * A reference reading of RFC 9110 §12.5.1, written separately: a type's quality is that of the most
 * specific range naming it (the highest such q if several are equally specific), 0 when none does.
 */
function qualityOf(ranges: { type: string; q: number }[], type: string): number {
  const level = (range: string) =>
    range === type ? 3 : range === `${type.split('/')[0]}/*` ? 2 : range === '*/*' ? 1 : 0;
  const top = Math.max(0, ...ranges.map((r) => level(r.type)));
  return top === 0 ? 0 : Math.max(...ranges.filter((r) => level(r.type) === top).map((r) => r.q));
}

const range = fc.record({
  type: fc.constantFrom(
    'application/json',
    'application/x-ndjson',
    'text/csv',
    'text/html',
    'image/png',
    'application/*',
    'text/*',
    'image/*',
    '*/*',
  ),
  q: fc.option(
    fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000),
    { nil: undefined },
  ),
  upper: fc.boolean(),
});

describe('content negotiation (src/http/negotiate.ts)', () => {
  it('picks a type of the highest quality, and answers 406 exactly when every offer has quality 0', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(range, { minLength: 1, maxLength: 6 }), async (ranges) => {
        const header = ranges
          .map((r) => `${r.upper ? r.type.toUpperCase() : r.type}${r.q === undefined ? '' : `;q=${r.q}`}`)
          .join(', ');
        const parsed = ranges.map((r) => ({ type: r.type, q: r.q ?? 1 }));
        const qualities = TYPES.map((t) => qualityOf(parsed, t));
        const best = Math.max(...qualities);
        const got = await chosen(header);
        if (best === 0) expect(got, header).toBe('NOT_ACCEPTABLE');
        else {
          const type = TYPES.find((t) => OFFERS[t as keyof typeof OFFERS] === got);
          expect(type, `${header} -> ${got}`).toBeDefined();
          expect(qualityOf(parsed, type!), header).toBe(best);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('serves the first offer without Accept; prefers what is named over a wildcard; honours q over order', async () => {
    expect(await chosen()).toBe('json');
    expect(await chosen('*/*')).toBe('json');
    expect(await chosen('*/*, text/csv')).toBe('csv');
    expect(await chosen('text/csv, application/json')).toBe('csv');
    expect(await chosen('text/csv;q=0.5, application/json')).toBe('json');
    expect(await chosen('text/csv;q=0, */*')).toBe('json');
    expect(await chosen('text/*, application/json;q=0.9')).toBe('csv');
    expect(await chosen('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe('json');
    expect(await chosen('image/png')).toBe('NOT_ACCEPTABLE');
    expect(await chosen('application/json;q=0')).toBe('NOT_ACCEPTABLE');
  });
});
