import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FieldDecision } from '../../src/policy/engine.types.ts';
import type { TestApp, TestResponse } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { NIKS, PURPOSE, principals, reports, startRecordsApp } from './records-app.ts';
import { createLabelled } from './setup.ts';

const OPEN_FIELDS = ['report_no', 'received_on', 'region', 'category', 'amount'];
const CLOSED_VALUES = [
  'catatan internal',
  'Siti',
  'terlapor',
  'psn_',
  '0812',
  ...NIKS,
  ...NIKS.map((n) => n.slice(0, 4) + '*'),
];

describe.each(databaseKinds())('open data on %s', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;
  beforeAll(async () => {
    t = await startRecordsApp(kind);
    who = await principals();
    await createLabelled(t, who.steward32, 'open-ds', 'public', { restrictField: 'investigator_note' });
    await createLabelled(t, who.steward32, 'closed-ds', 'restricted');
    for (const id of ['open-ds', 'closed-ds']) {
      expect(
        (await t.request('POST', `/v1/datasets/${id}/records`, { token: who.steward32, json: reports(12) })).status,
      ).toBe(201);
    }
  });
  afterAll(() => t.close());

  const exports = async (token?: string): Promise<TestResponse[]> => {
    const out: TestResponse[] = [];
    for (const accept of ['application/json', 'application/x-ndjson', 'text/csv']) {
      const r = await t.request('GET', '/v1/public/datasets/open-ds/records', {
        ...(token ? { token } : {}),
        headers: { accept, 'x-purpose': PURPOSE },
      });
      expect(r.status).toBe(200);
      out.push(r);
    }
    return out;
  };

  const expectOnlyOpenFields = (responses: TestResponse[]) => {
    const [json, nd, csv] = responses;
    expect(json!.body.items).toHaveLength(12);
    for (const item of json!.body.items) expect(Object.keys(item)).toEqual(OPEN_FIELDS);
    expect(csv!.text.split('\r\n')[0]).toBe(OPEN_FIELDS.join(','));
    for (const line of nd!.text.trim().split('\n')) expect(Object.keys(JSON.parse(line))).toEqual(OPEN_FIELDS);
    for (const r of responses) {
      for (const v of CLOSED_VALUES) expect(r.text).not.toContain(v);
      expect(r.text).not.toContain('investigator_note');
      expect(r.headers.get('x-jaga-fields-masked')).toBe('');
    }
  };

  it('exports public fields only, whole, in JSON, NDJSON and CSV, whoever asks', async () => {
    expectOnlyOpenFields(await exports());
    // A steward with a purpose gets the same export here: the route ignores the principal.
    expectOnlyOpenFields(await exports(who.steward32));
  });

  it('never exports a restricted field even when the policies are wrong', async () => {
    const policy = t.deps.services.policy;
    const real = policy.current;
    const engine = real();
    // A policy bug: every field whole, every record, every dataset.
    const leaky = Object.create(engine) as typeof engine;
    leaky.decideFields = (_p, fields) =>
      fields.map((f): FieldDecision => ({ field: f.name, outcome: 'whole', ruleId: 'bug', reason: 'bug' }));
    leaky.decide = (input) => ({ ...engine.decide(input), allow: true });
    leaky.plan = () => ({ kind: 'always' });
    policy.current = () => leaky;
    try {
      expectOnlyOpenFields(await exports());
      const closed = await t.request('GET', '/v1/public/datasets/closed-ds/records');
      expect(closed.status).toBe(404);
      expect(closed.text).not.toContain('LP-');
      const list = await t.request('GET', '/v1/public/datasets');
      expect(list.body.items.map((d: any) => d.id)).toEqual(['open-ds']);
      expect(list.body.items[0].fields.map((f: any) => f.name)).toEqual(OPEN_FIELDS);
    } finally {
      policy.current = real;
    }
  });

  it('lists public datasets with the fields their export carries', async () => {
    const r = await t.request('GET', '/v1/public/datasets');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      items: [{ id: 'open-ds', ownerUnit: '32', records: '/v1/public/datasets/open-ds/records' }],
      nextCursor: null,
    });
    expect(r.body.items[0].fields).toEqual([
      { name: 'report_no', type: 'string' },
      { name: 'received_on', type: 'date' },
      { name: 'region', type: 'string' },
      { name: 'category', type: 'string' },
      { name: 'amount', type: 'integer' },
    ]);
    expect((await t.request('GET', '/v1/public/datasets/closed-ds/records')).status).toBe(404);
  });
});
