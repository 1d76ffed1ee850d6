import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { EXEMPTION, decision } from '../catalog/catalog-app.ts';
import { PURPOSE, principals, reports, startRecordsApp, tokenFor } from './records-app.ts';
import { createLabelled } from './setup.ts';

/** Refusals cite the law: the exemption record (DIK number, ground) or UU 14/2008 art. 17 h for personal data. */
describe.each(databaseKinds())('refusals citing the law on %s', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;
  let ppid: string;
  let dikNo: string;

  beforeAll(async () => {
    t = await startRecordsApp(kind);
    who = await principals();
    ppid = await tokenFor({ sub: 'ppid-32', roles: ['ppid'], unit: '32' });
    await createLabelled(t, who.steward32, 'cite-reports', 'public');
    expect(
      (await t.request('POST', '/v1/datasets/cite-reports/records', { token: who.steward32, json: reports(2) })).status,
    ).toBe(201);
    const proposed = await t.request('PUT', '/v1/datasets/cite-reports/fields/investigator_note/label', {
      token: who.steward32,
      json: { ...EXEMPTION, subject: 'Catatan penyidik' },
    });
    expect(proposed.status, proposed.text).toBe(202);
    const approved = await t.request('POST', '/v1/datasets/cite-reports/fields/investigator_note/label/approve', {
      token: ppid,
      json: decision('KEP/32/C1'),
    });
    expect(approved.status, approved.text).toBe(200);
    const dik = await t.request('GET', '/v1/registers/exempt');
    dikNo = dik.body.items.find((e: any) => e.id === 'cite-reports').dikNo;
    expect(dikNo).toMatch(/^DIK\/32\//);
  });
  afterAll(() => t.close());

  it('an omitted exempt field names its DIK number and ground in X-Jaga-Omitted-Reason', async () => {
    await expect
      .poll(async () => {
        const r = await t.request('GET', '/v1/datasets/cite-reports/records?limit=1', {
          token: who.staff32,
          headers: { 'x-purpose': PURPOSE },
        });
        expect(r.body.items[0]).not.toHaveProperty('investigator_note');
        return r.headers.get('x-jaga-omitted-reason');
      })
      .toContain(
        `investigator_note: exempt information ${dikNo} (UU 14/2008 art. 17: 17a.1, 17j (UU 7/2017 pasal 93))`,
      );
  });

  it('so does /v1/check’s reason, and a refused filter’s problem details', async () => {
    const check = await t.request('POST', '/v1/check', {
      token: who.staff32,
      json: { action: 'read', resource: { type: 'Field', id: 'cite-reports/investigator_note' }, purpose: PURPOSE },
    });
    expect(check.body.allow).toBe(false);
    expect(check.body.reason).toContain(dikNo);
    expect(check.body.reason).toContain('17a.1');
    const filtered = await t.request('GET', '/v1/datasets/cite-reports/records?investigator_note=x', {
      token: who.staff32,
      headers: { 'x-purpose': PURPOSE },
    });
    expect(filtered.status).toBe(403);
    expect(filtered.body.code).toBe('FILTER_NOT_ALLOWED');
    expect(filtered.body.detail).toContain(dikNo);
  });

  it('personal data withheld from the public cites art. 17 letter h and UU 27/2022', async () => {
    const r = await t.request('GET', '/v1/public/datasets/cite-reports/records?limit=1');
    expect(r.status).toBe(200);
    expect(r.body.items[0]).not.toHaveProperty('reporter_nik');
    const reason = r.headers.get('x-jaga-omitted-reason') ?? '';
    expect(reason).toContain(
      'reporter_nik: personal data (UU 27/2022 art. 4(3)) is exempt from public disclosure under UU 14/2008 art. 17 letter h',
    );
    expect(reason).toContain('reported_party_status: personal data (specific, UU 27/2022 art. 4(2))');
    const check = await t.request('POST', '/v1/check', {
      json: { action: 'read', resource: { type: 'Field', id: 'cite-reports/reporter_nik' } },
    });
    expect(check.body.allow).toBe(false);
    expect(check.body.reason).toContain('art. 17 letter h');
  });

  it('a wholly exempt dataset’s refusal names its DIK number', async () => {
    await createLabelled(t, who.steward32, 'cite-whole', 'restricted');
    await t.request('PUT', '/v1/datasets/cite-whole/label', { token: who.steward32, json: EXEMPTION });
    await t.request('POST', '/v1/datasets/cite-whole/label/approve', { token: ppid, json: decision('KEP/32/C2') });
    const dik = await t.request('GET', '/v1/registers/exempt');
    const no = dik.body.items.find((e: any) => e.id === 'cite-whole' && !e.fields).dikNo;
    await expect
      .poll(
        async () =>
          (
            await t.request('POST', '/v1/check', {
              json: { action: 'read', resource: { type: 'Dataset', id: 'cite-whole' } },
            })
          ).body.reason,
      )
      .toContain(no);
  });
});
