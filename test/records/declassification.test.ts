import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { decision } from '../catalog/catalog-app.ts';
import { principals, reports, startRecordsApp, tokenFor } from './records-app.ts';
import { createLabelled } from './setup.ts';

/**
 * UU 14/2008 art. 18(2): specific personal data (here `reported_party_status`, criminal_record) is
 * opened only by a PPID's approved declassification on the basis of public office or written
 * consent — e.g. a candidate's ex-convict status, which election law requires to be announced.
 */
const ART18 = {
  article: '18(2)',
  basis: 'public_office',
  reference: 'UU 7/2017 pasal 182 huruf g (status mantan terpidana diumumkan)',
  justification: 'Status mantan terpidana calon wajib diumumkan kepada publik menurut undang-undang pemilu.',
};
const FIELD = 'reported_party_status';

describe.each(databaseKinds())('art. 18(2) declassification of specific personal data on %s', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;
  let ppid: string;
  let ppidB: string;
  beforeAll(async () => {
    t = await startRecordsApp(kind);
    who = await principals();
    ppid = await tokenFor({ sub: 'ppid-32', roles: ['ppid'], unit: '32' });
    ppidB = await tokenFor({ sub: 'ppid-32b', roles: ['ppid'], unit: '32' });
  });
  afterAll(() => t.close());

  const setUp = async (id: string) => {
    await createLabelled(t, who.steward32, id, 'public');
    const ingested = await t.request('POST', `/v1/datasets/${id}/records`, { token: who.steward32, json: reports(3) });
    expect(ingested.status, ingested.text).toBe(201);
  };
  const labelField = (id: string, json: unknown, token = who.steward32) =>
    t.request('PUT', `/v1/datasets/${id}/fields/${FIELD}/label`, { token, json });
  const approve = (id: string, token: string, ref = 'KEP-PPID/32/2026/18') =>
    t.request('POST', `/v1/datasets/${id}/fields/${FIELD}/label/approve`, { token, json: decision(ref) });
  const openData = (id: string) => t.request('GET', `/v1/public/datasets/${id}/records`);
  const check = (id: string) =>
    t.request('POST', '/v1/check', { json: { action: 'read', resource: { type: 'Field', id: `${id}/${FIELD}` } } });
  const fieldOf = async (id: string, token?: string) =>
    (await t.request('GET', `/v1/datasets/${id}`, token ? { token } : {})).body.fields.find(
      (f: any) => f.name === FIELD,
    );

  it('a plain public label on specific personal data is refused; the field stays closed', async () => {
    await setUp('a18-plain');
    const r = await labelField('a18-plain', { classification: 'public', justification: 'sudah diumumkan' });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('LABEL_NOT_ALLOWED');
    expect(r.body.detail).toContain('art. 18(2)');
    // Even a PPID cannot: only the declassification, approved, opens it.
    expect(
      (await labelField('a18-plain', { classification: 'public', justification: 'x'.repeat(20) }, ppid)).status,
    ).toBe(422);
    const open = await openData('a18-plain');
    expect(open.status).toBe(200);
    for (const item of open.body.items) expect(item).not.toHaveProperty(FIELD);
    expect((await check('a18-plain')).body.allow).toBe(false);
    expect((await fieldOf('a18-plain', who.steward32)).effectiveClassification).toBe('restricted');
  });

  it('a declassification goes only with a public label on a specific field, and needs its basis', async () => {
    await setUp('a18-shape');
    const restricted = await labelField('a18-shape', { classification: 'restricted', declassification: ART18 });
    expect(restricted.status).toBe(422);
    expect(restricted.body.errors[0].path).toBe('body.declassification');
    const general = await t.request('PUT', '/v1/datasets/a18-shape/fields/reporter_name/label', {
      token: who.steward32,
      json: { classification: 'public', declassification: ART18 },
    });
    expect(general.status).toBe(422);
    const noBasis = await labelField('a18-shape', {
      classification: 'public',
      declassification: { ...ART18, basis: 'because' },
    });
    expect(noBasis.status).toBe(400);
    expect(noBasis.body.errors[0].path).toContain('body.declassification.basis');
    const history = await t.request('GET', '/v1/datasets/a18-shape/labels', { token: who.steward32 });
    expect(history.body.items.filter((e: any) => e.field === FIELD)).toEqual([]);
  });

  it('is pending until another PPID approves it; then the anonymous read, open data and /v1/check have the field whole', async () => {
    await setUp('a18-office');
    const proposed = await labelField('a18-office', { classification: 'public', declassification: ART18 });
    expect(proposed.status, proposed.text).toBe(202);
    const pendingField = proposed.body.fields.find((f: any) => f.name === FIELD);
    expect(pendingField.effectiveClassification).toBe('restricted');
    expect(pendingField.declassification).toMatchObject({
      basis: 'public_office',
      status: 'pending',
      decisionRef: null,
    });

    // Pending: still closed everywhere.
    for (const item of (await openData('a18-office')).body.items) expect(item).not.toHaveProperty(FIELD);
    const anonymousPending = await t.request('GET', '/v1/datasets/a18-office/records');
    expect(anonymousPending.status).toBe(200);
    for (const item of anonymousPending.body.items) expect(item).not.toHaveProperty(FIELD);
    expect((await check('a18-office')).body.allow).toBe(false);
    // Nothing else touches the field while it is pending.
    expect((await labelField('a18-office', { classification: 'restricted' })).status).toBe(409);

    // The proposer cannot approve (a PPID's own proposal neither: see below); a steward has no approval.
    expect((await approve('a18-office', who.steward32)).status).toBe(403);
    const incomplete = await t.request('POST', `/v1/datasets/a18-office/fields/${FIELD}/label/approve`, {
      token: ppid,
      json: {},
    });
    expect(incomplete.status).toBe(422);
    expect((await fieldOf('a18-office', who.steward32)).effectiveClassification).toBe('restricted');

    const approved = await approve('a18-office', ppid);
    expect(approved.status, approved.text).toBe(200);
    const opened = approved.body.fields.find((f: any) => f.name === FIELD);
    expect(opened).toMatchObject({
      classification: 'public',
      effectiveClassification: 'public',
      declassification: {
        article: '18(2)',
        basis: 'public_office',
        reference: ART18.reference,
        status: 'in_force',
        decisionRef: 'KEP-PPID/32/2026/18',
      },
    });

    // Records reads check the label in their own transaction: at once.
    const open = await openData('a18-office');
    expect(open.status).toBe(200);
    expect(open.body.items).toHaveLength(3);
    for (const item of open.body.items) expect(item[FIELD]).toBe('terlapor');
    expect(open.headers.get('x-jaga-fields-masked')).toBe('');
    expect(open.headers.get('x-jaga-omitted-reason') ?? '').not.toContain(FIELD);
    const anonymous = await t.request('GET', '/v1/datasets/a18-office/records');
    expect(anonymous.status).toBe(200);
    for (const item of anonymous.body.items) expect(item[FIELD]).toBe('terlapor');
    const csv = await t.request('GET', '/v1/public/datasets/a18-office/records', { headers: { accept: 'text/csv' } });
    expect(csv.text.split('\r\n')[0]).toContain(FIELD);
    // Other specific and general personal data stays closed.
    for (const item of open.body.items) expect(item).not.toHaveProperty('reporter_nik');
    // The catalog snapshot (checks) follows the catalog's notification.
    await expect.poll(async () => (await check('a18-office')).body.allow).toBe(true);
    // The DIP lists it among the public fields, with its basis.
    const ds = await t.request('GET', '/v1/datasets/a18-office', { token: who.steward32 });
    const summary = await t.request('PATCH', '/v1/datasets/a18-office', {
      token: who.steward32,
      headers: { 'if-match': ds.headers.get('etag')! },
      json: { summary: 'Laporan pelanggaran dengan status hukum pihak terlapor yang wajib diumumkan.' },
    });
    expect(summary.status, summary.text).toBe(200);
    const dip = await t.request('GET', '/v1/registers/public');
    const listed = dip.body.items.find((e: any) => e.id === 'a18-office');
    expect(listed.publicFields.find((f: any) => f.name === FIELD)).toMatchObject({
      declassification: { article: '18(2)', basis: 'public_office', decisionRef: 'KEP-PPID/32/2026/18' },
    });
    expect(listed.publicFields.map((f: any) => f.name)).not.toContain('reporter_nik');
    // Anyone sees the field public, and on what basis.
    expect(await fieldOf('a18-office')).toMatchObject({
      effectiveClassification: 'public',
      declassification: { basis: 'public_office', reference: ART18.reference, status: 'in_force' },
    });
  });

  it('the proposer cannot approve; the basis is in the history and the audit log; relabelling ends it', async () => {
    await setUp('a18-consent');
    const consent = {
      ...ART18,
      basis: 'consent',
      reference: 'Surat persetujuan tertulis No. 12/2026 tanggal 2026-11-30',
    };
    expect(
      (await labelField('a18-consent', { classification: 'public', declassification: consent }, ppid)).status,
    ).toBe(202);
    const own = await approve('a18-consent', ppid);
    expect(own.status).toBe(403);
    expect(own.body.code).toBe('SELF_APPROVAL');
    expect((await fieldOf('a18-consent', ppid)).effectiveClassification).toBe('restricted');
    expect((await approve('a18-consent', ppidB, 'KEP-PPID/32/2026/19')).status).toBe(200);

    const history = await t.request('GET', '/v1/datasets/a18-consent/labels', { token: ppid });
    const events = history.body.items.filter((e: any) => e.field === FIELD);
    expect(events.map((e: any) => e.event)).toEqual(['proposal', 'approval']);
    for (const e of events) {
      expect(e.art18).toEqual({
        article: '18(2)',
        basis: 'consent',
        reference: consent.reference,
        personalData: 'criminal_record',
      });
      expect(e.declassification).toBe(true);
    }
    expect(events[1].decisionRef).toBe('KEP-PPID/32/2026/19');
    expect(events[1].proposalId).toBe(events[0].id);
    expect(events[0].justification).toBe(consent.justification);

    const audit = await t.db.sql`
      select action, details from audit_entry where event = 'label_change' and resource_id = ${`a18-consent/${FIELD}`} order by seq`;
    expect(audit.map((a: any) => [a.action, a.details.article, a.details.basis])).toEqual([
      ['label', '18(2)', 'consent'],
      ['approve', '18(2)', 'consent'],
    ]);

    // Any later label of the field ends the declassification (a new one needs a new approval).
    expect((await labelField('a18-consent', { classification: 'restricted' }, who.steward32)).status).toBe(200);
    const back = await labelField('a18-consent', { classification: 'public', justification: 'dibuka kembali' });
    expect(back.status).toBe(422);
    for (const item of (await openData('a18-consent')).body.items) expect(item).not.toHaveProperty(FIELD);
    await expect.poll(async () => (await check('a18-consent')).body.allow).toBe(false);
  });

  it('a rejected declassification leaves the field as it was', async () => {
    await setUp('a18-reject');
    expect((await labelField('a18-reject', { classification: 'public', declassification: ART18 })).status).toBe(202);
    const rejected = await t.request('POST', `/v1/datasets/a18-reject/fields/${FIELD}/label/reject`, {
      token: ppid,
      json: { justification: 'Dasar hukum tidak mewajibkan pengumuman.' },
    });
    expect(rejected.status, rejected.text).toBe(200);
    const field = rejected.body.fields.find((f: any) => f.name === FIELD);
    expect(field).toMatchObject({
      classification: null,
      effectiveClassification: 'restricted',
      declassification: null,
    });
    for (const item of (await openData('a18-reject')).body.items) expect(item).not.toHaveProperty(FIELD);
  });
});
