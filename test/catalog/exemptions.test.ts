import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { EXEMPTION, datasetBody, decision, monthsAhead, principals, startCatalogApp } from './catalog-app.ts';

/** Exemption records as UU 14/2008 art. 17–20 write them (issue 21). */
describe.each(databaseKinds())('exemption records on %s', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;
  beforeAll(async () => {
    t = await startCatalogApp(kind);
    who = await principals();
  });
  afterAll(() => t.close());

  const create = async (id: string) =>
    expect((await t.request('POST', '/v1/datasets', { token: who.steward32, json: datasetBody(id) })).status).toBe(201);
  const label = (id: string, json: unknown, token = who.steward32) =>
    t.request('PUT', `/v1/datasets/${id}/label`, { token, json });
  const paths = (r: { body: any }) => (r.body.errors ?? []).map((e: any) => e.path);
  const nothingChanged = async (id: string) => {
    const [row] = await t.db.sql`select pending_classification, label_version from datasets where id = ${id}`;
    expect(row).toEqual({ pending_classification: null, label_version: 0 });
    expect((await t.db.sql`select count(*)::int as n from exemptions where dataset_id = ${id}`)[0]!.n).toBe(0);
  };

  it('refuses free-text and malformed grounds with 422, naming each', async () => {
    await create('ex-grounds');
    for (const bad of ['lorem ipsum', '17', '17k', '17A', 'Perbawaslu 1/2022 art. 18(2)', '17a.', '17a.0', ' 17b x']) {
      const r = await label('ex-grounds', { ...EXEMPTION, grounds: ['17a', bad], statute: undefined });
      expect(r.status, bad).toBe(422);
      expect(r.body.code).toBe('EXEMPTION_INCOMPLETE');
      expect(paths(r)).toEqual(['body.grounds.1']);
    }
    const none = await label('ex-grounds', { ...EXEMPTION, grounds: [], statute: undefined });
    expect(paths(none)).toEqual(['body.grounds']);
    await nothingChanged('ex-grounds');
    // A sub-clause is a ground.
    expect((await label('ex-grounds', { ...EXEMPTION, grounds: ['17a.2'], statute: undefined })).status).toBe(202);
  });

  it('requires a statute and article for 17j, and takes a statute only with 17j', async () => {
    await create('ex-17j');
    const missing = await label('ex-17j', { ...EXEMPTION, grounds: ['17j'], statute: undefined });
    expect(missing.status).toBe(422);
    expect(paths(missing)).toEqual(['body.statute']);
    const vague = await label('ex-17j', { ...EXEMPTION, grounds: ['17j'], statute: 'some law' });
    expect(paths(vague)).toEqual(['body.statute']);
    const stray = await label('ex-17j', { ...EXEMPTION, grounds: ['17h'], statute: 'UU 7/2017 pasal 93' });
    expect(paths(stray)).toEqual(['body.statute']);
    await nothingChanged('ex-17j');
  });

  it('refuses a thin consequence test ("harm":"x","publicInterest":"y"), listing every missing part', async () => {
    await create('ex-test');
    const r = await label('ex-test', { ...EXEMPTION, consequenceTest: { harm: 'x', publicInterest: 'y' } });
    expect(r.status).toBe(422);
    expect(paths(r).sort()).toEqual(
      [
        'body.consequenceTest.harm',
        'body.consequenceTest.protectedInterest',
        'body.consequenceTest.publicInterest',
        'body.consequenceTest.balance',
        'body.consequenceTest.conclusion',
        'body.consequenceTest.timing',
        'body.consequenceTest.testRecordNo',
        'body.consequenceTest.testDate',
        'body.consequenceTest.participants',
      ].sort(),
    );
    const timing = await label('ex-test', {
      ...EXEMPTION,
      consequenceTest: { ...EXEMPTION.consequenceTest, timing: 'whenever', testDate: '2999-01-01' },
    });
    expect(paths(timing).sort()).toEqual(['body.consequenceTest.testDate', 'body.consequenceTest.timing']);
    await nothingChanged('ex-test');
  });

  it('takes exactly one period; indefinite is refused for 17a–17f; 17a is capped at 30 years', async () => {
    await create('ex-period');
    for (const letter of ['a', 'b', 'c', 'd', 'e', 'f']) {
      const r = await label('ex-period', {
        ...EXEMPTION,
        grounds: [`17${letter}`],
        statute: undefined,
        period: { indefinite: true },
      });
      expect(r.status, letter).toBe(422);
      expect(paths(r)).toEqual(['body.period.indefinite']);
    }
    // The reported case: 17c, meant to last for ever.
    const forever = await label('ex-period', {
      ...EXEMPTION,
      grounds: ['17c'],
      statute: undefined,
      period: { until: '9999-12-31' },
      reviewBy: '9999-12-31',
    });
    expect(paths(forever)).toEqual(['body.reviewBy']);
    const cap = await label('ex-period', {
      ...EXEMPTION,
      grounds: ['17a'],
      statute: undefined,
      period: { until: monthsAhead(12 * 31) },
    });
    expect(cap.status).toBe(422);
    expect(paths(cap)).toEqual(['body.period.until']);
    expect(cap.body.errors[0].message).toContain('30 years');
    const two = await label('ex-period', {
      ...EXEMPTION,
      period: { until: '2040-01-01', untilEvent: 'the trial ends' },
    });
    expect(paths(two)).toEqual(['body.period']);
    const none = await label('ex-period', { ...EXEMPTION, period: undefined });
    expect(paths(none)).toEqual(['body.period']);
    const past = await label('ex-period', { ...EXEMPTION, period: { until: '2001-01-01' } });
    expect(paths(past)).toEqual(['body.period.until']);
    const farReview = await label('ex-period', { ...EXEMPTION, reviewBy: monthsAhead(14) });
    expect(paths(farReview)).toEqual(['body.reviewBy']);
    await nothingChanged('ex-period');
    // 17h (personal secrets) may be indefinite; an event may end a 17a exemption.
    expect(
      (await label('ex-period', { ...EXEMPTION, grounds: ['17h'], statute: undefined, period: { indefinite: true } }))
        .status,
    ).toBe(202);
  });

  it('approves only with a complete decision (ref, date, place, agreedBy), each gap a 422 naming it', async () => {
    await create('ex-decision');
    expect((await label('ex-decision', EXEMPTION)).status).toBe(202);
    const approve = (json?: unknown) =>
      t.request('POST', '/v1/datasets/ex-decision/label/approve', { token: who.ppid32, ...(json ? { json } : {}) });
    const bare = await approve();
    expect(bare.status).toBe(422);
    expect(bare.body.code).toBe('DECISION_INCOMPLETE');
    expect(paths(bare)).toEqual(['body.decision']);
    // The old shape: a reference alone.
    expect(paths(await approve({ decisionRef: 'KEP/1' }))).toEqual(['body.decision']);
    const { ref: _ref, ...noRef } = decision().decision;
    expect(paths(await approve({ decision: noRef }))).toEqual(['body.decision.ref']);
    const { agreedBy: _agreed, ...noAgreement } = decision().decision;
    expect(paths(await approve({ decision: noAgreement })).sort()).toEqual([
      'body.decision.agreedBy.name',
      'body.decision.agreedBy.position',
    ]);
    expect(paths(await approve({ decision: { ...decision().decision, agreedBy: { name: 'Ketua' } } }))).toEqual([
      'body.decision.agreedBy.position',
    ]);
    // Still pending: nothing was decided, no DIK number given.
    expect(await t.db.sql`select status, dik_no from exemptions where dataset_id = 'ex-decision'`).toEqual([
      { status: 'pending', dik_no: null },
    ]);
    const ok = await approve(decision('KEP/32/9'));
    expect(ok.status).toBe(200);
    const dik = await t.request('GET', '/v1/registers/exempt');
    const entry = dik.body.items.find((e: any) => e.id === 'ex-decision');
    expect(entry).toMatchObject({
      dikNo: expect.stringMatching(/^DIK\/32\/\d{4}\/\d+$/),
      decision: decision('KEP/32/9').decision,
      period: EXEMPTION.period,
    });
    expect(entry.fields).toBeUndefined();
  });

  it('a field exemption set by a steward is pending until a PPID approves it, then it is in the DIK', async () => {
    await create('ex-field');
    await label('ex-field', { classification: 'restricted' });
    const field = (id: string, f: string, json: unknown, token = who.steward32) =>
      t.request('PUT', `/v1/datasets/${id}/fields/${f}/label`, { token, json });
    // The reported case: a justification alone.
    const thin = await field('ex-field', 'reporter_phone', { classification: 'exempt', justification: 'sensitif' });
    expect(thin.status).toBe(422);
    expect(thin.body.code).toBe('EXEMPTION_INCOMPLETE');
    expect(paths(thin)).toEqual(expect.arrayContaining(['body.grounds', 'body.period', 'body.reviewBy']));
    expect(
      (await t.db.sql`select classification from fields where dataset_id = 'ex-field' and name = 'reporter_phone'`)[0],
    ).toEqual({ classification: null });

    const proposed = await field('ex-field', 'reporter_phone', {
      ...EXEMPTION,
      subject: 'Nomor telepon pelapor',
    });
    expect(proposed.status).toBe(202);
    // Fail closed meanwhile: the field counts as exempt.
    expect(proposed.body.fields.find((f: any) => f.name === 'reporter_phone').effectiveClassification).toBe('exempt');
    const dikBefore = await t.request('GET', '/v1/registers/exempt');
    expect(dikBefore.body.items.filter((e: any) => e.id === 'ex-field')).toEqual([]);
    expect((await field('ex-field', 'reporter_phone', { classification: 'restricted' })).status).toBe(409);

    const approveField = (token: string, json?: unknown) =>
      t.request('POST', '/v1/datasets/ex-field/fields/reporter_phone/label/approve', {
        token,
        ...(json ? { json } : {}),
      });
    expect((await approveField(who.steward32, decision())).status).toBe(403);
    expect((await approveField(who.ppid32)).status).toBe(422);
    const ok = await approveField(who.ppid32, decision('KEP/32/F7'));
    expect(ok.status).toBe(200);
    const dik = await t.request('GET', '/v1/registers/exempt');
    const entry = dik.body.items.find((e: any) => e.id === 'ex-field');
    expect(entry).toMatchObject({
      dikNo: expect.stringMatching(/^DIK\/32\//),
      subject: 'Nomor telepon pelapor',
      fields: ['reporter_phone'],
      grounds: EXEMPTION.grounds,
      decision: decision('KEP/32/F7').decision,
    });
    expect(
      (
        await t.request('POST', '/v1/datasets/ex-field/fields/reporter_phone/label/approve', {
          token: who.ppid32b,
          json: decision(),
        })
      ).body.code,
    ).toBe('NO_PENDING_PROPOSAL');

    // A rejected field proposal gives the field back its label.
    expect((await field('ex-field', 'summary', EXEMPTION)).status).toBe(202);
    const rejected = await t.request('POST', '/v1/datasets/ex-field/fields/summary/label/reject', {
      token: who.ppid32,
      json: { justification: 'the summaries are anonymised' },
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body.fields.find((f: any) => f.name === 'summary')).toMatchObject({
      classification: null,
      effectiveClassification: 'restricted',
    });
    expect(
      (await t.request('GET', '/v1/registers/exempt')).body.items.filter((e: any) => e.id === 'ex-field'),
    ).toHaveLength(1);
  });

  it('an expired period or an overdue review keeps the exemption in force and becomes a task for the PPID', async () => {
    await create('ex-expired');
    expect((await label('ex-expired', EXEMPTION)).status).toBe(202);
    expect(
      (await t.request('POST', '/v1/datasets/ex-expired/label/approve', { token: who.ppid32, json: decision() }))
        .status,
    ).toBe(200);
    await t.db
      .sql`update exemptions set period = ${t.db.sql.json({ until: '2001-01-01' })} where dataset_id = 'ex-expired'`;
    const overdue = await t.request('GET', '/v1/registers/overdue-reviews', { token: who.ppid32 });
    expect(overdue.body.items.find((e: any) => e.id === 'ex-expired')).toMatchObject({
      periodEnded: true,
      reviewOverdue: false,
    });
    // Still exempt: nothing opens by itself (fail closed).
    expect((await t.request('GET', '/v1/datasets/ex-expired')).status).toBe(404);
    expect((await t.request('GET', '/v1/datasets/ex-expired', { token: who.steward32 })).body.classification).toBe(
      'exempt',
    );
    expect((await t.request('GET', '/v1/registers/exempt')).body.items.map((e: any) => e.id)).toContain('ex-expired');
    const report = await t.request('GET', '/v1/audit/reports/openness', { token: who.auditor32 });
    expect(report.body.overdue.find((o: any) => o.dataset === 'ex-expired')).toMatchObject({ reviewBy: '2001-01-01' });
  });

  it('re-tests an exemption in force: the new record supersedes it on approval, with a new DIK number', async () => {
    await create('ex-retest');
    expect((await label('ex-retest', EXEMPTION)).status).toBe(202);
    const approve = (ref: string) =>
      t.request('POST', '/v1/datasets/ex-retest/label/approve', { token: who.ppid32, json: decision(ref) });
    expect((await approve('KEP/R/1')).status).toBe(200);
    const first = (await t.request('GET', '/v1/registers/exempt')).body.items.find((e: any) => e.id === 'ex-retest');
    // The re-test is proposed while the exemption stays in force.
    expect(
      (await label('ex-retest', { ...EXEMPTION, period: { untilEvent: 'the investigation is closed' } })).status,
    ).toBe(202);
    expect(
      (await t.request('GET', '/v1/registers/exempt')).body.items.find((e: any) => e.id === 'ex-retest').dikNo,
    ).toBe(first.dikNo);
    expect((await approve('KEP/R/2')).status).toBe(200);
    const listed = (await t.request('GET', '/v1/registers/exempt')).body.items.filter((e: any) => e.id === 'ex-retest');
    expect(listed).toHaveLength(1);
    expect(listed[0].dikNo).not.toBe(first.dikNo);
    expect(listed[0]).toMatchObject({
      period: { untilEvent: 'the investigation is closed' },
      decision: { ref: 'KEP/R/2' },
    });
    expect(await t.db.sql`select status from exemptions where dataset_id = 'ex-retest' order by id`).toEqual([
      { status: 'superseded' },
      { status: 'in_force' },
    ]);

    // A field exemption in force is re-tested the same way.
    await create('ex-fretest');
    await label('ex-fretest', { classification: 'restricted' });
    const proposeField = () =>
      t.request('PUT', '/v1/datasets/ex-fretest/fields/summary/label', { token: who.steward32, json: EXEMPTION });
    const approveField = (ref: string) =>
      t.request('POST', '/v1/datasets/ex-fretest/fields/summary/label/approve', {
        token: who.ppid32,
        json: decision(ref),
      });
    expect((await proposeField()).status).toBe(202);
    expect((await approveField('KEP/F/1')).status).toBe(200);
    expect((await proposeField()).status).toBe(202);
    expect((await approveField('KEP/F/2')).status).toBe(200);
    const fieldEntries = (await t.request('GET', '/v1/registers/exempt')).body.items.filter(
      (e: any) => e.id === 'ex-fretest',
    );
    expect(fieldEntries.map((e: any) => [e.fields, e.decision.ref])).toEqual([[['summary'], 'KEP/F/2']]);
  });
});
