import { expect } from 'vitest';
import { registerPurposes, startApp, type TestApp } from '../helpers/app.ts';
import type { DatabaseKind } from '../helpers/databases.ts';
import type { Database } from '../../src/db/database.ts';
import { tokenFor } from '../catalog/catalog-app.ts';

/** A clock the agreements are judged by, moved by the tests (WireOptions.replace.clock). */
export function testClock(start: string) {
  let now = Date.parse(start);
  return {
    now: () => now,
    set: (iso: string) => (now = Date.parse(iso)),
    replace: () => () => now,
  };
}

export type Clock = ReturnType<typeof testClock>;

export async function startAgreementsApp(
  kind: DatabaseKind,
  clock: Clock,
  options: { db?: Database; env?: Record<string, string> } = {},
): Promise<TestApp> {
  const t = await startApp(kind, options.env ?? {}, {
    replace: { clock: clock.replace },
    ...(options.db ? { db: options.db } : {}),
  });
  // A partner's purposes are processing purposes like any other: in the register (UU 27/2022 art. 31),
  // with the partner among the recipients; an unregistered one counts as none.
  if (!options.db) await registerPurposes(t, [VERIFY, 'statistik'], { recipients: ['Komisi Pemilihan Umum'] });
  return t;
}

export const VERIFY = 'verifikasi-calon';
export const KPU = 'svc-kpu-silon';

export async function principals() {
  return {
    steward: await tokenFor({ sub: 'steward-32', roles: ['steward'], unit: '32' }),
    // A steward who is also a PPID of the unit: may draft, and could approve but for being the drafter.
    stewardPpid: await tokenFor({ sub: 'steward-ppid-32', roles: ['steward', 'ppid'], unit: '32' }),
    ppid: await tokenFor({ sub: 'ppid-32', roles: ['ppid'], unit: '32' }),
    ppid33: await tokenFor({ sub: 'ppid-33', roles: ['ppid'], unit: '33' }),
    admin: await tokenFor({ sub: 'admin-1', roles: ['admin'], unit: 'RI' }),
    // Partner systems carry the Bawaslu unit that registered them (not the provider of the data here).
    kpu: await tokenFor({ sub: KPU, kind: 'service', roles: ['service'], unit: '33', purposes: [VERIFY, 'statistik'] }),
    otherService: await tokenFor({
      sub: 'svc-other',
      kind: 'service',
      roles: ['service'],
      unit: '33',
      purposes: [VERIFY],
    }),
    auditor: await tokenFor({ sub: 'auditor-1', roles: ['auditor'], unit: 'RI' }),
  };
}

export type Who = Awaited<ReturnType<typeof principals>>;

/** Candidate data (KPU's SILON-like), restricted, owned by unit 32. */
export async function candidates(t: TestApp, who: Who, id: string, n = 5): Promise<void> {
  const made = await t.request('POST', '/v1/datasets', {
    token: who.steward,
    json: {
      id,
      title: `Calon anggota legislatif ${id}`,
      ownerUnit: '32',
      fields: [
        { name: 'nama', type: 'string', personalData: 'name' },
        { name: 'nik', type: 'string', personalData: 'nik' },
        { name: 'partai', type: 'string' },
        { name: 'alamat', type: 'string', personalData: 'address' },
        { name: 'catatan_kesehatan', type: 'string', personalData: 'health' },
      ],
    },
  });
  expect(made.status, made.text).toBe(201);
  const label = await t.request('PUT', `/v1/datasets/${id}/label`, {
    token: who.steward,
    json: { classification: 'restricted' },
  });
  expect(label.status, label.text).toBe(200);
  const rows = Array.from({ length: n }, (_, i) => ({
    nama: `Calon ${i}`,
    nik: `32010145069${String(i).padStart(5, '0')}`,
    partai: ['A', 'B', 'C'][i % 3],
    alamat: `Jl. Merdeka No. ${i}`,
    catatan_kesehatan: 'sehat',
  }));
  const put = await t.request('POST', `/v1/datasets/${id}/records`, { token: who.steward, json: rows });
  expect(put.status, put.text).toBe(201);
}

