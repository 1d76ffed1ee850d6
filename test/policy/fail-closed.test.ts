import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERSONAL_DATA } from '../../src/catalog/catalog.schema.ts';
import { kindOfCategory } from '../../src/catalog/label-rules.ts';
import type { Principal } from '../../src/identity/principal.ts';
import { evaluate } from '../../src/policy/conditions.ts';
import { createEngine, type Engine } from '../../src/policy/engine.ts';
import type { FieldDecision } from '../../src/policy/engine.types.ts';
import { loadPolicies } from '../../src/policy/loader.ts';
import { policyFilesIn } from '../../src/policy/policy-files.ts';
import type { ResourceResolver } from '../../src/policy/engine.types.ts';
import { swappable } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { startPolicyApp, token } from './harness.ts';

type App = Awaited<ReturnType<typeof startPolicyApp>>;

// Issue 14, observation 7: a field whose personal-data kind or label is not known is decided as the
// strictest case (omitted / denied, with a reason), on every path, whatever it is described by.
const dataset = {
  id: 'reports',
  ownerUnit: '32.01',
  classification: 'restricted',
  labelPending: false,
  labelVersion: 4,
  steward: 's',
  sourceSystem: null,
};
const complete = { name: 'category', classification: 'restricted', personalData: 'none', personalDataKind: 'none' };
/** Described without its personal-data kind or category: read as `none` before the fix. */
const noKind = { name: 'diagnosis', classification: 'restricted' };
/** Described by its category only: the kind follows from it (health is specific personal data). */
const categoryOnly = { name: 'illness', classification: 'restricted', personalData: 'health' };
const describedFields = [complete, noKind, categoryOnly];
const asField = (f: Record<string, unknown>) => ({ datasetId: 'reports', ownerUnit: '32.01', ...f });

