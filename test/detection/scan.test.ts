import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { principals, PURPOSE, startRecordsApp, tokenFor } from '../records/records-app.ts';

// Valid NIKs (region 32.01.xx, real dates, women's days + 40) and mobile numbers.
const NIKS = Array.from(
  { length: 20 },
  (_, i) => `320101${String((i % 28) + 41)}0390${String(i + 1).padStart(4, '0')}`,
);
const PHONES = Array.from({ length: 20 }, (_, i) => `08123456${String(7000 + i)}`);

function laporDataset(id: string) {
  return {
    id,
    title: `Laporan ${id}`,
    // The DIP lists a dataset with a summary (Perki 1/2021).
    summary: `Laporan pelanggaran ${id} dan tindak lanjutnya`,
    ownerUnit: '32',
    fields: [
      { name: 'report_no', type: 'string' },
      { name: 'nomor', type: 'string', personalData: 'none' },
      { name: 'keterangan', type: 'string' },
      { name: 'nama_pelapor', type: 'string', personalData: 'name' },
      { name: 'catatan', type: 'string', personalData: 'health' },
      { name: 'keadaan', type: 'string' },
    ],
  };
}

const records = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    report_no: `LP-${i}`,
    nomor: NIKS[i % NIKS.length],
    keterangan:
      i % 4 === 0
        ? `Pelapor dapat dihubungi di ${PHONES[i % PHONES.length]} setelah jam kerja.`
        : 'Tidak ada catatan tambahan.',
    nama_pelapor: `Siti Rahma ${String.fromCharCode(65 + (i % 26))}`,
    catatan: 'pemeriksaan lanjutan',
    keadaan: ['tersangka', 'terdakwa', 'terpidana'][i % 3],
  }));

