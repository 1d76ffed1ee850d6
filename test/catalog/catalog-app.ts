import { SignJWT } from 'jose';
import { startApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app.ts';
import type { DatabaseKind } from '../helpers/databases.ts';

const key = new TextEncoder().encode(TEST_JWT_SECRET);

/** A test token (HS256 with TEST_JWT_SECRET), claims per api-contract.md. */
export async function tokenFor(claims: {
  sub: string;
  roles: string[];
  unit?: string;
  kind?: 'user' | 'service';
  purposes?: string[];
}): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);
}

/** Boots the whole app (identity verifies the test tokens) on a fresh database. */
export async function startCatalogApp(kind: DatabaseKind): Promise<TestApp> {
  return startApp(kind);
}

/** The principals the suites use: stewards, PPID, auditors in West Java (32) and elsewhere. */
export async function principals() {
  return {
    steward32: await tokenFor({ sub: 'steward-32', roles: ['steward'], unit: '32' }),
    steward3201: await tokenFor({ sub: 'steward-3201', roles: ['steward'], unit: '32.01' }),
    steward33: await tokenFor({ sub: 'steward-33', roles: ['steward'], unit: '33' }),
    ppid32: await tokenFor({ sub: 'ppid-32', roles: ['ppid'], unit: '32' }),
    ppid32b: await tokenFor({ sub: 'ppid-32b', roles: ['ppid'], unit: '32' }),
    ppid33: await tokenFor({ sub: 'ppid-33', roles: ['ppid'], unit: '33' }),
    auditor32: await tokenFor({ sub: 'auditor-32', roles: ['auditor'], unit: '32' }),
    staff32: await tokenFor({ sub: 'staff-32', roles: ['staff'], unit: '32' }),
    staff33: await tokenFor({ sub: 'staff-33', roles: ['staff'], unit: '33' }),
    admin: await tokenFor({ sub: 'admin-1', roles: ['admin'], unit: 'RI' }),
  };
}

export const FAR_FUTURE = '2099-12-31';

/** A small dataset body (violation reports, SIGAPLAPOR-like) for the given id and unit. */
export function datasetBody(id: string, ownerUnit = '32', extra: Record<string, unknown> = {}) {
  return {
    id,
    title: `Laporan pelanggaran ${id}`,
    description: 'Violation reports received by the office',
    summary: 'Laporan dugaan pelanggaran pemilu yang diterima kantor, dengan status penanganannya.',
    ownerUnit,
    sourceSystem: 'SIGAPLAPOR',
    fields: [
      { name: 'report_no', type: 'string', description: 'Registration number' },
      { name: 'received_on', type: 'date' },
      { name: 'reporter_name', type: 'string', personalData: 'name' },
      { name: 'reporter_phone', type: 'string', personalData: 'phone' },
      { name: 'reported_party_status', type: 'string', personalData: 'criminal_record' },
      { name: 'summary', type: 'string' },
    ],
    ...extra,
  };
}

/** `months` months from today (UTC), as YYYY-MM-DD: review dates must lie within 12 months. */
export function monthsAhead(months: number): string {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.toISOString().slice(0, 10);
}

/** A review date the rules accept (at most 12 months ahead). */
export const REVIEW_BY = monthsAhead(6);

/** A complete exemption proposal: art. 17 grounds, the consequence test, a period, lift conditions, review date. */
export const EXEMPTION = {
  classification: 'exempt',
  grounds: ['17a.1', '17j'],
  statute: 'UU 7/2017 pasal 93',
  consequenceTest: {
    harm: 'Disclosure would reveal reporters and witnesses and expose them to retaliation.',
    protectedInterest: 'The safety of reporters and witnesses',
    publicInterest: 'Protecting reporters keeps violation reporting possible; the rulings themselves are public.',
    balance: 'The rulings are published in full; only identities are withheld, so the public loses little.',
    conclusion: 'Exempt the identities of reporters and witnesses.',
    timing: 'before_request',
    testRecordNo: 'UK/32/2026/4',
    testDate: '2026-01-15',
    participants: ['PPID Bawaslu Provinsi Jawa Barat', 'Kepala Divisi Hukum'],
  },
  period: { until: '2040-12-31' },
  liftConditions: ['the reporter consents in writing', 'a court or the Information Commission orders disclosure'],
  reviewBy: REVIEW_BY,
};

/** The body of an approval: the decree and whose agreement it records. */
export function decision(ref = 'KEP/32/1') {
  return {
    decision: {
      ref,
      date: '2026-02-01',
      place: 'Bandung',
      agreedBy: { name: 'Ketua Bawaslu Provinsi Jawa Barat', position: 'Ketua' },
    },
  };
}
