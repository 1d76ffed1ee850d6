import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agreementAttributes } from '../../src/agreements/agreement.attributes.ts';
import { NO_SHARING } from '../../src/agreements/agreement.model.ts';
import type { AuditEntryInput, AuditLog } from '../../src/audit/audit.port.ts';
import { exemptionIndex, purposeRegister } from '../../src/catalog/catalog.snapshot.ts';
import type { Principal } from '../../src/identity/principal.ts';
import type { CheckInput } from '../../src/policy/decision.schema.ts';
import { createDecisionService, type CallContext } from '../../src/policy/decision.service.ts';
import type { ExemptionIndex } from '../../src/policy/citations.ts';
import type { ResourceResolver } from '../../src/policy/engine.types.ts';
import { policyFilesIn } from '../../src/policy/policy-files.ts';
import { createPolicyService } from '../../src/policy/policy.service.ts';
import { governedByPurposes, type PurposeRegister } from '../../src/policy/purpose-register.ts';
import { deepFreeze } from '../../src/shared/deep-freeze.ts';
import { createLogger } from '../../src/system/logger.ts';

/**
 * Checks by id remember their decisions (decision.service.ts, DecisionMemo). A remembered decision
 * must be exactly the one a fresh evaluation gives, and must never outlive what it was decided on.
 */

/** An audit log that keeps what it is handed. */
function recordingLog(): AuditLog & { entries: AuditEntryInput[] } {
  const entries: AuditEntryInput[] = [];
  let n = 0;
  const id = () => `e${++n}`;
  return {
    entries,
    append: async (e) => (entries.push(e), { id: id() }),
    appendDurable: async (e) => (entries.push(e), { id: id() }),
    appendAll: async (list) => list.map((e) => (entries.push(e), id())),
    appendWithin: async (_tx, e) => (entries.push(e), { id: id() }),
  };
}

const STAFF_LABEL_RULE = `
  - id: staff.dataset.label-added
    action: label
    subject: Dataset
    conditions: { ownerUnit: { $within: '\${principal.unit}' } }
    reason: Added by a reload.
`;
const CLASSIFICATION = ['public', 'restricted', 'exempt'] as const;
const CATEGORIES = ['none', 'name', 'nik', 'health', 'phone'] as const;
const KIND = { none: 'none', name: 'general', phone: 'general', nik: 'specific', health: 'specific' } as const;
const DATASETS = ['d1', 'd2', 'd3'];
const FIELDS = ['a', 'b', 'c', 'nik'];
const PURPOSES = ['pengawasan', 'statistik', 'tidak-terdaftar'];

/** A catalog as the snapshot holds it: frozen objects, the same object for a resource until it reloads. */
const catalogArb = fc.record({
  datasets: fc.tuple(
    ...DATASETS.map((id) =>
      fc.record({
        id: fc.constant(id),
        ownerUnit: fc.constantFrom('32', '32.01', '31'),
        classification: fc.constantFrom(...CLASSIFICATION),
        labelVersion: fc.integer({ min: 1, max: 9 }),
        fields: fc.tuple(
          ...FIELDS.map((name) =>
            fc.record({
              name: fc.constant(name),
              classification: fc.constantFrom(...CLASSIFICATION),
              personalData: fc.constantFrom(...CATEGORIES),
            }),
          ),
        ),
      }),
    ),
  ),
});
type CatalogGen = typeof catalogArb extends fc.Arbitrary<infer T> ? T : never;

function resolverOf(catalog: CatalogGen): ResourceResolver {
  const held = new Map<string, Record<string, unknown>>();
  for (const d of catalog.datasets) {
    const fields = d.fields.map((f) =>
      Object.freeze({
        datasetId: d.id,
        ownerUnit: d.ownerUnit,
        name: f.name,
        classification: f.classification,
        personalData: f.personalData,
        personalDataKind: KIND[f.personalData],
      }),
    );
    held.set(
      `Dataset:${d.id}`,
      Object.freeze({
        id: d.id,
        ownerUnit: d.ownerUnit,
        classification: d.classification,
        labelPending: false,
        labelVersion: d.labelVersion,
        steward: 'steward-32',
        sourceSystem: null,
        fields: Object.freeze(fields),
      }),
    );
    for (const f of fields) held.set(`Field:${d.id}/${f.name}`, Object.freeze({ ...f, labelVersion: d.labelVersion }));
  }
  return { resolve: async (type, id) => held.get(`${type}:${id}`) ?? null };
}

