import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditItem } from '../../src/audit/audit.schema.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { datasetBody, decision, EXEMPTION } from '../catalog/catalog-app.ts';
import { getAs, tokenFor } from './helpers.ts';

const auditor = await tokenFor('aud-1', ['auditor']);
const ppid32 = await tokenFor('ppid-32', ['ppid'], '32');
const ppid33 = await tokenFor('ppid-33', ['ppid'], '33');
const steward32 = await tokenFor('steward-32', ['steward'], '32');
const steward33 = await tokenFor('steward-33', ['steward'], '33');

/** The report reads the catalog: everything here is seeded through the catalog's own API. */
describe.each(databaseKinds())('openness statistics report on %s', (kind) => {
  let t: TestApp;

  async function ok(res: Promise<{ status: number; text: string }>, status: number) {
    const r = await res;
    expect(r.status, r.text).toBe(status);
  }
  const create = (token: string, id: string, unit: string) =>
    ok(t.request('POST', '/v1/datasets', { token, json: datasetBody(id, unit) }), 201);
  const label = (token: string, id: string, json: unknown, status = 200) =>
    ok(t.request('PUT', `/v1/datasets/${id}/label`, { token, json }), status);
  const approve = (token: string, id: string) =>
    ok(t.request('POST', `/v1/datasets/${id}/label/approve`, { token, json: decision() }), 200);
  // Review dates lie within 12 months when proposed; the report is read as of later dates instead.
  const reviewedBy = async (id: string, date: string) => {
    await t.db.sql`update datasets set label_review_by = ${date} where id = ${id}`;
    await t.db.sql`update exemptions set review_by = ${date} where dataset_id = ${id} and status = 'in_force'`;
  };
  const only = (grounds: string[]) => ({
    ...EXEMPTION,
    grounds,
    statute: grounds.includes('17j') ? EXEMPTION.statute : undefined,
  });

  beforeAll(async () => {
    t = await startApp(kind);
    await ok(
      t.request('POST', '/v1/units', {
        token: await tokenFor('admin-1', ['admin']),
        json: { code: '32.01', name: 'Kabupaten Bogor' },
      }),
      201,
    );
    for (const id of ['o-pub', 'o-res', 'o-ex', 'o-unl', 'o-pend']) await create(steward32, id, '32');
    await create(steward32, 'o-3201', '32.01');
    await create(steward33, 'o-33pub', '33');
    await create(steward33, 'o-33ex', '33');
    await label(steward32, 'o-pub', { classification: 'public' });
    await label(steward32, 'o-res', { classification: 'restricted', justification: 'Internal working papers' });
    await label(steward32, 'o-ex', only(['17a', '17j']), 202);
    await approve(ppid32, 'o-ex');
    await reviewedBy('o-ex', '2030-06-30');
    // Left pending: counts as exempt (its effective classification) and as pending.
    await label(steward32, 'o-pend', only(['17a', '17c']), 202);
    await label(steward32, 'o-3201', only(['17j']), 202);
    await approve(ppid32, 'o-3201');
    await reviewedBy('o-3201', '2099-12-31');
    await label(steward33, 'o-33pub', { classification: 'public' });
    await label(steward33, 'o-33ex', only(['17a']), 202);
    await approve(ppid33, 'o-33ex');
    await reviewedBy('o-33ex', '2030-01-01');
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts datasets per classification per unit, unlabelled and pending included', async () => {
    const r = await getAs(t, auditor, '/v1/audit/reports/openness?asOf=2031-01-01');
    expect(r.status).toBe(200);
    expect(r.body.units).toEqual([
      {
        unit: '32',
        unitName: 'Jawa Barat',
        total: 5,
        public: 1,
        restricted: 1,
        exempt: 2,
        pending: 1,
        unlabelled: 1,
        personalDataUndeclared: 0,
      },
      {
        unit: '32.01',
        unitName: 'Kabupaten Bogor',
        total: 1,
        public: 0,
        restricted: 0,
        exempt: 1,
        pending: 0,
        unlabelled: 0,
        personalDataUndeclared: 0,
      },
      {
        unit: '33',
        unitName: 'Jawa Tengah',
        total: 2,
        public: 1,
        restricted: 0,
        exempt: 1,
        pending: 0,
        unlabelled: 0,
        personalDataUndeclared: 0,
      },
    ]);
    expect(r.body.totals).toEqual({
      total: 8,
      public: 2,
      restricted: 1,
      exempt: 4,
      pending: 1,
      unlabelled: 1,
      personalDataUndeclared: 0,
    });
    expect(r.body).toMatchObject({ asOf: '2031-01-01', unit: 'RI' });
  });

  it('counts exemptions in force by legal ground, and the grounds of pending proposals apart', async () => {
    const r = await getAs(t, auditor, '/v1/audit/reports/openness');
    const grounds = r.body.grounds as {
      ground: string;
      statute: string;
      datasets: number;
      units: number;
      pending: number;
    }[];
    expect(grounds[0]).toEqual({
      ground: '17a',
      statute: 'UU 14/2008 art. 17 letter a',
      datasets: 2,
      units: 2,
      pending: 1,
    });
    const byGround = Object.fromEntries(grounds.map((g) => [g.ground, [g.datasets, g.units, g.pending]]));
    expect(byGround).toEqual({
      '17a': [2, 2, 1],
      '17j': [2, 2, 0],
      '17c': [0, 0, 1],
    });
  });

  it('lists exemptions whose review date has passed as of a given date, most overdue first', async () => {
    const r = await getAs(t, auditor, '/v1/audit/reports/openness?asOf=2031-01-01');
    expect(r.body.overdue).toEqual([
      {
        dataset: 'o-33ex',
        title: expect.any(String),
        unit: '33',
        reviewBy: '2030-01-01',
        daysOverdue: 365,
        grounds: ['17a'],
      },
      {
        dataset: 'o-ex',
        title: expect.any(String),
        unit: '32',
        reviewBy: '2030-06-30',
        daysOverdue: 185,
        grounds: ['17a', '17j'],
      },
    ]);
    // The review date itself is not yet overdue; pending proposals are not reviews in force.
    expect((await getAs(t, auditor, '/v1/audit/reports/openness?asOf=2030-01-01')).body.overdue).toEqual([]);
  });

  it('limits a PPID to the datasets of their unit, and narrows by unit', async () => {
    const r = await getAs(t, ppid32, '/v1/audit/reports/openness?asOf=2031-01-01');
    expect(r.status).toBe(200);
    expect(r.body.units.map((u: { unit: string }) => u.unit)).toEqual(['32', '32.01']);
    expect(r.body.totals.total).toBe(6);
    expect(
      Object.fromEntries(r.body.grounds.map((g: { ground: string; datasets: number }) => [g.ground, g.datasets])),
    ).toEqual({ '17a': 1, '17j': 2, '17c': 0 });
    expect(r.body.overdue.map((o: { dataset: string }) => o.dataset)).toEqual(['o-ex']);
    const other = await getAs(t, ppid33, '/v1/audit/reports/openness?asOf=2031-01-01');
    expect(other.body.units.map((u: { unit: string }) => u.unit)).toEqual(['33']);
    expect(other.body.overdue.map((o: { dataset: string }) => o.dataset)).toEqual(['o-33ex']);
    // Narrowing within one's scope works; asking for another unit shows nothing of it.
    const narrowed = await getAs(t, auditor, '/v1/audit/reports/openness?unit=32.01');
    expect(narrowed.body.units.map((u: { unit: string }) => u.unit)).toEqual(['32.01']);
    expect((await getAs(t, ppid32, '/v1/audit/reports/openness?unit=33')).body.units).toEqual([]);
  });

  it('answers CSV by Accept, one part at a time', async () => {
    const units = await getAs(t, auditor, '/v1/audit/reports/openness', { accept: 'text/csv' });
    expect(units.status).toBe(200);
    expect(units.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = units.text.trim().split('\r\n');
    expect(lines[0]).toBe('unit,unitName,total,public,restricted,exempt,pending,unlabelled,personalDataUndeclared');
    expect(lines).toContain('32,Jawa Barat,5,1,1,2,1,1,0');
    expect(lines).toHaveLength(4);
    const grounds = await getAs(t, auditor, '/v1/audit/reports/openness?part=grounds', { accept: 'text/csv' });
    expect(grounds.text.split('\r\n')[0]).toBe('ground,statute,datasets,units,pending');
    expect(grounds.text).toContain('17a,UU 14/2008 art. 17 letter a,2,2,1');
    const overdue = await getAs(t, auditor, '/v1/audit/reports/openness?part=overdue&asOf=2031-01-01', {
      accept: 'text/csv',
    });
    expect(overdue.text.split('\r\n')[0]).toBe('dataset,title,unit,reviewBy,daysOverdue,grounds');
    expect(overdue.text).toContain('o-33ex,');
    const nd = await getAs(t, auditor, '/v1/audit/reports/openness', { accept: 'application/x-ndjson' });
    expect(
      nd.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).unit),
    ).toEqual(['32', '32.01', '33']);
  });

  it('refuses everyone but auditors and PPIDs, rejects bad input, and logs the read', async () => {
    expect((await t.request('GET', '/v1/audit/reports/openness')).status).toBe(401);
    for (const token of [
      steward32,
      await tokenFor('staff-32', ['staff'], '32'),
      await tokenFor('admin-1', ['admin']),
    ]) {
      const r = await getAs(t, token, '/v1/audit/reports/openness');
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('FORBIDDEN');
      expect(r.text).not.toContain('o-ex');
    }
    const bad = await getAs(t, auditor, '/v1/audit/reports/openness?asOf=tomorrow&part=all&unit=West-Java');
    expect(bad.status).toBe(400);
    expect(new Set(bad.body.errors.map((e: { path: string }) => e.path))).toEqual(
      new Set(['query.asOf', 'query.part', 'query.unit']),
    );
    await getAs(t, ppid32, '/v1/audit/reports/openness?unit=32', { 'x-request-id': 'openness-read-1' });
    const log = await getAs(t, auditor, '/v1/audit/decisions?requestId=openness-read-1');
    expect(log.body.items as AuditItem[]).toMatchObject([
      {
        event: 'audit_read',
        action: 'audit',
        effect: 'allow',
        principal: { sub: 'ppid-32' },
        resource: { type: 'AuditEntry', id: 'report:openness' },
        ruleId: 'ppid.audit.read-unit',
        details: { unit: '32' },
      },
    ]);
  });
});
