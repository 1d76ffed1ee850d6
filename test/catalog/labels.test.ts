import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { EXEMPTION, datasetBody, decision, principals, startCatalogApp } from './catalog-app.ts';

describe.each(databaseKinds())('catalog labels on %s', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;
  beforeAll(async () => {
    t = await startCatalogApp(kind);
    who = await principals();
  });
  afterAll(() => t.close());

  async function create(id: string, ownerUnit = '32', token = who.steward32) {
    const r = await t.request('POST', '/v1/datasets', { token, json: datasetBody(id, ownerUnit) });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  }
  const label = (id: string, json: unknown, token = who.steward32) =>
    t.request('PUT', `/v1/datasets/${id}/label`, { token, json });
  const labelField = (id: string, field: string, json: unknown, token = who.steward32) =>
    t.request('PUT', `/v1/datasets/${id}/fields/${field}/label`, { token, json });
  const field = (body: any, name: string) => body.fields.find((f: any) => f.name === name);
  const historyRows = async (id: string) =>
    (await t.db.sql`select count(*)::int as n from label_history where dataset_id = ${id}`)[0]!.n as number;

  it('starts unlabelled and labels a dataset public with a new label version', async () => {
    const d = await create('lbl-basic');
    expect(d).toMatchObject({ classification: null, labelStatus: 'unlabelled', labelVersion: 0 });
    expect(field(d, 'summary').effectiveClassification).toBeNull();
    const r = await label('lbl-basic', { classification: 'public' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ classification: 'public', labelStatus: 'labelled', labelVersion: 1 });
    expect(field(r.body, 'summary')).toMatchObject({ classification: null, effectiveClassification: 'public' });
  });

  it('enforces that a field label is at least as strict as its dataset’s; effective is the stricter', async () => {
    await create('lbl-field');
    await label('lbl-field', { classification: 'restricted' });
    const looser = await labelField('lbl-field', 'summary', { classification: 'public' });
    expect(looser.status).toBe(422);
    expect(looser.body.code).toBe('LABEL_NOT_STRICTER');
    expect(
      (await t.db.sql`select classification from fields where dataset_id = 'lbl-field' and name = 'summary'`)[0]!
        .classification,
    ).toBeNull();

    const exempt = await labelField('lbl-field', 'summary', {
      ...EXEMPTION,
      justification: 'names witnesses in free text',
    });
    // A field exemption is proposed (pending a PPID) and counts as exempt meanwhile.
    expect(exempt.status).toBe(202);
    expect(field(exempt.body, 'summary')).toMatchObject({
      classification: 'exempt',
      effectiveClassification: 'exempt',
    });
    expect(field(exempt.body, 'report_no').effectiveClassification).toBe('restricted');
  });

  it('labels a field of a public dataset restricted (a public dataset with a restricted reporter phone)', async () => {
    await create('lbl-phone');
    await label('lbl-phone', { classification: 'public' });
    const r = await labelField('lbl-phone', 'reporter_phone', { classification: 'restricted' });
    expect(r.status).toBe(200);
    expect(r.body.classification).toBe('public');
    expect(field(r.body, 'reporter_phone')).toMatchObject({
      classification: 'restricted',
      effectiveClassification: 'restricted',
    });
    expect(field(r.body, 'report_no').effectiveClassification).toBe('public');
  });

  it('never makes specific personal data effectively public', async () => {
    await create('lbl-specific');
    const r = await label('lbl-specific', { classification: 'public' });
    // criminal_record is specific personal data (UU PDP art. 4): restricted even in a public dataset.
    expect(field(r.body, 'reported_party_status')).toMatchObject({
      personalDataKind: 'specific',
      effectiveClassification: 'restricted',
    });
    // General personal data is restricted by default too, unless explicitly labelled public.
    expect(field(r.body, 'reporter_name').effectiveClassification).toBe('restricted');

    const explicit = await labelField(
      'lbl-specific',
      'reported_party_status',
      { classification: 'public' },
      who.ppid32,
    );
    expect(explicit.status).toBe(422);
    expect(explicit.body.code).toBe('LABEL_NOT_ALLOWED');

    const general = await labelField('lbl-specific', 'reporter_name', { classification: 'public' });
    expect(general.status).toBe(200);
    expect(field(general.body, 'reporter_name').effectiveClassification).toBe('public');

    // Re-tagging a field as specific personal data does not make it public either.
    const ds = await t.request('GET', '/v1/datasets/lbl-specific', { token: who.steward32 });
    const patched = await t.request('PATCH', '/v1/datasets/lbl-specific', {
      token: who.steward32,
      headers: { 'if-match': ds.headers.get('etag')! },
      json: { fields: [{ name: 'summary', type: 'string', personalData: 'health' }] },
    });
    expect(patched.status).toBe(200);
    expect(field(patched.body, 'summary').effectiveClassification).toBe('restricted');
  });

  it('keeps a field’s label when its personal-data category is dropped (no silent declassification)', async () => {
    await create('lbl-pin');
    await label('lbl-pin', { classification: 'public' });
    const ds = await t.request('GET', '/v1/datasets/lbl-pin', { token: who.steward32 });
    const r = await t.request('PATCH', '/v1/datasets/lbl-pin', {
      token: who.steward32,
      headers: { 'if-match': ds.headers.get('etag')! },
      json: { fields: [{ name: 'reported_party_status', type: 'string', personalData: 'none' }] },
    });
    expect(r.status).toBe(200);
    expect(field(r.body, 'reported_party_status')).toMatchObject({
      personalData: 'none',
      classification: 'restricted',
      effectiveClassification: 'restricted',
    });
    const h = await t.request('GET', '/v1/datasets/lbl-pin/labels', { token: who.steward32 });
    expect(h.body.items.at(-1)).toMatchObject({ field: 'reported_party_status', from: null, to: 'restricted' });
  });

  it('refuses an exemption without grounds, consequence test or review date, listing every missing part, and changes nothing', async () => {
    await create('lbl-incomplete');
    const before = await historyRows('lbl-incomplete');
    const r = await label('lbl-incomplete', { classification: 'exempt' });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('EXEMPTION_INCOMPLETE');
    expect(r.body.errors.map((e: any) => e.path)).toEqual(
      expect.arrayContaining([
        'body.grounds',
        'body.consequenceTest.harm',
        'body.consequenceTest.publicInterest',
        'body.consequenceTest.balance',
        'body.consequenceTest.timing',
        'body.period',
        'body.reviewBy',
      ]),
    );
    // The old shape ("harm":"x","publicInterest":"y") is no consequence test.
    const half = await label('lbl-incomplete', {
      classification: 'exempt',
      grounds: ['17h'],
      consequenceTest: { harm: 'x', publicInterest: 'y' },
      reviewBy: '2001-01-01',
    });
    expect(half.status).toBe(422);
    expect(half.body.errors.map((e: any) => e.path)).toEqual(
      expect.arrayContaining([
        'body.consequenceTest.harm',
        'body.consequenceTest.publicInterest',
        'body.consequenceTest.testRecordNo',
        'body.period',
        'body.reviewBy',
      ]),
    );
    const badGround = await label('lbl-incomplete', { ...EXEMPTION, grounds: ['17z'], statute: undefined });
    expect(badGround.body.errors.map((e: any) => e.path)).toEqual(['body.grounds.0']);
    expect(await historyRows('lbl-incomplete')).toBe(before);
    const [row] = await t.db
      .sql`select classification, pending_classification, label_version, version from datasets where id = 'lbl-incomplete'`;
    expect(row).toMatchObject({ classification: null, pending_classification: null, label_version: 0, version: 1 });
  });

  it('proposes an exemption (202, pending, treated as exempt), refuses self-approval, and a second PPID approves it', async () => {
    await create('lbl-exempt');
    await label('lbl-exempt', { classification: 'public' });
    const proposed = await label('lbl-exempt', EXEMPTION, who.ppid32);
    expect(proposed.status).toBe(202);
    expect(proposed.body).toMatchObject({
      classification: 'exempt',
      labelStatus: 'pending',
      approvedClassification: 'public',
    });
    expect(proposed.body.pending).toMatchObject({
      classification: 'exempt',
      proposedBy: 'ppid-32',
      reviewBy: EXEMPTION.reviewBy,
    });
    expect(field(proposed.body, 'report_no').effectiveClassification).toBe('exempt');

    // Fail closed: no longer in the public view while pending.
    expect((await t.request('GET', '/v1/datasets/lbl-exempt')).status).toBe(404);
    expect((await t.request('GET', '/v1/registers/public')).body.items.map((e: any) => e.id)).not.toContain(
      'lbl-exempt',
    );
    // Pending proposals are not yet on the exempt list.
    expect((await t.request('GET', '/v1/registers/exempt')).body.items.map((e: any) => e.id)).not.toContain(
      'lbl-exempt',
    );

    const self = await t.request('POST', '/v1/datasets/lbl-exempt/label/approve', { token: who.ppid32 });
    expect(self.status).toBe(403);
    expect(self.body.code).toBe('SELF_APPROVAL');
    const steward = await t.request('POST', '/v1/datasets/lbl-exempt/label/approve', { token: who.steward32 });
    expect(steward.status).toBe(403);
    expect(steward.body.code).toBe('FORBIDDEN');
    const otherUnit = await t.request('POST', '/v1/datasets/lbl-exempt/label/approve', { token: who.ppid33 });
    expect(otherUnit.status).toBe(404);
    expect(await t.db.sql`select pending_classification from datasets where id = 'lbl-exempt'`).toEqual([
      { pending_classification: 'exempt' },
    ]);

    const ok = await t.request('POST', '/v1/datasets/lbl-exempt/label/approve', {
      token: who.ppid32b,
      json: decision('KEP-PPID/32/2026/7'),
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      classification: 'exempt',
      labelStatus: 'labelled',
      approvedClassification: 'exempt',
      pending: null,
    });
    expect(ok.body.label).toMatchObject({
      grounds: EXEMPTION.grounds,
      reviewBy: EXEMPTION.reviewBy,
      decidedBy: 'ppid-32b',
      decisionRef: 'KEP-PPID/32/2026/7',
    });

    const again = await t.request('POST', '/v1/datasets/lbl-exempt/label/approve', { token: who.ppid32b });
    expect(again.body.code).toBe('NO_PENDING_PROPOSAL');
  });

  it('rejects a proposal: the label in force before it stays', async () => {
    await create('lbl-reject');
    await label('lbl-reject', { classification: 'restricted' });
    expect((await label('lbl-reject', EXEMPTION)).status).toBe(202);
    const busy = await label('lbl-reject', { classification: 'restricted' });
    expect(busy.status).toBe(409);
    const r = await t.request('POST', '/v1/datasets/lbl-reject/label/reject', {
      token: who.ppid32,
      json: { justification: 'no harm shown' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ classification: 'restricted', labelStatus: 'labelled', pending: null });
    // Logged as what it was: a rejection (it was logged as an approval once).
    const logged = await t.db.sql`
      select action, details->>'labelEvent' as event from audit_entry
      where event = 'label_change' and resource_id = 'lbl-reject' order by seq desc limit 1`;
    expect(logged).toEqual([{ action: 'reject', event: 'rejection' }]);
    // So is a refused attempt to reject.
    expect((await label('lbl-reject', EXEMPTION)).status).toBe(202);
    const refused = await t.request('POST', '/v1/datasets/lbl-reject/label/reject', { token: who.steward32 });
    expect(refused.status).toBe(403);
    await expect
      .poll(
        async () =>
          t.db
            .sql`select action from audit_entry where event = 'decision' and effect = 'deny' and resource_id = 'lbl-reject'`,
      )
      .toEqual([{ action: 'reject' }]);
  });

  it('records a less strict label as a declassification that needs a PPID and a justification', async () => {
    await create('lbl-declass');
    await label('lbl-declass', { classification: 'restricted' });
    const bySteward = await label('lbl-declass', { classification: 'public', justification: 'rulings are public' });
    expect(bySteward.status).toBe(403);
    const noWhy = await label('lbl-declass', { classification: 'public' }, who.ppid32);
    expect(noWhy.status).toBe(422);
    expect(noWhy.body.code).toBe('JUSTIFICATION_REQUIRED');
    expect(noWhy.body.errors).toEqual([{ path: 'body.justification', message: expect.any(String) }]);
    const ok = await label(
      'lbl-declass',
      { classification: 'public', justification: 'Final rulings are public (UU 14/2008 art. 18(1)).' },
      who.ppid32,
    );
    expect(ok.status).toBe(200);
    const h = await t.request('GET', '/v1/datasets/lbl-declass/labels', { token: who.auditor32 });
    expect(h.body.items.at(-1)).toMatchObject({
      from: 'restricted',
      to: 'public',
      declassification: true,
      justification: expect.stringContaining('public'),
    });

    // Fields too: loosening a field's own label is a declassification.
    await labelField('lbl-declass', 'summary', { classification: 'restricted' });
    expect((await labelField('lbl-declass', 'summary', { classification: 'public', justification: 'ok' })).status).toBe(
      403,
    );
    const f = await labelField(
      'lbl-declass',
      'summary',
      { classification: null, justification: 'summaries are anonymised' },
      who.ppid32,
    );
    expect(f.status).toBe(200);
    expect(field(f.body, 'summary')).toMatchObject({ classification: null, effectiveClassification: 'public' });
  });

  it('refuses labelling outside one’s unit (404 when invisible, 403 when visible)', async () => {
    await create('lbl-unit');
    const unlabelled = await label('lbl-unit', { classification: 'restricted' }, who.steward33);
    expect(unlabelled.status).toBe(404);
    await label('lbl-unit', { classification: 'public' });
    const visible = await label('lbl-unit', { classification: 'restricted' }, who.steward33);
    expect(visible.status).toBe(403);
    expect(visible.body.code).toBe('FORBIDDEN');
    const fieldOutside = await labelField('lbl-unit', 'summary', { classification: 'restricted' }, who.steward33);
    expect(fieldOutside.status).toBe(403);
    // A steward of a regency inside 32 labels only its own subtree.
    expect((await label('lbl-unit', { classification: 'restricted' }, who.steward3201)).status).toBe(403);
    const auditor = await label('lbl-unit', { classification: 'restricted' }, who.auditor32);
    expect(auditor.status).toBe(403);
    expect((await t.db.sql`select classification from datasets where id = 'lbl-unit'`)[0]!.classification).toBe(
      'public',
    );
  });

  it('refuses approval state and versions in a label body (mass assignment)', async () => {
    await create('lbl-mass');
    const r = await label('lbl-mass', { ...EXEMPTION, approvedBy: 'ppid-32', labelVersion: 9, status: 'labelled' });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('VALIDATION_FAILED');
    // valibot reports the first unknown key of a strict object.
    expect(r.body.errors[0].path).toMatch(/^body\.(approvedBy|labelVersion|status)$/);
    expect(await historyRows('lbl-mass')).toBe(0);
  });

  it('keeps a complete history, oldest first, with a version per event', async () => {
    await create('lbl-history');
    await label('lbl-history', { classification: 'restricted' });
    await labelField('lbl-history', 'reporter_phone', { ...EXEMPTION, justification: 'reporter identity (17a)' });
    await t.request('POST', '/v1/datasets/lbl-history/fields/reporter_phone/label/approve', {
      token: who.ppid32,
      json: decision('KEP/32/F1'),
    });
    await label('lbl-history', EXEMPTION);
    await t.request('POST', '/v1/datasets/lbl-history/label/approve', { token: who.ppid32, json: decision() });
    const h = await t.request('GET', '/v1/datasets/lbl-history/labels', { token: who.auditor32 });
    expect(h.status).toBe(200);
    expect(h.body.items.map((e: any) => [e.event, e.field, e.from, e.to, e.by.sub, e.labelVersion])).toEqual([
      ['label', null, null, 'restricted', 'steward-32', 1],
      ['proposal', 'reporter_phone', null, 'exempt', 'steward-32', 2],
      ['approval', 'reporter_phone', null, 'exempt', 'ppid-32', 3],
      ['proposal', null, 'restricted', 'exempt', 'steward-32', 4],
      ['approval', null, 'restricted', 'exempt', 'ppid-32', 5],
    ]);
    const [proposal, approval] = h.body.items.slice(3);
    expect(proposal).toMatchObject({
      grounds: EXEMPTION.grounds,
      consequenceTest: EXEMPTION.consequenceTest,
      reviewBy: EXEMPTION.reviewBy,
    });
    expect(approval.proposalId).toBe(proposal.id);
    expect((await t.request('GET', '/v1/datasets/lbl-history')).status).toBe(404);
    expect((await t.request('GET', '/v1/datasets/lbl-history/labels', { token: who.staff33 })).status).toBe(404);
    // Visible (public) but not one's unit: staff of another province may not read the history.
    await label('lbl-basic', { classification: 'public' });
    expect((await t.request('GET', '/v1/datasets/lbl-basic', { token: who.staff33 })).status).toBe(200);
    expect((await t.request('GET', '/v1/datasets/lbl-basic/labels', { token: who.staff33 })).status).toBe(403);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on the history table in the database itself', async () => {
    await create('lbl-append');
    await label('lbl-append', { classification: 'restricted' });
    await expect(
      t.db.sql`update label_history set to_classification = 'public' where dataset_id = 'lbl-append'`,
    ).rejects.toMatchObject({ code: '42501' });
    await expect(t.db.sql`delete from label_history where dataset_id = 'lbl-append'`).rejects.toMatchObject({
      code: '42501',
    });
    // TRUNCATE … CASCADE locks every table that references the history, so it can meet a background
    // read (the catalog snapshot's reload) in a deadlock (40P01); that is retried, the refusal is the point.
    const truncate = async (): Promise<unknown> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await t.db.sql`truncate label_history cascade`;
        } catch (error) {
          if ((error as { code?: string }).code !== '40P01' || attempt >= 4) throw error;
        }
      }
    };
    await expect(truncate()).rejects.toMatchObject({ code: '42501' });
    expect(await historyRows('lbl-append')).toBe(1);
  });
});
