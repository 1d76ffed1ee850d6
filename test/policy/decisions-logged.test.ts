import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditItem } from '../../src/audit/audit.schema.ts';
import type { GroupCommitLog } from '../../src/audit/audit.writer.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { startPolicyApp, token } from './harness.ts';

type App = Awaited<ReturnType<typeof startPolicyApp>>;

// Issue 14, observation 8: every AuthZEN evaluation is a decision in the log, refusals included,
// and its answer carries the decision id (`context.id`), as /v1/check's carries `decisionId`.
const restricted32 = {
  id: 'reports',
  ownerUnit: '32.01',
  classification: 'restricted',
  labelPending: false,
  labelVersion: 4,
  steward: 's',
  sourceSystem: null,
};
const me = { type: 'user', id: 'staff-32' };

describe.each(databaseKinds())('AuthZEN decisions in the audit log on %s', (kind) => {
  let t: App;
  let staff: string, auditor: string;
  let n = 0;
  beforeAll(async () => {
    t = await startPolicyApp(kind);
    staff = await token({ sub: 'staff-32', roles: ['staff'], unit: '32', purposes: ['pengawasan'] });
    auditor = await token({ sub: 'aud', roles: ['auditor'], unit: 'RI' });
  });
  afterAll(() => t.close());

  /** Sends an AuthZEN request under a fresh request id; returns the answer and what the auditor finds for that id. */
  async function ask(path: '/access/v1/evaluation' | '/access/v1/evaluations', json: unknown) {
    const requestId = `authzen-${kind}-${++n}-${Date.now()}`;
    const r = await t.request('POST', path, { token: staff, json, headers: { 'x-request-id': requestId } });
    const log = await t.request('GET', `/v1/audit/decisions?requestId=${requestId}`, { token: auditor });
    expect(log.status).toBe(200);
    return { r, entries: log.body.items as AuditItem[] };
  }

  const refusals: [string, Record<string, unknown>, RegExp][] = [
    [
      'an unknown action',
      { subject: me, action: { name: 'can_fly' }, resource: { type: 'Dataset', id: 'reports' } },
      /unknown action can_fly/,
    ],
    [
      'an unknown resource type',
      { subject: me, action: { name: 'read' }, resource: { type: 'Spaceship', id: 'x1' } },
      /unknown resource type Spaceship/,
    ],
    [
      'a purpose that is not a name',
      {
        subject: me,
        action: { name: 'read' },
        resource: { type: 'Dataset', id: 'reports', properties: restricted32 },
        context: { purpose: 42 },
      },
      /context\.purpose/,
    ],
    [
      'fields that are not a list of names',
      {
        subject: me,
        action: { name: 'read' },
        resource: { type: 'Dataset', id: 'reports', properties: restricted32 },
        context: { fields: 'nik' },
      },
      /context\.fields/,
    ],
    [
      'subject properties of the wrong shape',
      {
        subject: { ...me, properties: { roles: 'admin' } },
        action: { name: 'read' },
        resource: { type: 'Dataset', id: 'reports', properties: restricted32 },
      },
      /subject\.properties\.roles/,
    ],
  ];

  it.each(refusals)('evaluation refusing %s is logged, and the answer carries its id', async (_what, body, reason) => {
    const { r, entries } = await ask('/access/v1/evaluation', body);
    expect(r.status).toBe(200);
    expect(r.body.decision).toBe(false);
    expect(r.body.context.reason_admin.en).toMatch(reason);
    expect(r.body.context.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      id: r.body.context.id,
      event: 'decision',
      effect: 'deny',
      principal: { sub: 'staff-32' },
    });
    expect(entries[0]!.reason).toMatch(reason);
  });

  it('evaluations: each refusal and each decision is logged in order; a short-circuit logs what was evaluated', async () => {
    const body = {
      subject: me,
      action: { name: 'read' },
      evaluations: [
        { resource: { type: 'Dataset', id: 'reports', properties: restricted32 } },
        { action: { name: 'teleport' }, resource: { type: 'Dataset', id: 'reports' } },
        { resource: { type: 'Planet', id: 'p' } },
        { resource: { type: 'Dataset', id: 'other', properties: { ...restricted32, id: 'other', ownerUnit: '33' } } },
      ],
    };
    const all = await ask('/access/v1/evaluations', body);
    expect(all.r.status).toBe(200);
    expect(all.r.body.evaluations.map((e: { decision: boolean }) => e.decision)).toEqual([true, false, false, false]);
    expect(all.entries.map((e) => e.id)).toEqual(
      all.r.body.evaluations.map((e: { context: { id: string } }) => e.context.id),
    );
    expect(all.entries.map((e) => [e.action, e.resource.type, e.effect])).toEqual([
      ['read', 'Dataset', 'allow'],
      ['teleport', 'Dataset', 'deny'],
      ['read', 'Planet', 'deny'],
      ['read', 'Dataset', 'deny'],
    ]);
    const first = await ask('/access/v1/evaluations', {
      ...body,
      options: { evaluations_semantic: 'deny_on_first_deny' },
    });
    expect(first.r.body.evaluations).toHaveLength(2);
    expect(first.entries.map((e) => e.id)).toEqual(
      first.r.body.evaluations.map((e: { context: { id: string } }) => e.context.id),
    );
  });

  it('a request missing a subject, action or resource for one item is refused whole (400) and logs nothing', async () => {
    const { r, entries } = await ask('/access/v1/evaluations', {
      subject: me,
      evaluations: [
        { action: { name: 'read' }, resource: { type: 'Dataset', id: 'reports', properties: restricted32 } },
        { resource: { type: 'Dataset', id: 'reports' } },
      ],
    });
    expect(r.status).toBe(400);
    expect(r.body.errors[0].path).toBe('body.evaluations.1');
    expect(entries).toEqual([]);
  });

  it('a subject, action or resource the log could not record is refused at the door (400), never a 500', async () => {
    for (const body of [
      { subject: me, action: { name: 'can fly' }, resource: { type: 'Dataset', id: 'reports' } },
      { subject: me, action: { name: 'read' }, resource: { type: 'Dataset', id: 'two words' } },
      {
        subject: { type: 'user', id: 'staff\n32' },
        action: { name: 'read' },
        resource: { type: 'Dataset', id: 'reports' },
      },
    ]) {
      const { r, entries } = await ask('/access/v1/evaluation', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
      expect(entries).toEqual([]);
    }
  });

  // Text the log records must be a name (src/shared/text.ts): anything else is refused at the door,
  // before a decision is made, like any other invalid request.
  it('a check or evaluation naming what the log cannot hold is refused at the door (400, nothing logged), a Field with such a name is withheld and logged, and the log keeps flowing', async () => {
    const requestId = `attrs-${kind}-${Date.now()}`;
    const odd = { ...restricted32, id: 'has space', classification: 'top secret', labelVersion: 2 ** 40 };
    const r = await t.request('POST', '/v1/check', {
      token: staff,
      json: { action: 'read', resource: { type: 'Dataset', attributes: odd } },
      headers: { 'x-request-id': requestId },
    });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('VALIDATION_FAILED');
    const field = await t.request('POST', '/v1/check', {
      token: staff,
      json: {
        action: 'read',
        resource: {
          type: 'Field',
          attributes: {
            datasetId: 'reports',
            ownerUnit: '32.01',
            name: 'a b',
            classification: 'restricted',
            personalData: 'none',
          },
        },
      },
      headers: { 'x-request-id': requestId },
    });
    // A Field described with a name that is not one is decided (withheld, what is not known is the strictest case) and logged.
    expect(field.status).toBe(200);
    expect(field.body.allow).toBe(false);
    const evaluation = await t.request('POST', '/access/v1/evaluation', {
      token: staff,
      json: {
        subject: me,
        action: { name: 'read' },
        resource: { type: 'Dataset', id: 'reports', properties: restricted32 },
        context: { fields: ['a b'] },
      },
      headers: { 'x-request-id': requestId },
    });
    expect(evaluation.status).toBe(400);
    const log = await t.request('GET', `/v1/audit/decisions?requestId=${requestId}`, { token: auditor });
    expect((log.body.items as AuditItem[]).map((e) => e.id)).toEqual([field.body.decisionId]);
    const after = await ask('/access/v1/evaluation', {
      subject: me,
      action: { name: 'read' },
      resource: { type: 'Dataset', id: 'reports', properties: restricted32 },
    });
    expect(after.entries.map((e) => e.id)).toEqual([after.r.body.context.id]);
  });
});