export function agreementBody(datasetId: string, extra: Record<string, unknown> = {}) {
  return {
    title: 'PKS Bawaslu–KPU: verifikasi data calon',
    reference: 'PKS/01/2029',
    recipient: { agency: 'Komisi Pemilihan Umum', principals: [KPU] },
    legalBasis: 'UU 7/2017 pasal 93',
    purposes: [VERIFY],
    datasets: [{ id: datasetId, fields: { nama: 'whole', nik: 'masked', partai: 'whole' } }],
    validFrom: '2029-01-01',
    validTo: '2029-03-31',
    ...extra,
  };
}

/** Drafts (steward) and approves (PPID) an agreement; its id. */
export async function activeAgreement(t: TestApp, who: Who, body: object): Promise<string> {
  const made = await t.request('POST', '/v1/agreements', { token: who.steward, json: body });
  expect(made.status, made.text).toBe(201);
  const ok = await t.request('POST', `/v1/agreements/${made.body.id}/approve`, { token: who.ppid });
  expect(ok.status, ok.text).toBe(200);
  return made.body.id as string;
}

export const readRecords = (
  t: TestApp,
  token: string,
  id: string,
  purpose: string | null,
  query = '',
  accept = 'application/json',
) =>
  t.request('GET', `/v1/datasets/${id}/records${query}`, {
    token,
    headers: { accept, ...(purpose ? { 'x-purpose': purpose } : {}) },
  });

export const check = (t: TestApp, token: string, json: object) => t.request('POST', '/v1/check', { token, json });

/** The statute the worked example's agreement and DIK record name (written differently on purpose). */
export const ELECTION_LAW = 'UU 7/2017 pasal 93';

/** A field exemption under UU 14/2008 art. 17 letter h (personal secrets), proposed by the steward, in force by the PPID. */
export async function exemptField(t: TestApp, who: Who, datasetId: string, field: string): Promise<void> {
  const proposed = await t.request('PUT', `/v1/datasets/${datasetId}/fields/${field}/label`, {
    token: who.steward,
    json: {
      classification: 'exempt',
      grounds: ['17h'],
      consequenceTest: {
        harm: 'Membuka riwayat ini mengungkap rahasia pribadi calon yang dilindungi undang-undang.',
        protectedInterest: 'Rahasia pribadi calon',
        publicInterest: 'Publik berkepentingan atas kelayakan calon; syarat pencalonan diverifikasi oleh KPU.',
        balance: 'KPU memverifikasi untuk tugasnya menurut undang-undang; publik tidak memerlukan rinciannya.',
        conclusion: 'Field ini dikecualikan.',
        timing: 'before_request',
        testRecordNo: `UK/32/2026/${field}`,
        testDate: '2026-01-15',
        participants: ['PPID Bawaslu Provinsi Jawa Barat'],
      },
      period: { indefinite: true },
      liftConditions: ['calon menyetujui secara tertulis'],
      reviewBy: reviewBy(),
    },
  });
  expect(proposed.status, proposed.text).toBe(202);
  const approved = await t.request('POST', `/v1/datasets/${datasetId}/fields/${field}/label/approve`, {
    token: who.ppid,
    json: {
      decision: {
        ref: `KEP-PPID/32/2026/${field}`,
        date: '2026-02-01',
        place: 'Bandung',
        agreedBy: { name: 'Ketua Bawaslu Provinsi Jawa Barat', position: 'Ketua' },
      },
    },
  });
  expect(approved.status, approved.text).toBe(200);
}

/** A review date six months from the real today (the exemption rules use the real date). */
function reviewBy(): string {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + 6);
  return d.toISOString().slice(0, 10);
}

/** The PPID sets the legal bases a field's exemption may be shared under. */
export const shareExemption = (t: TestApp, token: string, datasetId: string, field: string, bases: string[]) =>
  t.request('PUT', `/v1/datasets/${datasetId}/fields/${field}/label/sharing`, {
    token,
    json: { shareableUnder: bases, justification: 'KPU memverifikasi syarat calon menurut UU 7/2017.' },
  });
