import { describe, expect, it } from 'vitest';
import { keysetExport, type ExportEnd } from '../../src/shared/keyset-export.ts';

/** A table of `n` keys read in pages of `size`, each row rendered as its key and a newline. */
function source(n: number, size: number, failAfter?: number) {
  const ends: [ExportEnd, number, number][] = [];
  const reads: number[] = [];
  return {
    ends,
    reads,
    stream: keysetExport<number>({
      head: 'key\n',
      start: 0,
      next: async (after, emit) => {
        reads.push(after);
        if (failAfter !== undefined && after >= failAfter) throw new Error('page failed');
        const keys = Array.from({ length: Math.max(0, Math.min(size, n - after)) }, (_, i) => after + i + 1);
        for (const k of keys) emit(`${k}\n`);
        return { rows: keys.length, last: keys.at(-1) ?? after, more: after + keys.length < n };
      },
      onEnd: (end, rows, last) => ends.push([end, rows, last]),
    }),
  };
}

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe('keyset export (src/shared/keyset-export.ts)', () => {
  it('streams every page in key order after the head, and records a complete end once', async () => {
    const s = source(1234, 500);
    const lines = (await text(s.stream)).trimEnd().split('\n');
    expect(lines[0]).toBe('key');
    expect(lines.slice(1).map(Number)).toEqual(Array.from({ length: 1234 }, (_, i) => i + 1));
    expect(s.reads).toEqual([0, 500, 1000]);
    expect(s.ends).toEqual([['complete', 1234, 1234]]);
  });

  it('renders a page already read first, then reads on from its last key', async () => {
    const s = keysetExport<number>({
      start: 0,
      first: { end: { rows: 2, last: 2, more: true }, render: (emit) => ['1\n', '2\n'].forEach(emit) },
      next: async (after, emit) => (emit(`${after + 1}\n`), { rows: 1, last: after + 1, more: false }),
    });
    expect(await text(s)).toBe('1\n2\n3\n');
  });

  it('ends with an error (not a hang) when a page fails, and records the end as failed', async () => {
    const s = source(3000, 1000, 1000);
    await expect(text(s.stream)).rejects.toThrow('page failed');
    expect(s.ends).toEqual([['failed', 1000, 1000]]);
  });

  it('records an abandoned end when the client cancels', async () => {
    const s = source(5000, 1000);
    const reader = s.stream.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    expect(s.ends.map((e) => e[0])).toEqual(['abandoned']);
  });
});
