import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  coverageOf,
  dayOf,
  exemptSharing,
  nextDayStart,
  selectAgreement,
  statusAt,
  type Agreement,
} from '../../src/agreements/agreement.model.ts';
import { legalBasisIn, legalBasisKey } from '../../src/shared/legal-basis.ts';

const base: Agreement = {
  id: 'pks-a',
  title: 't',
  reference: 'r',
  referenceDate: null,
  providerUnits: ['32'],
  recipientAgency: 'KPU',
  principals: ['svc-kpu'],
  legalBasis: 'UU 7/2017',
  purposes: ['verifikasi-calon'],
  datasets: [{ id: 'calon', fields: { nama: 'whole', nik: 'masked' } }],
  validFrom: '2029-01-01',
  validTo: '2029-03-31',
  rowsPerDay: null,
  publish: false,
  status: 'approved',
  draftedBy: 's',
  approvedBy: 'p',
  version: 2,
  createdAt: new Date(0),
  updatedAt: new Date(0),
};
const at = (iso: string) => Date.parse(iso);
const kpu = { sub: 'svc-kpu' };

describe('agreement validity and selection (agreement.model.ts)', () => {
  it('is active from validFrom through validTo in WIB days, expired from the next midnight in Jakarta', () => {
    expect(statusAt(base, at('2028-12-31T16:59:59Z'))).toBe('approved');
    expect(statusAt(base, at('2028-12-31T17:00:00Z'))).toBe('active');
    expect(statusAt(base, at('2029-03-31T16:59:59Z'))).toBe('active');
    expect(statusAt(base, at('2029-03-31T17:00:00Z'))).toBe('expired');
    expect(statusAt({ ...base, status: 'suspended' }, at('2029-02-01T00:00:00Z'))).toBe('suspended');
    expect(nextDayStart(at('2029-02-01T03:00:00Z'))).toBe('2029-02-01T17:00:00.000Z');
  });

  it('the row limit resets at the start of the next agreement day, whatever the instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), (now) => {
        const reset = Date.parse(nextDayStart(now));
        expect(reset).toBeGreaterThan(now);
        expect(reset - now).toBeLessThanOrEqual(86_400_000);
        expect(dayOf(reset)).not.toBe(dayOf(now));
        expect(dayOf(reset - 1)).toBe(dayOf(now));
      }),
    );
  });

  it('names the closest failure: purpose over expiry over none; a field not covered', () => {
    const now = at('2029-02-01T03:00:00Z');
    expect(selectAgreement([base], kpu, 'calon', 'verifikasi-calon', now)).toMatchObject({
      agreement: { id: 'pks-a' },
    });
    expect(selectAgreement([base], kpu, 'calon', 'statistik', now)).toMatchObject({
      code: 'PURPOSE_NOT_IN_AGREEMENT',
      mentioned: true,
    });
    expect(selectAgreement([base], kpu, 'calon', null, now).code).toBe('PURPOSE_NOT_IN_AGREEMENT');
    expect(selectAgreement([base], kpu, 'calon', 'verifikasi-calon', at('2029-04-01T00:00:00Z')).code).toBe(
      'AGREEMENT_EXPIRED',
    );
    expect(selectAgreement([base], { sub: 'svc-x' }, 'calon', 'verifikasi-calon', now)).toMatchObject({
      code: 'NO_AGREEMENT',
      mentioned: false,
    });
    expect(selectAgreement([base], kpu, 'lain', 'verifikasi-calon', now).code).toBe('NO_AGREEMENT');
    expect(selectAgreement([{ ...base, status: 'revoked' }], kpu, 'calon', 'verifikasi-calon', now).code).toBe(
      'NO_AGREEMENT',
    );
    // An expired one and an active one for another purpose: the active one is the closer failure.
    const expired = { ...base, id: 'pks-b', validTo: '2029-01-15' };
    const other = { ...base, id: 'pks-c', purposes: ['statistik'] };
    expect(selectAgreement([expired, other], kpu, 'calon', 'verifikasi-calon', now).code).toBe(
      'PURPOSE_NOT_IN_AGREEMENT',
    );
    expect(coverageOf(base, 'calon', 'nik')).toBe('masked');
    expect(coverageOf(base, 'calon', 'alamat')).toBe('FIELD_NOT_IN_AGREEMENT');
    expect(coverageOf(base, 'calon', 'constructor')).toBe('FIELD_NOT_IN_AGREEMENT');
  });
});

describe('exempt fields under an agreement (the model)', () => {
  const a: Agreement = {
    ...base,
    legalBasis: 'UU 7/2017 pasal 93',
    datasets: [
      {
        id: 'calon',
        fields: { nama: 'whole', pendidikan: { coverage: 'whole', exempt: true }, alamat: 'masked' },
      },
    ],
  };
  const record = (bases: string[]) => new Map([['pendidikan', { dikNo: 'DIK/32/2026/1', bases }]]);

  it('needs the opt-in and the legal basis in the DIK record, compared as the law it names', () => {
    expect(coverageOf(a, 'calon', 'pendidikan')).toBe('whole');
    expect(exemptSharing(a, 'calon', 'pendidikan', record(['Undang-Undang Nomor 7 Tahun 2017 Pasal 93']))).toBe(
      'shared',
    );
    expect(exemptSharing(a, 'calon', 'pendidikan', record(['UU No. 7/2017 Ps. 93']))).toBe('shared');
    expect(exemptSharing(a, 'calon', 'pendidikan', record(['UU 7/2017 pasal 94']))).toBe('EXEMPTION_NOT_SHAREABLE');
    expect(exemptSharing(a, 'calon', 'pendidikan', record(['UU 17/2017 pasal 93']))).toBe('EXEMPTION_NOT_SHAREABLE');
    expect(exemptSharing(a, 'calon', 'pendidikan', record([]))).toBe('EXEMPTION_NOT_SHAREABLE');
    expect(exemptSharing(a, 'calon', 'pendidikan', new Map())).toBe('EXEMPTION_NOT_SHAREABLE');
    expect(exemptSharing(a, 'calon', 'alamat', record(['UU 7/2017 pasal 93']))).toBe('EXEMPT_NOT_IN_AGREEMENT');
  });

  it('the canonical form is stable and has no spaces (the audit log may hold it)', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const key = legalBasisKey(s);
        expect(key).not.toMatch(/\s/);
        expect(legalBasisKey(key.replaceAll('_', ' '))).toBe(key);
      }),
    );
    expect(legalBasisIn('', [''])).toBe(false);
  });
});