// Issue 14, observation 9, in-process on both databases: the answer of a durable check leaves after
// its entry is committed (an hour's linger shows it is not the linger that wrote it); a batch and an
// AuthZEN evaluations request wait once, their entries sharing one commit.
describe.each(databaseKinds())('when checks answer, on %s', (kind) => {
  const committed = async (t: App, ids: string[]) =>
    Number(
      (await t.db.sql<{ n: string }[]>`select count(*) as n from audit_entry where id = any(${ids}::uuid[])`)[0]!.n,
    );

  it('durable (default): each check, batch, plan and evaluation answers only once its entries are committed, a request in one commit', async () => {
    const t = await startPolicyApp(kind, { AUDIT_FLUSH_LINGER_MS: '3600000' });
    try {
      const sizes: number[] = [];
      (t.deps.services.audit as GroupCommitLog).onFlushed((n) => sizes.push(n));
      const staff = await token({ sub: 'staff-32', roles: ['staff'], unit: '32', purposes: ['pengawasan'] });
      const check = { action: 'read', resource: { type: 'Dataset', attributes: restricted32 } };
      const one = await t.request('POST', '/v1/check', { token: staff, json: check });
      expect(await committed(t, [one.body.decisionId])).toBe(1);
      const batch = await t.request('POST', '/v1/check/batch', {
        token: staff,
        json: { checks: [check, check, check, check, check] },
      });
      const batchIds = batch.body.results.map((r: { decisionId: string }) => r.decisionId);
      expect(await committed(t, batchIds)).toBe(5);
      const plan = await t.request('POST', '/v1/plan', {
        token: staff,
        json: { action: 'read', resourceType: 'Record' },
      });
      expect(await committed(t, [plan.body.decisionId])).toBe(1);
      const evaluations = await t.request('POST', '/access/v1/evaluations', {
        token: staff,
        json: {
          subject: me,
          action: { name: 'read' },
          evaluations: [
            { resource: { type: 'Dataset', id: 'reports', properties: restricted32 } },
            { action: { name: 'fly' }, resource: { type: 'Dataset', id: 'x' } },
          ],
        },
      });
      expect(
        await committed(
          t,
          evaluations.body.evaluations.map((e: { context: { id: string } }) => e.context.id),
        ),
      ).toBe(2);
      expect(sizes).toEqual([1, 5, 1, 2]);
    } finally {
      await t.close();
    }
  });

  it('queued (AUDIT_CHECKS=queued): the answer leaves before the entry is written; it is written later (here: at shutdown)', async () => {
    const t = await startPolicyApp(kind, { AUDIT_FLUSH_LINGER_MS: '3600000', AUDIT_CHECKS: 'queued' });
    let id: string;
    try {
      const staff = await token({ sub: 'staff-32', roles: ['staff'], unit: '32', purposes: ['pengawasan'] });
      const one = await t.request('POST', '/v1/check', {
        token: staff,
        json: { action: 'read', resource: { type: 'Dataset', attributes: restricted32 } },
      });
      id = one.body.decisionId;
      expect(await committed(t, [id])).toBe(0);
      await t.deps.lifecycle.shutdown();
      expect(await committed(t, [id])).toBe(1);
    } finally {
      await t.close();
    }
  });
});
