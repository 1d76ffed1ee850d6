import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntryInput, AuditLog } from '../../src/audit/audit.port.ts';
import type { ResourceResolver } from '../../src/policy/engine.types.ts';
import { registerPurposes, swappable } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { startPolicyApp, token } from './harness.ts';

type App = Awaited<ReturnType<typeof startPolicyApp>>;

/** Records what the decision API hands to the audit log. */
function recordingAudit() {
  const entries: (AuditEntryInput & { id: string })[] = [];
  const keep = async (e: AuditEntryInput) => {
    const id = crypto.randomUUID();
    entries.push({ ...e, id });
    return { id };
  };
  const log: AuditLog = {
    append: keep,
    appendDurable: keep,
    appendWithin: async () => ({ id: crypto.randomUUID() }),
  };
  return { log, entries };
}

const restricted32 = {
  id: 'reports',
  ownerUnit: '32.01',
  classification: 'restricted',
  labelPending: false,
  labelVersion: 4,
  steward: 's',
  sourceSystem: null,
};
const reportFields = [
  { name: 'category', classification: 'restricted', personalData: 'none', personalDataKind: 'none' },
  { name: 'nik', classification: 'restricted', personalData: 'nik', personalDataKind: 'general' },
  { name: 'diagnosis', classification: 'restricted', personalData: 'health', personalDataKind: 'specific' },
];

