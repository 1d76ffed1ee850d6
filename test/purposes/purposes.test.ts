import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { PURPOSE, principals, reports, startRecordsApp, tokenFor } from '../records/records-app.ts';
import { createLabelled } from '../records/setup.ts';

/** The register of processing purposes and the record of processing (UU 27/2022 art. 20, 31). */
describe.each(databaseKinds())('purposes register on %s', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;
  let ppid: string;
  let auditor: string;
  // A steward of unit 32 holding purposes registered narrowly, and one never registered.
  let holder: string;

  beforeAll(async () => {
    // startRecordsApp registers PURPOSE and 'statistik' for any dataset and category.
    t = await startRecordsApp(kind);
    who = await principals();
    ppid = await tokenFor({ sub: 'ppid-32', roles: ['ppid'], unit: '32' });
    auditor = await tokenFor({ sub: 'aud-32', roles: ['auditor'], unit: '32' });
    holder = await tokenFor({
      sub: 'steward-32',
      roles: ['steward'],
      unit: '32',
      purposes: [PURPOSE, 'tidak-terdaftar', 'hanya-lain', 'hanya-nama'],
    });
    await createLabelled(t, who.steward32, 'pp-reports', 'restricted');
    await createLabelled(t, who.steward32, 'pp-other', 'restricted');
    const ingest = await t.request('POST', '/v1/datasets/pp-reports/records', {
      token: who.steward32,
      json: reports(2),
    });
    expect(ingest.status, ingest.text).toBe(201);
    const register = (json: unknown) => t.request('POST', '/v1/purposes', { token: ppid, json });
    expect(
      (
        await register({
          id: 'hanya-lain',
          description: 'Registered for another dataset only',
          lawfulBasis: 'legal_obligation',
          datasets: ['pp-other'],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await register({
          id: 'hanya-nama',
          description: 'Registered for names only',
          lawfulBasis: 'consent',
          categories: ['name'],
          recipients: ['Bawaslu RI'],
          retention: '5 tahun',
        })
      ).status,
    ).toBe(201);
  });
  afterAll(() => t.close());

  const read = (purpose: string) =>
    t.request('GET', '/v1/datasets/pp-reports/records?limit=5', { token: holder, headers: { 'x-purpose': purpose } });

  it('an unregistered purpose discloses no personal data, and says why', async () => {
    const registered = await read(PURPOSE);
    expect(registered.status).toBe(200);
    expect(registered.body.items[0]).toHaveProperty('reporter_nik');

    const r = await read('tidak-terdaftar');
    expect(r.status).toBe(200);
    for (const item of r.body.items) {
      for (const personal of [
        'reporter_name',
        'reporter_nik',
        'reporter_phone',
        'reporter_birthdate',
        'reported_party_status',
      ])
        expect(item).not.toHaveProperty(personal);
      expect(item).toHaveProperty('report_no');
    }
    expect(r.headers.get('x-jaga-omitted-reason')).toContain('not in the register of processing purposes');
    expect(r.headers.get('x-jaga-fields-omitted')).toContain('reporter_nik');
  });

  it('a purpose registered for another dataset, or another category, discloses none of it here', async () => {
    const other = await read('hanya-lain');
    expect(other.body.items[0]).not.toHaveProperty('reporter_nik');
    expect(other.headers.get('x-jaga-omitted-reason')).toContain('not registered for dataset pp-reports');

    const names = await read('hanya-nama');
    expect(names.body.items[0]).toHaveProperty('reporter_name');
    expect(names.body.items[0]).not.toHaveProperty('reporter_nik');
    expect(names.headers.get('x-jaga-omitted-reason')).toContain('not registered for nik data');
  });

  it('answers /v1/check the same way, from memory', async () => {
    const check = (purpose: string) =>
      t.request('POST', '/v1/check', {
        token: holder,
        json: { action: 'read', resource: { type: 'Field', id: 'pp-reports/reporter_nik' }, purpose },
      });
    expect((await check(PURPOSE)).body.allow).toBe(true);
    const refused = await check('tidak-terdaftar');
    expect(refused.body.allow).toBe(false);
    expect(refused.body.reason).toContain('not in the register of processing purposes');
  });

  it('records the lawful basis of the purpose in each disclosure’s audit entry', async () => {
    await read('hanya-nama');
    const [entry] = await t.db.sql`
      select purpose, details->>'lawfulBasis' as basis from audit_entry
      where event = 'disclosure' and resource_id = 'pp-reports' and purpose = 'hanya-nama' order by seq desc limit 1`;
    expect(entry).toEqual({ purpose: 'hanya-nama', basis: 'consent' });
    const [none] = await t.db.sql`
      select details->>'lawfulBasis' as basis from audit_entry
      where event = 'disclosure' and resource_id = 'pp-reports' and purpose = 'tidak-terdaftar' order by seq desc limit 1`;
    expect(none).toEqual({ basis: null });
  });

  it('registering takes effect at once; a PATCH narrowing a purpose takes it away at once', async () => {
    const late = await tokenFor({ sub: 'steward-32', roles: ['steward'], unit: '32', purposes: ['baru'] });
    const readAs = () =>
      t.request('GET', '/v1/datasets/pp-reports/records?limit=1', { token: late, headers: { 'x-purpose': 'baru' } });
    expect((await readAs()).body.items[0]).not.toHaveProperty('reporter_nik');
    await t.request('POST', '/v1/purposes', {
      token: ppid,
      json: { id: 'baru', description: 'A new purpose', lawfulBasis: 'public_task' },
    });
    expect((await readAs()).body.items[0]).toHaveProperty('reporter_nik');
    const narrowed = await t.request('PATCH', '/v1/purposes/baru', { token: ppid, json: { datasets: ['pp-other'] } });
    expect(narrowed.status).toBe(200);
    expect((await readAs()).body.items[0]).not.toHaveProperty('reporter_nik');
  });

  it('is kept by a PPID or an administrator, with a lawful basis from UU 27/2022 art. 20(2)', async () => {
    const body = { id: 'coba', description: 'x', lawfulBasis: 'public_task' };
    expect((await t.request('POST', '/v1/purposes', { json: body })).status).toBe(401);
    expect((await t.request('POST', '/v1/purposes', { token: who.steward32, json: body })).status).toBe(403);
    const bad = await t.request('POST', '/v1/purposes', { token: ppid, json: { ...body, lawfulBasis: 'because' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('body.lawfulBasis');
    expect((await t.request('POST', '/v1/purposes', { token: ppid, json: { ...body, id: PURPOSE } })).status).toBe(409);
    expect((await t.request('PATCH', '/v1/purposes/nope', { token: ppid, json: { description: 'y' } })).status).toBe(
      404,
    );
    const list = await t.request('GET', '/v1/purposes', { token: auditor });
    expect(list.body.items.map((p: any) => p.id)).toEqual(expect.arrayContaining([PURPOSE, 'hanya-nama']));
  });

  it('the record of processing lists each registered purpose with its basis, per dataset (JSON and CSV)', async () => {
    expect((await t.request('GET', '/v1/registers/processing')).status).toBe(401);
    expect((await t.request('GET', '/v1/registers/processing', { token: who.staff32 })).status).toBe(403);
    const r = await t.request('GET', '/v1/registers/processing', { token: auditor });
    expect(r.status).toBe(200);
    const reportsEntry = r.body.items.find((e: any) => e.dataset === 'pp-reports');
    expect(reportsEntry.categories).toEqual(expect.arrayContaining(['name', 'nik', 'criminal_record']));
    const byId = Object.fromEntries(reportsEntry.purposes.map((p: any) => [p.id, p]));
    expect(byId[PURPOSE]).toMatchObject({ lawfulBasis: 'public_task' });
    expect(byId['hanya-nama']).toMatchObject({
      lawfulBasis: 'consent',
      categories: ['name'],
      recipients: ['Bawaslu RI'],
      retention: '5 tahun',
    });
    expect(byId['hanya-lain']).toBeUndefined();
    const other = r.body.items.find((e: any) => e.dataset === 'pp-other');
    expect(other.purposes.map((p: any) => p.id)).toContain('hanya-lain');

    const csv = await t.request('GET', '/v1/registers/processing', { token: ppid, headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe(
      'dataset,title,ownerUnit,categories,purpose,description,lawfulBasis,purposeCategories,recipients,retention',
    );
    expect(
      lines.some((l) => l.startsWith('pp-reports,') && l.includes(',hanya-nama,') && l.includes(',consent,')),
    ).toBe(true);
  });
});