describe.each(databaseKinds())('fail closed on unknown field kinds and labels on %s', (kind) => {
  let t: App;
  let staff: string, ppid: string, admin: string;
  const resources = swappable<ResourceResolver>();
  beforeAll(async () => {
    t = await startPolicyApp(kind, {}, { replace: { resources: resources.wrap } });
    staff = await token({ sub: 'staff-32', roles: ['staff'], unit: '32', purposes: ['pengawasan'] });
    ppid = await token({ sub: 'ppid-32', roles: ['ppid'], unit: '32', purposes: ['uji-konsekuensi'] });
    admin = await token({ sub: 'adm', roles: ['admin'], unit: 'RI', purposes: ['administrasi'] });
  });
  afterAll(() => t.close());

  const post = (tok: string, path: string, json: unknown) => t.request('POST', path, { token: tok, json });

  it('check by attributes: a dataset field without its kind is denied, one given by its category is decided by it', async () => {
    const r = await post(staff, '/v1/check', {
      action: 'read',
      resource: { type: 'Dataset', attributes: { ...dataset, fields: describedFields } },
      fields: ['category', 'diagnosis', 'illness'],
      purpose: 'pengawasan',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      allow: true,
      fields: { allowed: ['category'], masked: [], denied: ['diagnosis', 'illness'] },
    });
  });

  it('check by attributes: a Field without its kind or its label is denied, and the reason says why', async () => {
    // The PPID would get specific personal data pseudonymised: assuming "specific" is not enough.
    const noKindField = await post(ppid, '/v1/check', {
      action: 'read',
      resource: { type: 'Field', attributes: asField(noKind) },
      purpose: 'uji-konsekuensi',
    });
    expect(noKindField.status).toBe(200);
    expect(noKindField.body).toMatchObject({
      allow: false,
      ruleId: null,
      fields: { allowed: [], masked: [], denied: ['diagnosis'] },
    });
    expect(noKindField.body.reason).toMatch(/personal-data kind/);
    // Without a label the PPID's rule for unlabelled fields would grant it whole.
    const noLabel = await post(ppid, '/v1/check', {
      action: 'read',
      resource: {
        type: 'Field',
        attributes: asField({ name: 'category', personalData: 'none', personalDataKind: 'none' }),
      },
    });
    expect(noLabel.body).toMatchObject({ allow: false, ruleId: null });
    expect(noLabel.body.reason).toMatch(/classification/);
    const unknownLabel = await post(ppid, '/v1/check', {
      action: 'read',
      resource: { type: 'Field', attributes: asField({ ...complete, classification: 'secret' }) },
    });
    expect(unknownLabel.body).toMatchObject({ allow: false, ruleId: null });
    const unknownKind = await post(ppid, '/v1/check', {
      action: 'read',
      resource: { type: 'Field', attributes: asField({ ...complete, personalDataKind: 'sensitive' }) },
      purpose: 'uji-konsekuensi',
    });
    expect(unknownKind.body).toMatchObject({ allow: false, ruleId: null });
    // The same field described completely is allowed, so the denials above are about what is missing.
    const whole = await post(ppid, '/v1/check', {
      action: 'read',
      resource: { type: 'Field', attributes: asField(complete) },
    });
    expect(whole.body).toMatchObject({ allow: true, fields: { allowed: ['category'] } });
  });

  it('check by attributes: a dataset without its label is denied, whatever the rules say about null', async () => {
    const { classification: _, ...unlabelledUnsaid } = dataset;
    const r = await post(staff, '/v1/check', {
      action: 'read',
      resource: { type: 'Dataset', attributes: unlabelledUnsaid },
    });
    expect(r.body).toMatchObject({ allow: false, ruleId: null });
    expect(r.body.reason).toMatch(/classification/);
  });

  it('check by id: an incomplete field from the resolver is denied too', async () => {
    resources.use({
      resolve: async (type, id) =>
        type === 'Dataset' && id === 'reports' ? { ...dataset, fields: describedFields } : null,
    });
    try {
      const r = await post(staff, '/v1/check', {
        action: 'read',
        resource: { type: 'Dataset', id: 'reports' },
        fields: ['category', 'diagnosis'],
        purpose: 'pengawasan',
      });
      expect(r.body).toMatchObject({ allow: true, fields: { allowed: ['category'], denied: ['diagnosis'] } });
    } finally {
      resources.use(null);
    }
  });

  it('batch: each check fails closed the same way', async () => {
    const r = await post(staff, '/v1/check/batch', {
      checks: [
        {
          action: 'read',
          resource: { type: 'Dataset', attributes: { ...dataset, fields: describedFields } },
          fields: ['category', 'diagnosis'],
          purpose: 'pengawasan',
        },
        { action: 'read', resource: { type: 'Field', attributes: asField(noKind) }, purpose: 'pengawasan' },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.results[0]).toMatchObject({ allow: true, fields: { allowed: ['category'], denied: ['diagnosis'] } });
    expect(r.body.results[1]).toMatchObject({ allow: false, ruleId: null });
  });

  it('AuthZEN evaluation and evaluations: fields without their kind are denied', async () => {
    const ask = {
      subject: { type: 'user', id: 'staff-32' },
      action: { name: 'read' },
      resource: { type: 'dataset', id: 'reports', properties: { ...dataset, fields: describedFields } },
      context: { purpose: 'pengawasan', fields: ['category', 'diagnosis'] },
    };
    const one = await post(staff, '/access/v1/evaluation', ask);
    expect(one.status).toBe(200);
    expect(one.body.context.fields).toEqual({ allowed: ['category'], masked: [], denied: ['diagnosis'] });
    const field = await post(ppid, '/access/v1/evaluations', {
      subject: { type: 'user', id: 'ppid-32' },
      action: { name: 'read' },
      context: { purpose: 'uji-konsekuensi' },
      evaluations: [
        { resource: { type: 'field', id: 'reports/diagnosis', properties: asField(noKind) } },
        { resource: { type: 'field', id: 'reports/category', properties: asField(complete) } },
      ],
    });
    expect(field.body.evaluations.map((e: { decision: boolean }) => e.decision)).toEqual([false, true]);
    expect(field.body.evaluations[0].context.reason_admin.en).toMatch(/personal-data kind/);
  });

  it('plan: a Field plan never admits a field whose kind or label is unknown, nor sensitive data without a purpose', async () => {
    // `manage all` without purposes discloses no exempt or personal field (engine invariant): the plan must agree.
    const p = await post(admin, '/v1/plan', { action: 'read', resourceType: 'Field' });
    expect(p.status).toBe(200);
    expect(p.body.kind).toBe('conditional');
    const admits = (f: Record<string, unknown>) => evaluate(p.body.condition, f);
    expect(admits(asField(complete))).toBe(true);
    expect(admits(asField({ ...complete, classification: 'exempt' }))).toBe(false);
    expect(admits(asField({ ...complete, personalData: 'nik', personalDataKind: 'general' }))).toBe(false);
    expect(admits(asField({ ...complete, personalDataKind: undefined }))).toBe(false);
    expect(admits(asField({ ...complete, personalDataKind: 'sensitive' }))).toBe(false);
    expect(admits(asField({ ...complete, classification: 'secret' }))).toBe(false);
    expect(admits(asField({ ...complete, personalData: undefined }))).toBe(false);
    const { classification: _, ...unlabelled } = complete;
    expect(admits(asField(unlabelled))).toBe(false);
    const s = await post(staff, '/v1/plan', { action: 'read', resourceType: 'Field', purpose: 'pengawasan' });
    const publicField = asField({
      name: 'kecamatan',
      classification: 'public',
      personalData: 'none',
      personalDataKind: 'none',
    });
    expect(evaluate(s.body.condition, publicField)).toBe(true);
    // staff.field.read-public says `personalDataKind: { $ne: specific }`: an unsaid kind must not pass it.
    expect(evaluate(s.body.condition, { ...publicField, personalDataKind: undefined })).toBe(false);
  });
});

describe('a field described partly is never decided more permissively than described whole (property)', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = createEngine(await loadPolicies(await policyFilesIn('policies')()));
  });

  const UNITS = ['RI', '32', '32.01', '33'];
  const PURPOSES = ['pengawasan', 'uji-konsekuensi', 'penanganan-pelanggaran', 'administrasi'];
  const principal: fc.Arbitrary<Principal> = fc.record({
    sub: fc.constantFrom('u-1', 'u-2'),
    kind: fc.constant('user' as const),
    roles: fc.subarray(['public', 'staff', 'steward', 'ppid', 'auditor', 'service', 'admin'], {
      minLength: 1,
      maxLength: 3,
    }),
    unit: fc.constantFrom(...UNITS, null),
    purposes: fc.subarray(PURPOSES),
  });
  const completeField = fc
    .record({
      datasetId: fc.constant('d'),
      ownerUnit: fc.constantFrom('32.01', '33'),
      name: fc.constantFrom('a', 'nik'),
      classification: fc.constantFrom('public', 'restricted', 'exempt', null),
      personalData: fc.constantFrom(...PERSONAL_DATA),
    })
    .map((f) => ({ ...f, personalDataKind: kindOfCategory(f.personalData)! }));
  const KEYS = ['datasetId', 'ownerUnit', 'name', 'classification', 'personalData', 'personalDataKind'] as const;
  const junk = fc.constantFrom<unknown>('secret', 'sensitive', 'NONE', '', 0, true, null, ['none'], { $ne: 'x' });
  /** The complete description with some attributes left out, and some of the label and kind said wrongly. */
  const partial = (whole: Record<string, unknown>) =>
    fc
      .tuple(
        fc.subarray([...KEYS], { minLength: 0 }),
        fc.dictionary(fc.constantFrom('classification', 'personalData', 'personalDataKind'), junk),
      )
      .map(([drop, wrong]) => {
        // null is a label Jaga knows (unlabelled, which stewards may read to label it): another description, not a wrong one.
        if (wrong.classification === null) wrong.classification = 'secret';
        const f: Record<string, unknown> = { ...whole, ...wrong };
        for (const k of drop) delete f[k];
        return f;
      });
  const rank = (d: Pick<FieldDecision, 'outcome'> | undefined) =>
    d?.outcome === 'whole' ? 2 : d?.outcome === 'masked' ? 1 : 0;
  const changed = (a: Record<string, unknown>, b: Record<string, unknown>) =>
    KEYS.some((k) => !Object.is(a[k], b[k]) || Object.hasOwn(a, k) !== Object.hasOwn(b, k));

  it('on every path: a Field check, a dataset field, records’ decideFields and the Field plan', () => {
    fc.assert(
      fc.property(
        principal,
        fc.constantFrom(null, ...PURPOSES),
        completeField.chain((whole) => fc.tuple(fc.constant(whole), partial(whole))),
        (p, purpose, [whole, part]) => {
          const asField = (f: Record<string, unknown>) =>
            engine.decide({ principal: p, action: 'read', subject: 'Field', resource: f, purpose });
          const outcome = (d: ReturnType<typeof asField>) =>
            ({ outcome: d.fields.allowed.length ? 'whole' : d.fields.masked.length ? 'masked' : 'omitted' }) as const;
          const full = rank(outcome(asField(whole)));
          expect(rank(outcome(asField(part)))).toBeLessThanOrEqual(full);
          expect(rank(engine.decideFields(p, [part as never], purpose)[0])).toBeLessThanOrEqual(full);
          // In a dataset's `fields`, dataset id and owner come from the dataset, and a field's label may be inherited.
          const dataset = {
            id: whole.datasetId,
            ownerUnit: whole.ownerUnit,
            classification: whole.classification,
            labelPending: false,
            labelVersion: 1,
            steward: null,
            sourceSystem: null,
          };
          const inDataset = (f: Record<string, unknown>) => {
            const d = engine.decide({
              principal: p,
              action: 'read',
              subject: 'Dataset',
              resource: { ...dataset, fields: [{ ...f, name: whole.name }] },
              fields: [whole.name],
              purpose,
            });
            return rank({ outcome: d.fields.allowed.length ? 'whole' : d.fields.masked.length ? 'masked' : 'omitted' });
          };
          expect(inDataset(part)).toBeLessThanOrEqual(inDataset(whole));
          // The plan admits exactly the complete fields a check allows, and never a changed description it would not admit whole.
          const plan = engine.plan(p, 'read', 'Field', purpose);
          const admits = (f: Record<string, unknown>) =>
            plan.kind === 'conditional' ? evaluate(plan.condition, f) : plan.kind === 'always';
          expect(plan.kind).not.toBe('always');
          expect(admits(whole)).toBe(full > 0);
          if (changed(part, whole) && admits(part)) expect(admits(whole)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