const principalArb: fc.Arbitrary<Principal> = fc.record({
  // Mostly one sub and kind, so principals differing only in roles, unit or purposes meet.
  sub: fc.constantFrom('u1', 'u1', 'u1', null),
  kind: fc.constantFrom('user', 'user', 'user', 'service', 'anonymous'),
  roles: fc.subarray(['staff', 'steward', 'ppid', 'public', 'service']),
  unit: fc.constantFrom('32', '32.01', null),
  purposes: fc.subarray(PURPOSES),
}) as fc.Arbitrary<Principal>;

const PARTS = ['sub', 'kind', 'roles', 'unit', 'purposes'] as const;
/** Three principals: one, and two that differ from it in one part each. */
const poolArb = fc
  .tuple(principalArb, principalArb, fc.constantFrom(...PARTS), principalArb, fc.constantFrom(...PARTS))
  .map(
    ([base, a, partA, b, partB]) =>
      [base, { ...base, [partA]: a[partA] }, { ...base, [partB]: b[partB] }].map((p) =>
        deepFreeze({ ...p, roles: [...p.roles], purposes: [...p.purposes] }),
      ) as Principal[],
  );

/**
 * A check: who (an index into the run's few principals: the caller's own, or asked about by an
 * administrator), and few enough resources, fields and purposes that checks differing in one
 * part only are common (a key that left that part out would answer one with the other's decision).
 */
const questionArb = fc.record({
  field: fc.boolean(),
  dataset: fc.constantFrom('d1', 'd2', 'missing'),
  name: fc.constantFrom('a', 'nik'),
  action: fc.constantFrom('read', 'update'),
  fields: fc.option(fc.subarray(['a', 'nik', 'unknown']), { nil: undefined }),
  purpose: fc.option(fc.constantFrom(...PURPOSES), { nil: undefined }),
});

type Check = typeof questionArb extends fc.Arbitrary<infer T> ? T : never;
const inputOf = (c: Check, about: Principal | null): CheckInput =>
  ({
    action: c.action,
    resource: c.field ? { type: 'Field', id: `${c.dataset}/${c.name}` } : { type: 'Dataset', id: c.dataset },
    ...(c.fields && !c.field ? { fields: c.fields } : {}),
    ...(c.purpose ? { purpose: c.purpose } : {}),
    ...(about ? { principal: { ...about } } : {}),
  }) as CheckInput;

async function services(
  register: () => PurposeRegister | null,
  exemptions: () => ExemptionIndex | null,
  resources: ResourceResolver,
  dir = 'policies',
) {
  const policy = createPolicyService({ read: policyFilesIn(dir), logger: createLogger('silent') });
  expect((await policy.reload()).ok).toBe(true);
  const governed = governedByPurposes(policy, register, exemptions);
  const context = agreementAttributes({ naming: async () => [], sharing: async () => NO_SHARING }, () =>
    Date.UTC(2026, 11, 3),
  );
  const memoLog = recordingLog();
  const freshLog = recordingLog();
  return {
    policy,
    memoLog,
    freshLog,
    memo: createDecisionService({ policy: governed, audit: memoLog, resources, context }),
    fresh: createDecisionService({ policy: governed, audit: freshLog, resources, context }, { memoMax: 0 }),
  };
}

// Whoever asks: an administrator may ask about others (the entry then names the asker).
const admin: Principal = deepFreeze({ sub: 'admin-1', kind: 'user', roles: ['admin'], unit: '32', purposes: [] });
const ctxOf = (caller: Principal, n: number): CallContext => ({
  caller,
  requestId: `r${n}`,
  traceId: null,
  explain: false,
});
const withoutIds = (entry: AuditEntryInput) => ({ ...entry, requestId: null, traceId: null });