describe.each(databaseKinds())('personal-data detection on %s', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;
  let auditor: string;
  beforeAll(async () => {
    t = await startRecordsApp(kind);
    who = await principals();
    auditor = await tokenFor({ sub: 'auditor-1', roles: ['auditor'], unit: 'RI' });
  });
  afterAll(() => t.close());

  async function publicDataset(id: string) {
    expect((await t.request('POST', '/v1/datasets', { token: who.steward32, json: laporDataset(id) })).status).toBe(
      201,
    );
    const l = await t.request('PUT', `/v1/datasets/${id}/label`, {
      token: who.steward32,
      json: { classification: 'public' },
    });
    expect(l.status).toBe(200);
  }
  const field = async (id: string, name: string) =>
    (await t.request('GET', `/v1/datasets/${id}`, { token: who.steward32 })).body.fields.find(
      (f: { name: string }) => f.name === name,
    );
  const anonymousCheck = async (id: string, name: string) =>
    (
      await t.request('POST', '/v1/check', {
        json: { action: 'read', resource: { type: 'Field', id: `${id}/${name}` } },
      })
    ).body;
  const auditText = async () => (await t.request('GET', '/v1/audit/decisions?limit=1000', { token: auditor })).text;

  it('an ingest of NIKs into a public `none` field quarantines it: the response says so, and the public read of that field is withheld from then on', async () => {
    await publicDataset('lapor-q');
    const before = await anonymousCheck('lapor-q', 'nomor');
    expect(before.allow).toBe(true); // public, declared none: open before anything is found

    const ingest = await t.request('POST', '/v1/datasets/lapor-q/records', { token: who.steward32, json: records(40) });
    expect(ingest.status).toBe(201);
    expect(ingest.body.inserted).toBe(40);
    expect(ingest.body.quarantined).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'nomor', personalData: 'nik', scope: 'field' }),
        expect.objectContaining({ field: 'keterangan', personalData: 'phone', scope: 'spans' }),
      ]),
    );
    expect(ingest.body.quarantined).toContainEqual(
      expect.objectContaining({ field: 'keadaan', personalData: 'criminal_record', scope: 'field' }),
    );
    for (const q of ingest.body.quarantined) expect(['nomor', 'keterangan', 'keadaan']).toContain(q.field);

    // The anonymous open-data read: the NIK field is gone, the phone numbers inside the text are redacted.
    for (const path of ['/v1/public/datasets/lapor-q/records', '/v1/datasets/lapor-q/records']) {
      const read = await t.request('GET', path);
      expect(read.status).toBe(200);
      expect(read.body.items).toHaveLength(40);
      for (const item of read.body.items) expect(item).not.toHaveProperty('nomor');
      for (const nik of NIKS) expect(read.text).not.toContain(nik);
      for (const phone of PHONES) expect(read.text).not.toContain(phone);
      expect(read.text).toContain('[phone]');
      expect(read.text).toContain('Tidak ada catatan tambahan.');
    }
    // Staff of the unit, with a purpose: the NIK field masked as a NIK, the criminal status as specific data.
    const staff = await t.request('GET', '/v1/datasets/lapor-q/records?limit=100', {
      token: who.staff32,
      headers: { 'x-purpose': PURPOSE },
    });
    expect(staff.status).toBe(200);
    expect(staff.headers.get('x-jaga-fields-masked')?.split(',')).toEqual(expect.arrayContaining(['nomor', 'keadaan']));
    for (const nik of NIKS) expect(staff.text).not.toContain(nik);
    expect(staff.body.items[0].nomor).toMatch(/^3201\*+\d\d$/);
    for (const word of ['tersangka', 'terdakwa', 'terpidana']) expect(staff.text).not.toContain(word);
    expect(staff.body.items[0].keadaan).toMatch(/^psn_/);

    // Checks answer from the catalog in memory: the quarantine is there at once.
    const after = await anonymousCheck('lapor-q', 'nomor');
    expect(after.allow).toBe(false);

    const nomor = await field('lapor-q', 'nomor');
    expect(nomor).toMatchObject({
      personalData: 'none',
      quarantined: true,
      provenance: 'suggested',
      effectiveClassification: 'restricted',
    });
    expect(await field('lapor-q', 'keterangan')).toMatchObject({ redactSpans: true, quarantined: false });

    // Nor is it listed as a public field in the register, or in the open-data catalogue.
    const register = await t.request('GET', '/v1/registers/public?limit=1000');
    const entry = register.body.items.find((d: { id: string }) => d.id === 'lapor-q');
    expect(entry.publicFields.map((f: { name: string }) => f.name)).not.toContain('nomor');
    const catalogue = await t.request('GET', '/v1/public/datasets?limit=1000');
    expect(JSON.stringify(catalogue.body.items.find((d: { id: string }) => d.id === 'lapor-q'))).not.toContain('nomor');

    const audit = await auditText();
    expect(audit).toContain('"quarantine"');
    for (const nik of NIKS) expect(audit).not.toContain(nik);
  });

  it('a steward’s declared kind survives any number of scans', async () => {
    await publicDataset('lapor-s');
    expect(
      (await t.request('POST', '/v1/datasets/lapor-s/records', { token: who.steward32, json: records(30) })).status,
    ).toBe(201);
    for (let i = 0; i < 3; i++) {
      const scan = await t.request('POST', '/v1/datasets/lapor-s/scan', { token: who.steward32 });
      expect(scan.status).toBe(200);
      expect(scan.body.suggestions.find((s: { field: string }) => s.field === 'nomor')).toMatchObject({
        personalData: 'nik',
        personalDataKind: 'general',
        classification: 'restricted',
        status: 'open',
        evidence: { detector: 'nik', sampled: 30, matched: 30 },
      });
    }
    expect(await field('lapor-s', 'nomor')).toMatchObject({ personalData: 'none' });
    expect(await field('lapor-s', 'catatan')).toMatchObject({ personalData: 'health', provenance: 'declared' });
    expect(await field('lapor-s', 'nama_pelapor')).toMatchObject({ personalData: 'name', provenance: 'declared' });
    const suggestions = await t.request('GET', '/v1/datasets/lapor-s/suggestions', { token: who.steward32 });
    expect(suggestions.status).toBe(200);
    expect(suggestions.body.items.map((s: { field: string }) => s.field)).toEqual([
      'report_no',
      'nomor',
      'keterangan',
      'nama_pelapor',
      'catatan',
      'keadaan',
    ]);
    for (const nik of NIKS) expect(suggestions.text).not.toContain(nik);
    for (const phone of PHONES) expect(suggestions.text).not.toContain(phone);
    // The openness report counts, per unit, fields where personal data was found but none declared.
    const openness = await t.request('GET', '/v1/audit/reports/openness', { token: auditor });
    expect(openness.status).toBe(200);
    expect(
      openness.body.units.find((u: { unit: string }) => u.unit === '32').personalDataUndeclared,
    ).toBeGreaterThanOrEqual(2);
    // The catalog list can show the datasets with open suggestions.
    const list = await t.request('GET', '/v1/datasets?openSuggestions=true&limit=200', { token: who.steward32 });
    expect(list.body.items.map((d: { id: string }) => d.id)).toContain('lapor-s');
  });

  it('accepting and rejecting suggestions are label events in the history and the audit log; a rejected finding does not quarantine again', async () => {
    await publicDataset('lapor-d');
    expect(
      (await t.request('POST', '/v1/datasets/lapor-d/records', { token: who.steward32, json: records(30) })).status,
    ).toBe(201);
    const accept = await t.request('POST', '/v1/datasets/lapor-d/fields/nomor/suggestion/accept', {
      token: who.steward32,
      json: { justification: 'the column holds reporters’ NIKs' },
    });
    expect(accept.status).toBe(200);
    expect(accept.body.fields.find((f: { name: string }) => f.name === 'nomor')).toMatchObject({
      personalData: 'nik',
      provenance: 'confirmed',
      quarantined: false,
      effectiveClassification: 'restricted',
    });
    const reject = await t.request('POST', '/v1/datasets/lapor-d/fields/keterangan/suggestion/reject', {
      token: who.steward32,
    });
    expect(reject.status).toBe(200);
    expect(reject.body.fields.find((f: { name: string }) => f.name === 'keterangan')).toMatchObject({
      personalData: 'none',
      redactSpans: false,
    });
    const again = await t.request('POST', '/v1/datasets/lapor-d/fields/nomor/suggestion/accept', {
      token: who.steward32,
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('NO_OPEN_SUGGESTION');

    const history = await t.request('GET', '/v1/datasets/lapor-d/labels', { token: who.steward32 });
    const decided = history.body.items.filter((e: { suggestion?: unknown }) => e.suggestion);
    expect(decided).toEqual([
      expect.objectContaining({
        field: 'nomor',
        event: 'label',
        from: 'restricted',
        to: 'restricted',
        suggestion: expect.objectContaining({ decision: 'accepted', personalData: 'nik', fromPersonalData: 'none' }),
      }),
      expect.objectContaining({
        field: 'keterangan',
        event: 'label',
        suggestion: expect.objectContaining({ decision: 'rejected', personalData: 'phone' }),
      }),
    ]);
    const audit = await auditText();
    expect(audit).toContain(`"suggestion":"accepted"`);
    expect(audit).toContain(`"suggestion":"rejected"`);

    // Rescans and more uploads: the decided fields stay decided.
    expect(
      (await t.request('POST', '/v1/datasets/lapor-d/records', { token: who.steward32, json: records(8) })).body
        .quarantined,
    ).toBeUndefined();
    const scan = await t.request('POST', '/v1/datasets/lapor-d/scan', { token: who.steward32 });
    expect(scan.body.quarantined).toEqual([]);
    expect(scan.body.suggestions.find((s: { field: string }) => s.field === 'keterangan').status).toBe('rejected');
    const read = await t.request('GET', '/v1/public/datasets/lapor-d/records?limit=100');
    expect(read.text).toContain(PHONES[0]); // the steward decided the text may be public as it is
  });

  it('the personal-data list has the added categories nip, passport and bpjs (general)', async () => {
    const fields = ['nip', 'passport', 'bpjs'].map((c) => ({ name: `no_${c}`, type: 'string', personalData: c }));
    const made = await t.request('POST', '/v1/datasets', {
      token: who.steward32,
      json: { id: 'pegawai', title: 'Pegawai', ownerUnit: '32', fields },
    });
    expect(made.status).toBe(201);
    expect(
      made.body.fields.map((f: { personalData: string; personalDataKind: string }) => [
        f.personalData,
        f.personalDataKind,
      ]),
    ).toEqual([
      ['nip', 'general'],
      ['passport', 'general'],
      ['bpjs', 'general'],
    ]);
    const bad = await t.request('POST', '/v1/datasets', {
      token: who.steward32,
      json: {
        id: 'pegawai-2',
        title: 'Pegawai',
        ownerUnit: '32',
        fields: [{ name: 'x', type: 'string', personalData: 'sim' }],
      },
    });
    expect(bad.status).toBe(400);
  });

  it('only stewards and administrators of the unit scan; others get 403, and those who may not see the dataset 404', async () => {
    await publicDataset('lapor-p');
    expect((await t.request('POST', '/v1/datasets/lapor-p/scan', { token: who.staff32 })).status).toBe(403);
    expect((await t.request('POST', '/v1/datasets/lapor-p/scan', { token: who.admin })).status).toBe(200);
    const other = await t.request('POST', '/v1/datasets/lapor-p/fields/nomor/suggestion/accept', {
      token: who.steward33,
    });
    expect([403, 404]).toContain(other.status);
    expect((await t.request('POST', '/v1/datasets/nope/scan', { token: who.steward32 })).status).toBe(404);
  });
});