describe.each(databaseKinds())('decision API on %s', (kind) => {
  let t: App;
  let audit: ReturnType<typeof recordingAudit>;
  let staff: string, service: string, auditor: string, admin: string;
  const resources = swappable<ResourceResolver>();
  beforeAll(async () => {
    audit = recordingAudit();
    t = await startPolicyApp(
      kind,
      { CHECK_BATCH_MAX: '3' },
      { replace: { audit: () => audit.log, resources: resources.wrap } },
    );
    await registerPurposes(t, ['pengawasan']);
    staff = await token({ sub: 'staff-32', roles: ['staff'], unit: '32', purposes: ['pengawasan'] });
    service = await token({ sub: 'svc', roles: ['service'], unit: '32', kind: 'service' });
    auditor = await token({ sub: 'aud-32', roles: ['auditor'], unit: '32' });
    admin = await token({ sub: 'adm', roles: ['admin'], unit: 'RI' });
  });
  afterAll(() => t.close());

  const check = (tok: string | undefined, json: unknown, query = '') =>
    t.request('POST', `/v1/check${query}`, { ...(tok ? { token: tok } : {}), json });

  it('allows within the unit and denies outside it, both as 200 with the deciding rule', async () => {
    const inside = await check(staff, { action: 'read', resource: { type: 'Dataset', attributes: restricted32 } });
    expect(inside.status).toBe(200);
    expect(inside.body).toMatchObject({
      allow: true,
      ruleId: 'staff.dataset.read-unit',
      fields: { allowed: [], masked: [], denied: [] },
    });
    expect(inside.body.policyVersion).toMatch(/^[0-9a-f]{16}$/);
    const outside = await check(staff, {
      action: 'read',
      resource: { type: 'Dataset', attributes: { ...restricted32, ownerUnit: '33' } },
    });
    expect(outside.status).toBe(200);
    expect(outside.body).toMatchObject({ allow: false, ruleId: null, reason: 'no rule allows read on Dataset' });
  });

  it('hands every decision to the audit log; decisionId is the audit entry id', async () => {
    const before = audit.entries.length;
    const r = await check(staff, {
      action: 'read',
      resource: { type: 'Dataset', attributes: { ...restricted32, fields: reportFields } },
      fields: ['category', 'nik'],
      purpose: 'pengawasan',
    });
    expect(audit.entries.length).toBe(before + 1);
    const e = audit.entries.at(-1)!;
    expect(e.id).toBe(r.body.decisionId);
    expect(e).toMatchObject({
      event: 'decision',
      principal: { sub: 'staff-32', roles: ['staff'], unit: '32' },
      action: 'read',
      resource: { type: 'Dataset', id: 'reports', classification: 'restricted', labelVersion: 4 },
      effect: 'allow',
      ruleId: 'staff.dataset.read-unit',
      policyVersion: r.body.policyVersion,
      fields: { whole: ['category'], masked: ['nik'], omitted: [] },
      purpose: 'pengawasan',
    });
    expect(e.requestId).toBeTruthy();
  });

  it('decides fields one by one: whole, masked with its mask, or denied', async () => {
    const r = await check(staff, {
      action: 'read',
      resource: { type: 'Dataset', attributes: { ...restricted32, fields: reportFields } },
      fields: ['category', 'nik', 'diagnosis', 'unknown'],
      purpose: 'pengawasan',
    });
    expect(r.body).toMatchObject({
      allow: true,
      fields: { allowed: ['category'], masked: ['nik'], denied: ['diagnosis', 'unknown'] },
      masks: { nik: 'partial' },
    });
    const noPurpose = await check(staff, {
      action: 'read',
      resource: { type: 'Field', attributes: { ...reportFields[1], datasetId: 'reports', ownerUnit: '32.01' } },
    });
    expect(noPurpose.body.allow).toBe(false);
    expect(noPurpose.body.reason).toMatch(/purpose/);
  });

  it('a resource named by id uses the resolver; an unknown id is denied, never an error', async () => {
    const unknown = await check(staff, { action: 'read', resource: { type: 'Dataset', id: 'nope' } });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toMatchObject({ allow: false, reason: 'unknown resource', ruleId: null });
    resources.use({
      resolve: async (type, id) =>
        type === 'Dataset' && id === 'reports' ? { ...restricted32, fields: reportFields } : null,
    });
    try {
      // The caller's attributes do not override Jaga's current labels.
      const r = await check(staff, {
        action: 'read',
        resource: { type: 'Dataset', id: 'reports' },
        fields: ['nik'],
        purpose: 'pengawasan',
      });
      expect(r.body).toMatchObject({ allow: true, fields: { masked: ['nik'] } });
      expect(audit.entries.at(-1)!.resource).toMatchObject({ id: 'reports', labelVersion: 4 });
    } finally {
      resources.use(null);
    }
  });

  it('asks about another principal only when the caller is granted check (service role)', async () => {
    const about = { sub: 'u-33', roles: ['staff'], unit: '33' };
    const denied = await check(staff, {
      principal: about,
      action: 'read',
      resource: { type: 'Dataset', attributes: restricted32 },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('FORBIDDEN');
    const r = await check(service, {
      principal: about,
      action: 'read',
      resource: { type: 'Dataset', attributes: restricted32 },
    });
    expect(r.status).toBe(200);
    expect(r.body.allow).toBe(false); // u-33 is outside 32.01
    expect(audit.entries.at(-1)).toMatchObject({ principal: { sub: 'u-33', unit: '33' }, details: { askedBy: 'svc' } });
    const same = await check(staff, {
      principal: { sub: 'staff-32', roles: ['staff'], unit: '32', purposes: ['pengawasan'] },
      action: 'read',
      resource: { type: 'Dataset', attributes: restricted32 },
    });
    expect(same.body.allow).toBe(true);
  });

  it('explain: rules considered and the one that decided, only for roles that may read Policy', async () => {
    const r = await check(
      auditor,
      { action: 'read', resource: { type: 'Dataset', attributes: restricted32 } },
      '?explain=true',
    );
    expect(r.status).toBe(200);
    expect(r.body.explain.decidedBy).toBe('auditor.dataset.read-unit');
    expect(r.body.explain.considered).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ruleId: 'auditor.dataset.read-unit', matched: true, effect: 'allow' }),
      ]),
    );
    const refused = await check(
      staff,
      { action: 'read', resource: { type: 'Dataset', attributes: restricted32 } },
      '?explain=true',
    );
    expect(refused.status).toBe(403);
    expect(refused.text).not.toContain('staff.dataset');
  });

  it('validates input with the one error model', async () => {
    const r = await check(staff, { action: 'fly', resource: { type: 'Dataset' } });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('VALIDATION_FAILED');
    expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['body.action', 'body.resource']),
    );
  });

  it('batch: answers in order with one policy snapshot; more than CHECK_BATCH_MAX is 413', async () => {
    const checks = [
      { action: 'read', resource: { type: 'Dataset', attributes: restricted32 } },
      { action: 'read', resource: { type: 'Dataset', attributes: { ...restricted32, ownerUnit: '33' } } },
      { action: 'label', resource: { type: 'Dataset', attributes: restricted32 } },
    ];
    const r = await t.request('POST', '/v1/check/batch', { token: staff, json: { checks } });
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: { allow: boolean }) => x.allow)).toEqual([true, false, false]);
    expect(new Set(r.body.results.map((x: { policyVersion: string }) => x.policyVersion))).toEqual(
      new Set([r.body.policyVersion]),
    );
    expect(new Set(r.body.results.map((x: { decisionId: string }) => x.decisionId)).size).toBe(3);
    const tooMany = await t.request('POST', '/v1/check/batch', {
      token: staff,
      json: { checks: [...checks, checks[0]] },
    });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.code).toBe('BATCH_TOO_LARGE');
    const bad = await t.request('POST', '/v1/check/batch', {
      token: staff,
      json: { checks: [checks[0], { action: 'fly', resource: checks[0]!.resource }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('body.checks.1.action');
  });

  it('plan: always for admin, a condition for staff, never for what no rule allows', async () => {
    const a = await t.request('POST', '/v1/plan', { token: admin, json: { action: 'read', resourceType: 'Record' } });
    expect(a.body).toMatchObject({ kind: 'always' });
    const s = await t.request('POST', '/v1/plan', { token: staff, json: { action: 'read', resourceType: 'Record' } });
    expect(s.body.kind).toBe('conditional');
    expect(s.body.condition).toEqual({
      op: 'or',
      conditions: [
        {
          op: 'and',
          conditions: [
            { op: 'within', field: 'unit', value: '32' },
            { op: 'eq', field: 'classification', value: 'restricted' },
          ],
        },
        { op: 'eq', field: 'classification', value: 'public' },
      ],
    });
    expect(s.body.decisionId).toBe(audit.entries.at(-1)!.id);
    const n = await t.request('POST', '/v1/plan', {
      token: staff,
      json: { action: 'approve', resourceType: 'Dataset' },
    });
    expect(n.body).toMatchObject({ kind: 'never' });
  });

  it('AuthZEN evaluation: subject/action/resource/context to { decision, context }', async () => {
    const r = await t.request('POST', '/access/v1/evaluation', {
      token: staff,
      json: {
        subject: { type: 'user', id: 'staff-32' },
        action: { name: 'read' },
        resource: { type: 'dataset', id: 'reports', properties: restricted32 },
        context: { purpose: 'pengawasan' },
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.decision).toBe(true);
    expect(r.body.context.id).toBe(audit.entries.at(-1)!.id);
    expect(r.body.context.reason_admin.en).toMatch(/labelled datasets/);
    const other = await t.request('POST', '/access/v1/evaluation', {
      token: staff,
      json: {
        subject: { type: 'user', id: 'x', properties: { roles: ['admin'] } },
        action: { name: 'manage' },
        resource: { type: 'Unit', id: '32', properties: { code: '32' } },
      },
    });
    expect(other.status).toBe(403);
    const unknownAction = await t.request('POST', '/access/v1/evaluation', {
      token: staff,
      json: {
        subject: { type: 'user', id: 'staff-32' },
        action: { name: 'can_fly' },
        resource: { type: 'Dataset', id: 'reports' },
      },
    });
    expect(unknownAction.body.decision).toBe(false);
  });

  it('AuthZEN evaluations: defaults, per-item overrides, order, and the short-circuit semantics', async () => {
    const body = {
      // A user: a principal of kind service reads restricted data only under an agreement (docs/agreements.md).
      subject: { type: 'user', id: 'u-32', properties: { roles: ['staff'], unit: '32' } },
      action: { name: 'read' },
      evaluations: [
        { resource: { type: 'Dataset', id: 'a', properties: { ...restricted32, ownerUnit: '33' } } },
        { resource: { type: 'Dataset', id: 'b', properties: restricted32 } },
        { action: { name: 'label' }, resource: { type: 'Dataset', id: 'c', properties: restricted32 } },
      ],
    };
    const r = await t.request('POST', '/access/v1/evaluations', { token: service, json: body });
    expect(r.status).toBe(200);
    expect(r.body.evaluations.map((e: { decision: boolean }) => e.decision)).toEqual([false, true, false]);
    const first = await t.request('POST', '/access/v1/evaluations', {
      token: service,
      json: { ...body, options: { evaluations_semantic: 'deny_on_first_deny' } },
    });
    expect(first.body.evaluations.map((e: { decision: boolean }) => e.decision)).toEqual([false]);
    const permit = await t.request('POST', '/access/v1/evaluations', {
      token: service,
      json: { ...body, options: { evaluations_semantic: 'permit_on_first_permit' } },
    });
    expect(permit.body.evaluations.map((e: { decision: boolean }) => e.decision)).toEqual([false, true]);
    const { evaluations: _, ...single } = body;
    const one = await t.request('POST', '/access/v1/evaluations', {
      token: service,
      json: { ...single, resource: body.evaluations[1]!.resource },
    });
    expect(one.body).toMatchObject({ decision: true });
    const empty = await t.request('POST', '/access/v1/evaluations', {
      token: service,
      json: { ...body, evaluations: [] },
    });
    expect(empty.body).toEqual({ evaluations: [] });
  });

  it('the anonymous public is decided by the public role through the app itself', async () => {
    const r = await check(undefined, {
      action: 'read',
      resource: { type: 'Dataset', attributes: { ...restricted32, classification: 'public' } },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ allow: true, ruleId: 'public.dataset.read-public' });
    const restricted = await check(undefined, {
      action: 'read',
      resource: { type: 'Dataset', attributes: restricted32 },
    });
    expect(restricted.body.allow).toBe(false);
  });

  it('reports policies in /readyz', async () => {
    const r = await t.request('GET', '/readyz');
    expect(r.body.checks.policies).toMatchObject({ ok: true });
  });
});
