import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyField } from '../../src/detection/classify.ts';
import { findSpans, redactSpans } from '../../src/detection/spans.ts';

const NOW = new Date('2026-12-03T12:00:00Z');
const DETECTORS = new Set([
  'nik',
  'kk',
  'npwp',
  'nip',
  'phone',
  'email',
  'passport',
  'bpjs',
  'bank_account',
  'name_hint',
  'address',
  'birthdate',
  'birthplace',
  'sex',
  'religion',
  'health',
  'criminal_record',
  'child',
  'financial',
  'biometric',
  'genetic',
  'text_spans',
  'none',
]);

// Values that look like the things detectors look for, and anything at all.
const identifierLike = fc.oneof(
  fc.stringMatching(/^(1[1-9]|3[1-6]|9[0-9])[0-9]{14}$/),
  fc.stringMatching(/^(\+62|62|0)8[1-9][0-9]{7,10}$/),
  fc.stringMatching(/^19[4-9][0-9](0[1-9]|1[0-2])[0-3][0-9]20[0-2][0-9](0[1-9]|1[0-2])[12][0-9]{3}$/),
  fc.emailAddress(),
  fc.stringMatching(/^[A-Z][0-9]{7}$/),
);
const anyValue = fc.oneof(
  identifierLike,
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.object(),
);
const fieldName = fc.oneof(
  fc.constantFrom(
    'nik',
    'no_kk',
    'npwp',
    'nip',
    'no_hp',
    'email',
    'no_paspor',
    'no_bpjs',
    'no_rekening',
    'nama',
    'alamat',
    'tgl_lahir',
    'uraian',
    'gaji',
  ),
  fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/),
);

describe('detectors, for any input', () => {
  it('never throw, and evidence holds counts and known words only, never a value', () => {
    fc.assert(
      fc.property(fieldName, fc.array(anyValue, { maxLength: 30 }), (name, values) => {
        const v = classifyField({ name, type: 'string', values }, NOW);
        expect(Object.keys(v.evidence).every((k) => ['detector', 'matched', 'sampled', 'hint'].includes(k))).toBe(true);
        expect(DETECTORS.has(v.evidence.detector)).toBe(true);
        expect(Number.isInteger(v.evidence.matched) && Number.isInteger(v.evidence.sampled)).toBe(true);
        expect(v.evidence.matched).toBeLessThanOrEqual(v.evidence.sampled);
        // The hint is a word of the field name, never something from the data.
        if (v.evidence.hint !== undefined) expect(`_${name}_`).toContain(`_${v.evidence.hint}_`);
        expect(v.confidence).toBeGreaterThanOrEqual(0);
        expect(v.confidence).toBeLessThanOrEqual(1);
        const json = JSON.stringify(v);
        for (const value of values) {
          if (typeof value === 'string' && value.length >= 6 && !`_${name}_`.includes(value))
            expect(json).not.toContain(value);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('span redaction never leaves a detected identifier in the text', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(identifierLike, fc.string({ maxLength: 20 })), { maxLength: 8 }), (parts) => {
        const text = parts.join(' ');
        const redacted = redactSpans(text);
        expect(findSpans(redacted)).toEqual([]);
        for (const s of findSpans(text)) expect(redacted).not.toContain(text.slice(s.start, s.end));
      }),
      { numRuns: 500 },
    );
  });
});
