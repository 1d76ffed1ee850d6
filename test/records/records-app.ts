import { registerPurposes, startApp, type TestApp } from '../helpers/app.ts';
import type { DatabaseKind } from '../helpers/databases.ts';
import { tokenFor } from '../catalog/catalog-app.ts';

export { tokenFor };

/** Boots the whole app (real identity, routes, services, database and error model). */
export async function startRecordsApp(
  kind: DatabaseKind,
  env: Record<string, string> = {},
  options: Parameters<typeof startApp>[2] = {},
): Promise<TestApp> {
  const t = await startApp(kind, env, options);
  // Guard: the suites below are only meaningful if the app honours the test tokens.
  const probe = await t.request('GET', '/v1/me', {
    token: await tokenFor({ sub: 'probe', roles: ['staff'], unit: '32' }),
  });
  if (probe.body?.sub !== 'probe') throw new Error(`the app does not honour test tokens: ${probe.text}`);
  await registerPurposes(t, [PURPOSE, 'statistik']);
  return t;
}

export const PURPOSE = 'penanganan-pelanggaran';

/** The principals these suites use. */
export async function principals() {
  return {
    steward32: await tokenFor({ sub: 'steward-32', roles: ['steward'], unit: '32', purposes: [PURPOSE] }),
    steward3201: await tokenFor({ sub: 'steward-3201', roles: ['steward'], unit: '32.01', purposes: [PURPOSE] }),
    steward33: await tokenFor({ sub: 'steward-33', roles: ['steward'], unit: '33', purposes: [PURPOSE] }),
    staff32: await tokenFor({ sub: 'staff-32', roles: ['staff'], unit: '32', purposes: [PURPOSE, 'statistik'] }),
    staff33: await tokenFor({ sub: 'staff-33', roles: ['staff'], unit: '33', purposes: [PURPOSE] }),
    admin: await tokenFor({ sub: 'admin-1', roles: ['admin'], unit: 'RI' }),
  };
}

/** Violation reports (SIGAPLAPOR-like): a non-personal field explicitly restricted, personal data of both kinds. */
export function reportsDataset(id: string, ownerUnit = '32', steward?: string) {
  return {
    id,
    title: `Laporan pelanggaran ${id}`,
    ownerUnit,
    sourceSystem: 'SIGAPLAPOR',
    ...(steward ? { steward } : {}),
    fields: [
      { name: 'report_no', type: 'string' },
      { name: 'received_on', type: 'date' },
      { name: 'region', type: 'string' },
      { name: 'category', type: 'string' },
      { name: 'amount', type: 'integer' },
      { name: 'reporter_name', type: 'string', personalData: 'name' },
      { name: 'reporter_nik', type: 'string', personalData: 'nik' },
      { name: 'reporter_phone', type: 'string', personalData: 'phone' },
      { name: 'reporter_birthdate', type: 'date', personalData: 'birthdate' },
      { name: 'reported_party_status', type: 'string', personalData: 'criminal_record' },
      { name: 'investigator_note', type: 'string' },
    ],
  };
}

export const NIKS = [
  '3201014506900001',
  '3201024506900002',
  '3202034506900003',
  '3201014506900004',
  '3201014506900005',
];

/** `n` realistic records; units alternate between 32.01 and 32.02. */
export function reports(n: number, offset = 0) {
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    return {
      report_no: `LP-${String(i).padStart(5, '0')}`,
      received_on: `2024-02-${String((i % 28) + 1).padStart(2, '0')}`,
      region: i % 2 ? '32.02' : '32.01',
      category: ['politik uang', 'netralitas ASN', 'kampanye di luar jadwal'][i % 3]!,
      amount: i * 10,
      reporter_name: `Siti Rahma ${i}`,
      reporter_nik: NIKS[i % NIKS.length]!,
      reporter_phone: `0812345678${String(i % 100).padStart(2, '0')}`,
      reporter_birthdate: '1990-06-05',
      reported_party_status: 'terlapor',
      investigator_note: `catatan internal ${i}`,
      _unit: i % 2 ? '32.02' : '32.01',
    };
  });
}
