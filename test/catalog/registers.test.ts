import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { EXEMPTION, datasetBody, decision, principals, startCatalogApp } from './catalog-app.ts';

describe.each(databaseKinds())('public registers and units on %s', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;

  beforeAll(async () => {
    t = await startCatalogApp(kind);
    who = await principals();
    const create = async (id: string, extra: Record<string, unknown> = {}) =>
      expect(
        (await t.request('POST', '/v1/datasets', { token: who.steward32, json: datasetBody(id, '32', extra) })).status,
      ).toBe(201);
    await create('putusan-sengketa', {
      title: '=HYPERLINK("http://evil")',
      updateFrequency: 'yearly',
      referenceCodes: ['Kode wilayah'],
    });
    await t.request('PUT', '/v1/datasets/putusan-sengketa/label', {
      token: who.steward32,
      json: { classification: 'public' },
    });
    await t.request('PUT', '/v1/datasets/putusan-sengketa/fields/summary/label', {
      token: who.steward32,
      json: { classification: 'restricted' },
    });
    await create('identitas-pelapor', { description: 'SECRET-DESCRIPTION of reporters' });
    await t.request('PUT', '/v1/datasets/identitas-pelapor/label', { token: who.steward32, json: EXEMPTION });
    await t.request('POST', '/v1/datasets/identitas-pelapor/label/approve', {
      token: who.ppid32,
      json: decision('KEP/32/1'),
    });
    await create('pending-only');
    await t.request('PUT', '/v1/datasets/pending-only/label', { token: who.steward32, json: EXEMPTION });
    await create('restricted-one');
    await t.request('PUT', '/v1/datasets/restricted-one/label', {
      token: who.steward32,
      json: { classification: 'restricted' },
    });
  });
  afterAll(() => t.close());

  it('serves the list of public information anonymously: open entries with their public fields, restricted ones on request', async () => {
    const r = await t.request('GET', '/v1/registers/public');
    expect(r.status).toBe(200);
    expect(r.body.items.map((e: any) => [e.id, e.access])).toEqual([
      ['putusan-sengketa', 'open'],
      ['restricted-one', 'on_request'],
    ]);
    const [entry, onRequest] = r.body.items;
    expect(entry).toMatchObject({
      registerNo: expect.stringMatching(/^DIP\/32\/\d{4}\/\d+$/),
      holdingUnit: { code: '32', name: 'Jawa Barat' },
      updateFrequency: 'yearly',
      determination: null,
    });
    // Personal data (name, phone, criminal record) and the restricted summary are not listed.
    expect(entry.publicFields.map((f: any) => f.name)).toEqual(['report_no', 'received_on']);
    expect(onRequest.publicFields).toEqual([]);
    expect(r.body.nextCursor).toBeNull();
  });

  it('serves the public register as CSV, neutralising spreadsheet formulas', async () => {
    const r = await t.request('GET', '/v1/registers/public', { headers: { accept: 'text/csv' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/csv');
    const lines = r.text.trim().split('\r\n');
    expect(lines[0]).toBe(
      'registerNo,id,title,summary,holdingUnit,holdingUnitName,responsibleOfficial,producedAt,producedPlace,forms,retentionPeriod,retentionReference,infoKind,access,determinationRef,determinationDate,updatedAt,publicFields',
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`putusan-sengketa,"'=HYPERLINK(""http://evil"")"`);
    expect(lines[1]).toContain('report_no; received_on');
  });

  it('negotiates the register like every other resource: q-values count, and nothing acceptable is 406', async () => {
    const json = await t.request('GET', '/v1/registers/public', {
      headers: { accept: 'text/csv;q=0.5, application/json' },
    });
    expect(json.headers.get('content-type')).toContain('application/json');
    const csv = await t.request('GET', '/v1/registers/public', {
      headers: { accept: 'application/json;q=0.1, text/*' },
    });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const none = await t.request('GET', '/v1/registers/exempt', { headers: { accept: 'image/png' } });
    expect(none.status).toBe(406);
    expect(none.body.code).toBe('NOT_ACCEPTABLE');
  });

  it('serves the exempt list anonymously: grounds and consequence test, never contents or fields', async () => {
    const r = await t.request('GET', '/v1/registers/exempt');
    expect(r.status).toBe(200);
    // Only approved exemptions; a pending proposal is not yet a decision.
    expect(r.body.items.map((e: any) => e.id)).toEqual(['identitas-pelapor']);
    expect(r.body.items[0]).toEqual({
      dikNo: `DIK/32/${new Date().getUTCFullYear()}/1`,
      id: 'identitas-pelapor',
      title: 'Laporan pelanggaran identitas-pelapor',
      subject: 'Laporan pelanggaran identitas-pelapor',
      ownerUnit: '32',
      ownerUnitName: 'Jawa Barat',
      grounds: EXEMPTION.grounds,
      statute: EXEMPTION.statute,
      consequenceTest: EXEMPTION.consequenceTest,
      period: EXEMPTION.period,
      liftConditions: EXEMPTION.liftConditions,
      decision: decision('KEP/32/1').decision,
      decidedAt: expect.any(String),
      reviewBy: EXEMPTION.reviewBy,
      reviewOverdue: false,
      periodEnded: false,
      labelVersion: 2,
    });
    for (const leak of ['SECRET-DESCRIPTION', 'reporter_phone', 'reporter_name', 'fields', 'steward-32', 'ppid-32'])
      expect(r.text).not.toContain(leak);

    const csv = await t.request('GET', '/v1/registers/exempt', { headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.text.split('\r\n')[0]).toBe(
      'dikNo,id,title,subject,fields,ownerUnit,ownerUnitName,grounds,statute,harm,protectedInterest,publicInterest,balance,conclusion,testTiming,testRecordNo,testDate,testParticipants,period,liftConditions,decisionRef,decisionDate,decisionPlace,agreedBy,reviewBy,reviewOverdue,periodEnded',
    );
    expect(csv.text).toContain('17a.1; 17j,UU 7/2017 pasal 93');
    for (const leak of ['SECRET-DESCRIPTION', 'reporter_phone']) expect(csv.text).not.toContain(leak);
  });

  it('lists overdue reviews for PPID and auditors of the unit only', async () => {
    await t.db.sql`update exemptions set review_by = '2001-02-03' where dataset_id = 'identitas-pelapor'`;
    for (const token of [who.ppid32, who.auditor32, who.admin]) {
      const r = await t.request('GET', '/v1/registers/overdue-reviews', { token });
      expect(r.status).toBe(200);
      expect(r.body.items.map((e: any) => [e.id, e.reviewBy])).toEqual([['identitas-pelapor', '2001-02-03']]);
    }
    expect((await t.request('GET', '/v1/registers/overdue-reviews', { token: who.ppid33 })).body.items).toEqual([]);
    expect((await t.request('GET', '/v1/registers/overdue-reviews', { token: who.staff32 })).status).toBe(403);
    expect((await t.request('GET', '/v1/registers/overdue-reviews', { token: who.steward32 })).status).toBe(403);
    expect((await t.request('GET', '/v1/registers/overdue-reviews')).status).toBe(401);
    const csv = await t.request('GET', '/v1/registers/overdue-reviews', {
      token: who.auditor32,
      headers: { accept: 'text/csv' },
    });
    expect(csv.text).toContain('identitas-pelapor');
    await t.db.sql`update exemptions set review_by = ${EXEMPTION.reviewBy} where dataset_id = 'identitas-pelapor'`;
  });

  it('lists the seeded units (national office and 38 provinces) anonymously', async () => {
    const r = await t.request('GET', '/v1/units');
    expect(r.status).toBe(200);
    const codes = r.body.items.filter((u: any) => !u.code.includes('.')).map((u: any) => u.code);
    expect(codes[0]).toBe('RI');
    expect(codes.filter((c: string) => c !== 'RI')).toHaveLength(38);
    expect(r.body.items.find((u: any) => u.code === '32')).toEqual({ code: '32', name: 'Jawa Barat', parent: 'RI' });
  });

  it('lets only administrators add units, under an existing parent', async () => {
    const before = (await t.db.sql`select count(*)::int as n from units`)[0]!.n;
    expect(
      (await t.request('POST', '/v1/units', { token: who.steward32, json: { code: '32.73', name: 'Kota Bandung' } }))
        .status,
    ).toBe(403);
    expect((await t.request('POST', '/v1/units', { json: { code: '32.73', name: 'Kota Bandung' } })).status).toBe(403);
    const orphan = await t.request('POST', '/v1/units', {
      token: who.admin,
      json: { code: '32.50.01', name: 'Nowhere' },
    });
    expect(orphan.status).toBe(422);
    expect(orphan.body.code).toBe('REFERENCE_NOT_FOUND');
    expect(
      (await t.request('POST', '/v1/units', { token: who.admin, json: { code: 'Bandung', name: 'x' } })).status,
    ).toBe(400);
    expect((await t.db.sql`select count(*)::int as n from units`)[0]!.n).toBe(before);

    const ok = await t.request('POST', '/v1/units', {
      token: who.admin,
      json: { code: '32.73', name: 'Kota Bandung' },
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ code: '32.73', name: 'Kota Bandung', parent: '32' });
    expect(
      (await t.request('POST', '/v1/units', { token: who.admin, json: { code: '32.73', name: 'again' } })).status,
    ).toBe(409);
    const sub = await t.request('GET', '/v1/units?under=32');
    expect(sub.body.items.map((u: any) => u.code)).toEqual(['32', '32.73']);
  });
});
