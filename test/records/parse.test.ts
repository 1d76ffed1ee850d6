import { describe, expect, it } from 'vitest';
import { splitCsv, splitJsonArray, splitNdjson } from '../../src/records/ingest.parse.ts';

/** The body cut into chunks of `size` bytes (so tokens and multi-byte characters straddle chunks). */
async function* chunks(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const RECORDS = [
  { a: 'plain', n: 1 },
  { a: 'with ] and } and , inside', nested: { x: [1, 2, { y: '}' }] } },
  { a: 'escaped \\" quote and \\\\ backslash', emoji: 'Rp 1.000 — ✓ 🇮🇩' },
  { a: null, b: true, c: -1.5e3 },
];

describe('streaming splitters', () => {
  it('splits a JSON array into its elements at any chunk size, with each element’s line', async () => {
    const body = '[\n' + RECORDS.map((r) => '  ' + JSON.stringify(r)).join(',\n') + '\n]\n';
    for (const size of [1, 2, 3, 7, 64, 100000]) {
      const got = await all(splitJsonArray(chunks(body, size)));
      expect(got.map((r) => r.value)).toEqual(RECORDS);
      expect(got.map((r) => r.line)).toEqual([2, 3, 4, 5]);
    }
    expect(await all(splitJsonArray(chunks(' [ ] ', 1)))).toEqual([]);
  });

  it('refuses what is not one closed JSON array', async () => {
    await expect(all(splitJsonArray(chunks('{"a":1}', 4)))).rejects.toMatchObject({ code: 'MALFORMED_BODY' });
    await expect(all(splitJsonArray(chunks('[{"a":1}', 4)))).rejects.toMatchObject({ code: 'MALFORMED_BODY' });
    await expect(all(splitJsonArray(chunks('[{"a":1}] x', 4)))).rejects.toMatchObject({ code: 'MALFORMED_BODY' });
    await expect(all(splitJsonArray(chunks('[{"a":}]', 4)))).rejects.toMatchObject({ code: 'MALFORMED_BODY' });
  });

  it('splits NDJSON by lines, skipping blank ones, at any chunk size', async () => {
    const body = RECORDS.map((r) => JSON.stringify(r)).join('\n\n') + '\n';
    for (const size of [1, 5, 1000]) {
      const got = await all(splitNdjson(chunks(body, size)));
      expect(got.map((r) => r.value)).toEqual(RECORDS);
      expect(got.map((r) => r.line)).toEqual([1, 3, 5, 7]);
    }
  });

  it('reads CSV with a header, quoted cells and CSV line numbers', async () => {
    const body = '\ufeffa,b\r\n"x, y","multi\nline"\r\nplain,\r\n';
    const got = await all(splitCsv(chunks(body, 3)));
    expect(got).toEqual([
      { header: ['a', 'b'] },
      { line: 3, value: { a: 'x, y', b: 'multi\nline' }, fromText: true },
      { line: 4, value: { a: 'plain', b: '' }, fromText: true },
    ]);
  });
});
