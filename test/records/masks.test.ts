import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/db/database.ts';
import { applyMask, generalise, partial } from '../../src/records/masks.ts';
import { pseudonymKeyFor } from '../../src/records/pseudonym.ts';

const MASTER = 'a-master-key-of-at-least-32-bytes-long!!';
const noSql = null as unknown as Queryable; // with PSEUDONYM_KEY set no query is made

describe('masks', () => {
  it('shows a NIK as its first 4 and last 2 digits, phones and emails by shape', () => {
    expect(partial('3201014506900001', 'nik')).toBe('3201**********01');
    expect(partial('32.0101.450690.0001', 'nik')).toBe('3201**********01');
    expect(partial('081234567890', 'phone')).toBe('0812******90');
    expect(partial('siti.rahma@example.id', 'email')).toBe('s*********@example.id');
    expect(partial('Siti Rahmawati', 'name')).toBe('S*** R********');
  });

  it('generalises dates to years, numbers to bands and addresses to their last part', () => {
    expect(generalise('1990-06-05', 'date', 'birthdate')).toBe('1990');
    expect(generalise('2024-02-14T02:30:00.000Z', 'datetime', 'none')).toBe('2024');
    expect(generalise(37, 'integer', 'none')).toBe('30-39');
    expect(generalise('Jl. Merdeka No. 1, RT 001/RW 002, Kab. Bogor', 'string', 'address')).toBe('Kab. Bogor');
    expect(applyMask('redact', 'anything', { personalData: 'none', type: 'string', pseudonymKey: () => '' })).toBe(
      '[redacted]',
    );
    expect(applyMask('partial', null, { personalData: 'nik', type: 'string', pseudonymKey: () => '' })).toBeNull();
  });

  it('never cuts a character in half: what a mask keeps of any text is well-formed (issue 14)', () => {
    const kinds = ['none', 'name', 'nik', 'kk', 'npwp', 'phone', 'email', 'address', 'birthdate', 'health'];
    const wellFormed = (x: unknown) => typeof x !== 'string' || Buffer.from(x, 'utf8').toString('utf8') === x;
    expect(partial('😀ndi Saputra', 'name')).toBe('😀*** S******');
    expect(partial('😀x@example.id', 'email')).toBe('😀***@example.id');
    expect(partial('a😀bc', 'other_general')).toBe('a***');
    expect(partial('3201😀😀😀😀😀', 'nik')).toBe('3201********😀');
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 30 }),
        fc.constantFrom(...kinds),
        fc.constantFrom('partial', 'generalise') as fc.Arbitrary<'partial' | 'generalise'>,
        (s, personalData, kind) => {
          expect(wellFormed(applyMask(kind, s, { personalData, type: 'string', pseudonymKey: () => '' }))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('computes keyed pseudonyms as HMAC-SHA-256 with a per-dataset key, stable and dataset-specific', async () => {
    const a = await pseudonymKeyFor(noSql, MASTER, 'dataset-a');
    const a2 = await pseudonymKeyFor(noSql, MASTER, 'dataset-a');
    const b = await pseudonymKeyFor(noSql, MASTER, 'dataset-b');
    const key = createHmac('sha256', MASTER).update('jaga/pseudonym/v1/dataset-a').digest();
    const expected = 'psn_' + createHmac('sha256', key).update('3201014506900001').digest('base64url').slice(0, 22);
    expect(a('3201014506900001')).toBe(expected);
    expect(a2('3201014506900001')).toBe(expected);
    expect(b('3201014506900001')).not.toBe(expected);
    expect(a('3201014506900002')).not.toBe(expected);
  });
});

describe('partial name mask', () => {
  // The definition the one-pass mask must keep: words split on JavaScript's \s, first letter kept.
  const reference = (s: string) =>
    s
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => w[0] + '*'.repeat(w.length - 1))
      .join(' ');
  const spaces = [
    ' ',
    '\t',
    '\n',
    '\r',
    '\v',
    '\f',
    '\u00a0',
    '\u1680',
    '\u2003',
    '\u2028',
    '\u202f',
    '\u3000',
    '\ufeff',
  ];
  const piece = fc.oneof(
    fc.constantFrom(...spaces),
    fc.string({ minLength: 1, maxLength: 80 }),
    fc.constantFrom('Siti', 'Rahmawati', 'é', '\u200b'),
  );

  it('equals the split-and-join definition for any text, any whitespace', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const s = parts.join('');
        expect(partial(s, 'name')).toBe(reference(s));
      }),
      { numRuns: 2000 },
    );
  });
});
