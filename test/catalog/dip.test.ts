import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { EXEMPTION, datasetBody, decision, principals, startCatalogApp } from './catalog-app.ts';

const DIP_METADATA = {
  summary: 'Putusan penyelesaian sengketa proses pemilu di Jawa Barat, lengkap dengan amar putusan.',
  responsibleOfficial: { name: 'Dr. Siti Aminah', position: 'Kepala Divisi Penyelesaian Sengketa' },
  producedAt: '2024',
  producedPlace: 'Bandung',
  forms: ['cetak', 'elektronik (PDF, CSV)'],
  retention: { period: '10 tahun', reference: 'Jadwal Retensi Arsip Bawaslu (Perbawaslu 2/2019)' },
  infoKind: 'setiap_saat',
};

/** The Daftar Informasi Publik as UU 14/2008 art. 11(1)(a) and Perki 1/2021 write it (issue 21). */
describe.each(databaseKinds())('the DIP on %s', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;
  const dip = async () => (await t.request('GET', '/v1/registers/public')).body.items as any[];
  const entry = async (id: string) => (await dip()).find((e) => e.id === id);

  beforeAll(async () => {
    t = await startCatalogApp(kind);
    who = await principals();
    const create = async (id: string, extra: Record<string, unknown> = {}) =>
      expect(
        (await t.request('POST', '/v1/datasets', { token: who.steward32, json: datasetBody(id, '32', extra) })).status,
      ).toBe(201);
    const label = async (id: string, json: unknown, status = 200) =>
      expect((await t.request('PUT', `/v1/datasets/${id}/label`, { token: who.steward32, json })).status).toBe(status);
    await create('dip-open', DIP_METADATA);
    await label('dip-open', { classification: 'public' });
    await create('dip-restricted', { ...DIP_METADATA, steward: 'siti' });
    await label('dip-restricted', { classification: 'restricted' });
    await t.request('POST', '/v1/datasets/dip-restricted/records', {
      token: who.steward32,
      json: [{ report_no: 'SECRET-REPORT-1', reporter_name: 'Budi Santoso' }],
    });
    await create('dip-unlabelled');
    await create('dip-no-summary', { summary: undefined });
    await label('dip-no-summary', { classification: 'public' });
    await create('dip-exempt');
    await label('dip-exempt', EXEMPTION, 202);
    await t.request('POST', '/v1/datasets/dip-exempt/label/approve', { token: who.ppid32, json: decision() });
  });
  afterAll(() => t.close());

  it('lists a restricted dataset with access on_request, with every DIP column the steward supplied', async () => {
    expect(await entry('dip-restricted')).toEqual({
      registerNo: expect.stringMatching(/^DIP\/32\/\d{4}\/\d+$/),
      id: 'dip-restricted',
      title: 'Laporan pelanggaran dip-restricted',
      ...DIP_METADATA,
      holdingUnit: { code: '32', name: 'Jawa Barat' },
      access: 'on_request',
      determination: null,
      sourceSystem: 'SIGAPLAPOR',
      updateFrequency: null,
      periodCovered: null,
      updatedAt: expect.any(String),
      labelVersion: 1,
      publicFields: [],
    });
    expect((await entry('dip-open')).access).toBe('open');
    // Register numbers are per unit and year, each its own.
    expect((await entry('dip-open')).registerNo).not.toBe((await entry('dip-restricted')).registerNo);
  });

  it('leaves out unlabelled and wholly exempt datasets, and those without a summary; the openness report counts the unlabelled', async () => {
    const ids = (await dip()).map((e) => e.id);
    for (const hidden of ['dip-unlabelled', 'dip-exempt', 'dip-no-summary']) expect(ids).not.toContain(hidden);
    const report = await t.request('GET', '/v1/audit/reports/openness', { token: who.auditor32 });
    expect(report.body.units.find((u: any) => u.unit === '32').unlabelled).toBe(1);
  });

  it('answers an anonymous read of a restricted dataset with its public metadata: 200, no records, no user ids', async () => {
    const r = await t.request('GET', '/v1/datasets/dip-restricted');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: 'dip-restricted',
      classification: 'restricted',
      access: 'on_request',
      summary: DIP_METADATA.summary,
    });
    expect(r.body.fields.map((f: any) => f.name)).toContain('reporter_name');
    for (const leak of ['"siti"', 'steward-32', 'SECRET-REPORT-1', 'Budi', 'steward', 'decidedBy', 'labels'])
      expect(r.text).not.toContain(leak);
    expect((await t.request('GET', '/v1/datasets/dip-restricted/records')).status).not.toBe(200);
    // Staff of another province see the same public metadata, not the dataset.
    const other = await t.request('GET', '/v1/datasets/dip-restricted', { token: who.staff33 });
    expect(other.status).toBe(200);
    expect(other.body.access).toBe('on_request');
    // Exempt and unlabelled datasets stay invisible.
    expect((await t.request('GET', '/v1/datasets/dip-exempt')).status).toBe(404);
    expect((await t.request('GET', '/v1/datasets/dip-unlabelled')).status).toBe(404);
  });

  it('shows anonymous callers no user ids on a public dataset or its label history', async () => {
    const d = await t.request('GET', '/v1/datasets/dip-open');
    expect(d.status).toBe(200);
    expect(d.body.steward).toBeNull();
    expect(d.body.label.decidedBy).toBeNull();
    expect(d.text).not.toContain('steward-32');
    const list = await t.request('GET', '/v1/datasets');
    expect(list.body.items.map((i: any) => i.id)).toContain('dip-open');
    expect(list.text).not.toContain('steward-32');
    const h = await t.request('GET', '/v1/datasets/dip-open/labels');
    expect(h.status).toBe(200);
    expect(h.body.items.length).toBeGreaterThan(0);
    expect(h.text).not.toContain('steward-32');
    expect(h.body.items[0].by).toEqual({ roles: ['steward'], unit: '32' });
    // A signed-in reader of the unit still sees who.
    expect((await t.request('GET', '/v1/datasets/dip-open', { token: who.staff32 })).body.steward).toBe('steward-32');
  });

  it('takes DIP metadata on update, refusing a kind of information the law does not name', async () => {
    const ds = await t.request('GET', '/v1/datasets/dip-no-summary', { token: who.steward32 });
    const bad = await t.request('PATCH', '/v1/datasets/dip-no-summary', {
      token: who.steward32,
      headers: { 'if-match': ds.headers.get('etag')! },
      json: { infoKind: 'kadang-kadang' },
    });
    expect(bad.status).toBe(400);
    const ok = await t.request('PATCH', '/v1/datasets/dip-no-summary', {
      token: who.steward32,
      headers: { 'if-match': ds.headers.get('etag')! },
      json: { summary: 'Rekapitulasi laporan per kabupaten.', infoKind: 'berkala', forms: ['elektronik (CSV)'] },
    });
    expect(ok.status).toBe(200);
    expect(await entry('dip-no-summary')).toMatchObject({
      summary: 'Rekapitulasi laporan per kabupaten.',
      infoKind: 'berkala',
      forms: ['elektronik (CSV)'],
      access: 'open',
    });
  });

  it('a PPID determines the DIP; entries labelled since show pending determination', async () => {
    const determine = (token: string | undefined, json: unknown) =>
      t.request('POST', '/v1/registers/public/determinations', { ...(token ? { token } : {}), json });
    expect((await determine(undefined, { ref: 'KEP/1', date: '2026-03-01' })).status).toBe(401);
    expect((await determine(who.steward32, { ref: 'KEP/1', date: '2026-03-01' })).status).toBe(403);
    expect((await determine(who.ppid33, { ref: 'KEP/1', date: '2026-03-01', unit: '32' })).status).toBe(403);
    expect((await determine(who.ppid32, { ref: 'KEP/1' })).status).toBe(400);
    expect((await entry('dip-open')).determination).toBeNull();

    const made = await determine(who.ppid32, { ref: 'KEP-PPID/32/2026/3', date: '2026-03-01' });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ unit: '32', ref: 'KEP-PPID/32/2026/3', date: '2026-03-01' });
    for (const id of ['dip-open', 'dip-restricted'])
      expect((await entry(id)).determination).toEqual({ ref: 'KEP-PPID/32/2026/3', date: '2026-03-01' });

    // A new label after the determination: pending until the next one.
    await t.request('PUT', '/v1/datasets/dip-restricted/label', {
      token: who.ppid32,
      json: { classification: 'public', justification: 'Rulings are public (UU 14/2008 art. 18(1)).' },
    });
    expect((await entry('dip-restricted')).determination).toBeNull();
    expect((await entry('dip-open')).determination).toEqual({ ref: 'KEP-PPID/32/2026/3', date: '2026-03-01' });
    // Another province's determination does not cover unit 32.
    await determine(who.ppid33, { ref: 'KEP/33/1', date: '2026-03-02' });
    expect((await entry('dip-restricted')).determination).toBeNull();
  });

  it('streams the DIP as CSV across pages', async () => {
    const csv = await t.request('GET', '/v1/registers/public', { headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    const lines = csv.text.trim().split('\r\n');
    expect(lines.length).toBe(1 + (await dip()).length);
    expect(csv.text).toContain('dip-restricted');
    expect(csv.text).not.toContain('dip-exempt');
  });
});
