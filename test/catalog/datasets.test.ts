import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { datasetBody, principals, startCatalogApp } from './catalog-app.ts';

describe.each(databaseKinds())('catalog datasets on %s', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;
  beforeAll(async () => {
    t = await startCatalogApp(kind);
    who = await principals();
  });
  afterAll(() => t.close());

  const count = async (table: 'datasets' | 'fields' | 'label_history') =>
    (await t.db.sql`select count(*)::int as n from ${t.db.sql(table)}`)[0]!.n as number;
  const snapshot = async () => ({
    datasets: await count('datasets'),
    fields: await count('fields'),
    history: await count('label_history'),
  });

  it('creates a dataset with Satu Data metadata and reads it back with its ETag', async () => {
    expect(
      (await t.request('POST', '/v1/units', { token: who.admin, json: { code: '32.01', name: 'Kabupaten Bogor' } }))
        .status,
    ).toBe(201);
    const r = await t.request('POST', '/v1/datasets', {
      token: who.steward32,
      json: datasetBody('ds-create', '32.01', {
        producerUnit: '32',
        updateFrequency: 'monthly',
        periodCovered: '2024',
        concepts: 'Laporan: a report of an alleged election violation.',
        referenceCodes: ['Kemendagri region codes'],
      }),
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe('/v1/datasets/ds-create');
    expect(r.headers.get('etag')).toBe('"1"');
    expect(r.body).toMatchObject({
      id: 'ds-create',
      ownerUnit: '32.01',
      steward: 'steward-32',
      producerUnit: '32',
      updateFrequency: 'monthly',
      referenceCodes: ['Kemendagri region codes'],
      version: 1,
      classification: null,
      labelStatus: 'unlabelled',
      labelVersion: 0,
    });
    expect(r.body.fields.map((f: any) => f.name)).toEqual([
      'report_no',
      'received_on',
      'reporter_name',
      'reporter_phone',
      'reported_party_status',
      'summary',
    ]);
    const got = await t.request('GET', '/v1/datasets/ds-create', { token: who.steward3201 });
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe('"1"');
  });

  it('refuses creating a dataset outside one’s unit, and by non-stewards', async () => {
    const before = await snapshot();
    expect(
      (await t.request('POST', '/v1/datasets', { token: who.steward33, json: datasetBody('ds-outside', '32') })).status,
    ).toBe(403);
    expect(
      (await t.request('POST', '/v1/datasets', { token: who.steward3201, json: datasetBody('ds-outside', '32') }))
        .status,
    ).toBe(403);
    expect(
      (await t.request('POST', '/v1/datasets', { token: who.staff32, json: datasetBody('ds-outside', '32') })).status,
    ).toBe(403);
    expect((await t.request('POST', '/v1/datasets', { json: datasetBody('ds-outside', '32') })).status).toBe(403);
    expect(await snapshot()).toEqual(before);
  });

  it('answers the same 404 for an invisible dataset as for a missing one', async () => {
    await t.request('POST', '/v1/datasets', { token: who.steward32, json: datasetBody('ds-hidden', '32') });
    const hidden = await t.request('GET', '/v1/datasets/ds-hidden', { token: who.staff33 });
    const missing = await t.request('GET', '/v1/datasets/ds-nowhere', { token: who.staff33 });
    expect(hidden.status).toBe(404);
    const strip = (b: any) => ({ ...b, requestId: undefined, detail: b.detail.replace(/ds-\w+/, 'X') });
    expect(strip(hidden.body)).toEqual(strip(missing.body));
    // Unlabelled: even auditors and staff of the unit see nothing; steward and PPID do.
    expect((await t.request('GET', '/v1/datasets/ds-hidden', { token: who.staff32 })).status).toBe(404);
    expect((await t.request('GET', '/v1/datasets/ds-hidden', { token: who.auditor32 })).status).toBe(404);
    expect((await t.request('GET', '/v1/datasets/ds-hidden', { token: who.ppid32 })).status).toBe(200);
    expect((await t.request('GET', '/v1/datasets/ds-hidden', { token: who.admin })).status).toBe(200);
    // Patching or labelling an invisible dataset: the same 404.
    const patch = await t.request('PATCH', '/v1/datasets/ds-hidden', {
      token: who.steward33,
      headers: { 'if-match': '"1"' },
      json: { title: 'x' },
    });
    expect(patch.status).toBe(404);
  });

  it('updates metadata and adds fields with If-Match; a stale one answers 412 and changes nothing', async () => {
    await t.request('POST', '/v1/datasets', { token: who.steward32, json: datasetBody('ds-update') });
    const noMatch = await t.request('PATCH', '/v1/datasets/ds-update', {
      token: who.steward32,
      json: { title: 'New' },
    });
    expect(noMatch.status).toBe(428);
    expect(noMatch.body.code).toBe('PRECONDITION_REQUIRED');
    const ok = await t.request('PATCH', '/v1/datasets/ds-update', {
      token: who.steward32,
      headers: { 'if-match': '"1"' },
      json: {
        title: 'Laporan pelanggaran 2024',
        fields: [{ name: 'office', type: 'string', description: 'Receiving office' }],
      },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('"2"');
    expect(ok.body.fields.at(-1)).toMatchObject({ name: 'office', type: 'string' });

    const before = await snapshot();
    const stale = await t.request('PATCH', '/v1/datasets/ds-update', {
      token: who.steward32,
      headers: { 'if-match': '"1"' },
      json: { title: 'Lost update', fields: [{ name: 'another', type: 'string' }] },
    });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('PRECONDITION_FAILED');
    // The refusal names the current version, so the client can read again and retry.
    expect(stale.headers.get('etag')).toBe('"2"');
    expect(await snapshot()).toEqual(before);
    expect((await t.db.sql`select title, version from datasets where id = 'ds-update'`)[0]).toEqual({
      title: 'Laporan pelanggaran 2024',
      version: 2,
    });

    // A label change is a change too: the old ETag is stale afterwards.
    await t.request('PUT', '/v1/datasets/ds-update/label', {
      token: who.steward32,
      json: { classification: 'restricted' },
    });
    const afterLabel = await t.request('PATCH', '/v1/datasets/ds-update', {
      token: who.steward32,
      headers: { 'if-match': '"2"' },
      json: { title: 'x' },
    });
    expect(afterLabel.status).toBe(412);
    const staleLabel = await t.request('PUT', '/v1/datasets/ds-update/label', {
      token: who.steward32,
      headers: { 'if-match': '"2"' },
      json: { classification: 'exempt' },
    });
    expect(staleLabel.status).toBe(412);
  });

  it('refuses a field type change', async () => {
    await t.request('POST', '/v1/datasets', { token: who.steward32, json: datasetBody('ds-type') });
    const r = await t.request('PATCH', '/v1/datasets/ds-type', {
      token: who.steward32,
      headers: { 'if-match': '"1"' },
      json: { fields: [{ name: 'report_no', type: 'integer' }] },
    });
    expect(r.status).toBe(409);
    expect((await t.db.sql`select type from fields where dataset_id = 'ds-type' and name = 'report_no'`)[0]!.type).toBe(
      'string',
    );
  });

  it('refuses mass assignment of version, owner unit, labels and approval state', async () => {
    await t.request('POST', '/v1/datasets', { token: who.steward32, json: datasetBody('ds-mass') });
    const before = await snapshot();
    const attempts: [string, string, unknown][] = [
      ['POST', '/v1/datasets', { ...datasetBody('ds-mass-2'), classification: 'public' }],
      ['POST', '/v1/datasets', { ...datasetBody('ds-mass-3'), version: 7 }],
      [
        'POST',
        '/v1/datasets',
        { ...datasetBody('ds-mass-4'), fields: [{ name: 'a', type: 'string', classification: 'public' }] },
      ],
      ['PATCH', '/v1/datasets/ds-mass', { ownerUnit: '33' }],
      ['PATCH', '/v1/datasets/ds-mass', { version: 99 }],
      ['PATCH', '/v1/datasets/ds-mass', { classification: 'public' }],
      ['PATCH', '/v1/datasets/ds-mass', { labelVersion: 5 }],
      ['PATCH', '/v1/datasets/ds-mass', { pending: null }],
      ['PUT', '/v1/datasets/ds-mass/label', { classification: 'public', decidedBy: 'ppid-32' }],
      ['PUT', '/v1/datasets/ds-mass/fields/summary/label', { classification: 'restricted', declassification: false }],
    ];
    for (const [method, path, json] of attempts) {
      const r = await t.request(method, path, { token: who.steward32, headers: { 'if-match': '"1"' }, json });
      expect(r.status, `${method} ${path} ${JSON.stringify(json)}`).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
      expect(r.body.errors.length).toBeGreaterThan(0);
    }
    expect(await snapshot()).toEqual(before);
    expect((await t.db.sql`select owner_unit, version, classification from datasets where id = 'ds-mass'`)[0]).toEqual({
      owner_unit: '32',
      version: 1,
      classification: null,
    });
  });

  it('leaves nothing in the database when validation fails', async () => {
    const before = await snapshot();
    const bad = await t.request('POST', '/v1/datasets', {
      token: who.steward32,
      json: { id: 'Bad Id', title: '', ownerUnit: 'Jabar', fields: [{ name: 'x', type: 'text', personalData: 'ssn' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: any) => e.path)).toEqual(
      expect.arrayContaining([
        'body.id',
        'body.title',
        'body.ownerUnit',
        'body.fields.0.type',
        'body.fields.0.personalData',
      ]),
    );
    const dup = await t.request('POST', '/v1/datasets', {
      token: who.steward32,
      json: {
        ...datasetBody('ds-dup'),
        fields: [
          { name: 'a', type: 'string' },
          { name: 'a', type: 'integer' },
        ],
      },
    });
    expect(dup.status).toBe(400);
    const noUnit = await t.request('POST', '/v1/datasets', {
      token: who.admin,
      json: datasetBody('ds-nounit', '32.99'),
    });
    expect(noUnit.status).toBe(422);
    expect(noUnit.body.code).toBe('REFERENCE_NOT_FOUND');
    // A failure inside the transaction (a producer unit that does not exist) leaves nothing either.
    const badProducer = await t.request('POST', '/v1/datasets', {
      token: who.steward32,
      json: datasetBody('ds-badprod', '32', { producerUnit: '32.98' }),
    });
    expect(badProducer.status).toBe(422);
    expect(await snapshot()).toEqual(before);

    await t.request('POST', '/v1/datasets', { token: who.steward32, json: datasetBody('ds-exists') });
    const again = await t.request('POST', '/v1/datasets', { token: who.steward32, json: datasetBody('ds-exists') });
    expect(again.status).toBe(409);
  });
});