describe('remembered decisions of checks by id', () => {
  it('give the same answers and audit entries as a fresh evaluation, asked again and again', async () => {
    await fc.assert(
      fc.asyncProperty(
        catalogArb,
        fc.array(fc.constantFrom(...PURPOSES.slice(0, 2)), { maxLength: 2 }),
        // A few questions, each asked by a few principals: checks differing in one part are common.
        fc.array(questionArb, { minLength: 1, maxLength: 3 }),
        fc.array(fc.record({ who: fc.nat(2), q: fc.nat(2), onBehalf: fc.boolean(), reuse: fc.boolean() }), {
          minLength: 1,
          maxLength: 30,
        }),
        poolArb,
        async (catalog, registered, questions, checks, pool) => {
          const register = purposeRegister(
            registered.map((id) => ({
              id,
              lawful_basis: 'public_task',
              datasets: id === 'statistik' ? ['d1'] : [],
              categories: [],
            })),
          );
          const exemptions = exemptionIndex([
            { dataset_id: 'd2', field_name: null, dik_no: 'DIK/1/2026/1', grounds: ['17a'], statute: null },
          ]);
          const s = await services(
            () => register,
            () => exemptions,
            resolverOf(catalog as CatalogGen),
          );
          let n = 0;
          const same = new Map<string, CheckInput>();
          const reused = (key: string, make: () => CheckInput) => same.get(key) ?? same.set(key, make()).get(key)!;
          // Each check three times on the remembering service (the later ones mostly from memory), each against a fresh evaluation.
          for (let round = 0; round < 3; round++) {
            for (const c of checks) {
              const who = pool[c.who]!;
              const caller = c.onBehalf ? admin : who;
              // Frozen and asked again as the same object (as remembered bodies and cached principals
              // are), or built afresh: both ways to the memo's key.
              const input = c.reuse
                ? reused(`${c.q}/${c.onBehalf ? c.who : 'caller'}`, () =>
                    deepFreeze(inputOf(questions[c.q % questions.length]!, c.onBehalf ? who : null)),
                  )
                : inputOf(questions[c.q % questions.length]!, c.onBehalf ? who : null);
              const ctx = ctxOf(caller, n++);
              const { decisionId: _a, ...got } = await s.memo.check(ctx, input);
              const { decisionId: _b, ...want } = await s.fresh.check(ctx, input);
              expect(got).toEqual(want);
              expect(withoutIds(s.memoLog.entries.at(-1)!)).toEqual(withoutIds(s.freshLog.entries.at(-1)!));
              expect(s.memoLog.entries.at(-1)!.requestId).toBe(ctx.requestId);
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('never answers one question with the decision of another that differs only in its action, fields or purpose', async () => {
    // Every question over a small space, each asked right after its neighbours: a key that left out
    // the action, the fields or the purpose would answer a neighbour from memory and differ from a
    // fresh evaluation.
    const all: Check[] = [];
    for (const field of [false, true])
      for (const dataset of ['d1', 'd2'] as const)
        for (const name of ['a', 'nik'] as const)
          for (const action of ['read', 'update'] as const)
            for (const fields of [undefined, ['a'], ['a', 'nik']])
              for (const purpose of [undefined, ...PURPOSES])
                all.push({ field, dataset, name, action, fields, purpose });
    await fc.assert(
      fc.asyncProperty(catalogArb, poolArb, async (catalog, pool) => {
        const register = purposeRegister([
          { id: 'pengawasan', lawful_basis: 'public_task', datasets: [], categories: [] },
          { id: 'statistik', lawful_basis: 'public_task', datasets: ['d1'], categories: [] },
        ]);
        const s = await services(
          () => register,
          () => null,
          resolverOf(catalog as CatalogGen),
        );
        let n = 0;
        let differing = 0;
        for (const who of pool) {
          if (who.kind === 'service') continue;
          let previous: unknown = null;
          for (const q of all) {
            const input = deepFreeze(inputOf(q, null));
            const ctx = ctxOf(who, n++);
            const { decisionId: _a, ...got } = await s.memo.check(ctx, input);
            const { decisionId: _b, ...want } = await s.fresh.check(ctx, input);
            expect(got).toEqual(want);
            if (previous !== null && JSON.stringify(previous) !== JSON.stringify(want)) differing++;
            previous = want;
          }
        }
        // The space is worth walking only if neighbouring questions are decided differently.
        if (pool.some((p) => p.kind !== 'service')) expect(differing).toBeGreaterThan(0);
      }),
      { numRuns: 25 },
    );
  });

  it('remembers per caller whether it may ask about others: refused every time for staff, allowed for a service', async () => {
    const s = await services(
      () => null,
      () => null,
      resolverOf({ datasets: [] } as unknown as CatalogGen),
    );
    const staff: Principal = deepFreeze({ sub: 'st', kind: 'user', roles: ['staff'], unit: '32', purposes: [] });
    const service: Principal = deepFreeze({
      sub: 'svc',
      kind: 'service',
      roles: ['service'],
      unit: '32',
      purposes: [],
    });
    const about: CheckInput = {
      principal: { sub: 'u-33', roles: ['staff'], unit: '33' },
      action: 'read',
      resource: { type: 'Dataset', id: 'd1' },
    } as CheckInput;
    for (let i = 0; i < 2; i++) {
      await expect(s.memo.check(ctxOf(staff, i), about)).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect((await s.memo.check(ctxOf(service, i), about)).reason).toBe('unknown resource');
    }
  });

  it('answers from a new policy set at once after a reload, and from a new register or exemption index', async () => {
    let register = purposeRegister([{ id: 'pengawasan', lawful_basis: 'public_task', datasets: [], categories: [] }]);
    let exemptions = exemptionIndex([]);
    const catalog = {
      datasets: DATASETS.map((id) => ({
        id,
        ownerUnit: '32',
        classification: id === 'd3' ? ('exempt' as const) : ('restricted' as const),
        labelVersion: 1,
        fields: FIELDS.map((name) => ({
          name,
          classification: 'restricted' as const,
          personalData: (name === 'nik' ? 'nik' : 'none') as (typeof CATEGORIES)[number],
        })),
      })),
    };
    const s = await services(
      () => register,
      () => exemptions,
      resolverOf(catalog as unknown as CatalogGen),
    );
    const steward: Principal = { sub: 's1', kind: 'user', roles: ['steward'], unit: '32', purposes: ['pengawasan'] };
    const ctx = ctxOf(steward, 1);
    const nik: CheckInput = {
      action: 'read',
      resource: { type: 'Field', id: 'd1/nik' },
      purpose: 'pengawasan',
    } as CheckInput;
    expect((await s.memo.check(ctx, nik)).allow).toBe(true);
    expect((await s.memo.check(ctx, nik)).allow).toBe(true); // from memory

    // The purpose leaves the register: the remembered allow must not be used.
    register = purposeRegister([]);
    const after = await s.memo.check(ctx, nik);
    expect(after.allow).toBe(false);
    expect(after.reason).toContain('not in the register of processing purposes');

    // An exempt dataset's DIK record is opened: refusals now cite it, remembered or not.
    const anon: Principal = { sub: null, kind: 'anonymous', roles: ['public'], unit: null, purposes: [] };
    const ds: CheckInput = { action: 'read', resource: { type: 'Dataset', id: 'd3' } } as CheckInput;
    const before = await s.memo.check(ctxOf(anon, 2), ds);
    expect(before.allow).toBe(false);
    expect((await s.memo.check(ctxOf(anon, 3), ds)).reason).toBe(before.reason);
    expect(before.reason).not.toContain('DIK/9/2026/1');
    exemptions = exemptionIndex([
      { dataset_id: 'd3', field_name: null, dik_no: 'DIK/9/2026/1', grounds: ['17a'], statute: null },
    ]);
    expect((await s.memo.check(ctxOf(anon, 4), ds)).reason).toContain('DIK/9/2026/1');

    // A policy reload that changes a decision: nothing remembered from the old set is used.
    const dir = mkdtempSync(join(tmpdir(), 'jaga-memo-policies-'));
    try {
      cpSync('policies', dir, { recursive: true });
      const s3 = await services(
        () => register,
        () => exemptions,
        resolverOf(catalog as unknown as CatalogGen),
        dir,
      );
      const staff: Principal = { sub: 'st', kind: 'user', roles: ['staff'], unit: '32', purposes: [] };
      const label: CheckInput = { action: 'label', resource: { type: 'Dataset', id: 'd1' } } as CheckInput;
      expect((await s3.memo.check(ctxOf(staff, 7), label)).allow).toBe(false);
      expect((await s3.memo.check(ctxOf(staff, 8), label)).allow).toBe(false); // from memory
      writeFileSync(join(dir, 'staff.yaml'), readFileSync(join(dir, 'staff.yaml'), 'utf8') + STAFF_LABEL_RULE);
      expect(await s3.policy.reload()).toMatchObject({ ok: true, changed: true });
      expect(await s3.memo.check(ctxOf(staff, 9), label)).toMatchObject({
        allow: true,
        ruleId: 'staff.dataset.label-added',
        policyVersion: s3.policy.current().version,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
