import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/identity/principal.ts';
import { createEngine } from '../../src/policy/engine.ts';
import type { FieldAttributes } from '../../src/policy/engine.types.ts';
import { loadPolicies } from '../../src/policy/loader.ts';
import { policyFilesIn } from '../../src/policy/policy-files.ts';

const staff: Principal = { sub: 'staff-32', kind: 'user', roles: ['staff'], unit: '32', purposes: ['pengawasan'] };
const field = (name: string, over: Partial<FieldAttributes> = {}): FieldAttributes => ({
  datasetId: 'd',
  ownerUnit: '32.01',
  name,
  classification: 'restricted',
  personalData: 'none',
  personalDataKind: 'none',
  ...over,
});
const one = (name: string, text: string) => loadPolicies([{ name, text }]);

describe('policy engine', () => {
  it('never takes a record-level allow to mean every field (CASL field trap)', async () => {
    const e = createEngine(
      await one(
        'r.yaml',
        `role: r
rules:
  - { id: r.title, action: read, subject: Label, fields: [datasetId, ownerUnit], reason: only some attributes }
`,
      ),
    );
    const p = { ...staff, roles: ['r'] };
    const d = e.decide({
      principal: p,
      action: 'read',
      subject: 'Label',
      resource: { ownerUnit: '32', classification: 'public' },
      fields: ['datasetId', 'steward'],
    });
    expect(d.allow).toBe(true); // CASL: a rule restricted to fields still allows the record
    expect(d.fields).toEqual({ allowed: ['datasetId'], masked: [], denied: ['steward'] });
  });

  it('decideFields: whole, masked with the mask, omitted with a reason that says a purpose is required', async () => {
    const e = createEngine(await loadPolicies(await policyFilesIn('policies')()));
    const fields = [
      field('category'),
      field('nik', { personalData: 'nik', personalDataKind: 'general' }),
      field('diagnosis', { personalData: 'health', personalDataKind: 'specific' }),
      field('x', { classification: null }),
    ];
    const withPurpose = e.decideFields(staff, fields, 'pengawasan');
    expect(withPurpose.map((d) => [d.field, d.outcome, d.mask ?? null])).toEqual([
      ['category', 'whole', null],
      ['nik', 'masked', 'partial'],
      ['diagnosis', 'omitted', null],
      ['x', 'omitted', null],
    ]);
    expect(withPurpose[0]!.ruleId).toBe('staff.field.read-unit');
    const none = e.decideFields(staff, fields, null);
    expect(none[1]).toMatchObject({ outcome: 'omitted', ruleId: null });
    expect(none[1]!.reason).toBe('reading personal data needs a purpose: a declared purpose is required');
    const notHeld = e.decideFields(staff, fields, 'marketing');
    expect(notHeld[1]!.reason).toBe(
      'reading personal data needs a purpose: purpose "marketing" is not one the principal holds',
    );
  });

  it('a broad allow without purposes never discloses exempt or non-public personal data', async () => {
    const e = createEngine(
      await one('r.yaml', 'role: r\nrules:\n  - { id: r.all, action: manage, subject: all, reason: everything }\n'),
    );
    const p = { ...staff, roles: ['r'] };
    const out = e.decideFields(
      p,
      [
        field('a'),
        field('b', { classification: 'exempt' }),
        field('c', { personalDataKind: 'general' }),
        field('d', { classification: 'public', personalDataKind: 'general' }),
      ],
      'pengawasan',
    );
    expect(out.map((d) => d.outcome)).toEqual(['whole', 'omitted', 'omitted', 'whole']);
  });

  it('inverted rules win over allows, across roles', async () => {
    const e = createEngine(
      await loadPolicies([
        { name: 'a.yaml', text: 'role: a\nrules:\n  - { id: a.read, action: read, subject: Dataset, reason: yes }\n' },
        {
          name: 'b.yaml',
          text: 'role: b\nrules:\n  - { id: b.no, action: read, subject: Dataset, inverted: true, conditions: { classification: exempt }, reason: never exempt }\n',
        },
      ]),
    );
    const p = { ...staff, roles: ['a', 'b'] };
    expect(
      e.decide({ principal: p, action: 'read', subject: 'Dataset', resource: { classification: 'exempt' } }),
    ).toMatchObject({ allow: false, ruleId: 'b.no', reason: 'never exempt' });
    expect(
      e.decide({ principal: p, action: 'read', subject: 'Dataset', resource: { classification: 'public' } }).allow,
    ).toBe(true);
    expect(e.plan(p, 'read', 'Dataset')).toEqual({
      kind: 'conditional',
      condition: { op: 'not', condition: { op: 'eq', field: 'classification', value: 'exempt' } },
    });
  });

  it('substitutes placeholders as data: a unit or sub full of operators matches nothing more', async () => {
    const e = createEngine(
      await one(
        'r.yaml',
        `role: r
rules:
  - { id: r.unit, action: read, subject: Dataset, conditions: { ownerUnit: { $within: '\${principal.unit}' } }, reason: unit }
  - { id: r.own, action: update, subject: Dataset, conditions: { steward: '\${principal.sub}' }, reason: own }
`,
      ),
    );
    const evil: Principal = { sub: '{"$ne":null}', kind: 'user', roles: ['r'], unit: '{"$ne":null}', purposes: [] };
    expect(
      e.decide({
        principal: evil,
        action: 'read',
        subject: 'Dataset',
        resource: { ownerUnit: '32', classification: null },
      }).allow,
    ).toBe(false);
    expect(
      e.decide({
        principal: evil,
        action: 'update',
        subject: 'Dataset',
        resource: { steward: 'someone', classification: null },
      }).allow,
    ).toBe(false);
    expect(
      e.decide({
        principal: evil,
        action: 'update',
        subject: 'Dataset',
        resource: { steward: '{"$ne":null}', classification: null },
      }).allow,
    ).toBe(true);
    const noUnit = { ...evil, unit: null };
    expect(e.plan(noUnit, 'read', 'Dataset')).toEqual({
      kind: 'conditional',
      condition: { op: 'in', field: 'ownerUnit', value: [] },
    });
  });

  it('caches one ability per principal shape, bounded; sub is part of the shape only when a rule names it', async () => {
    const set = await loadPolicies(await policyFilesIn('policies')());
    const e = createEngine(set, { cacheMax: 2 });
    for (const unit of ['11', '12', '13', '32']) {
      expect(
        e.decide({
          principal: { ...staff, unit },
          action: 'read',
          subject: 'Dataset',
          resource: { ownerUnit: '32', classification: 'restricted' },
        }).allow,
      ).toBe(unit === '32');
    }
    // Still right after evictions.
    expect(
      e.decide({
        principal: { ...staff, unit: '11' },
        action: 'read',
        subject: 'Dataset',
        resource: { ownerUnit: '11', classification: 'restricted' },
      }).allow,
    ).toBe(true);
    // staff.dataset.read-own names ${principal.sub}: two subs, two answers.
    const own = { ownerUnit: '99', classification: null, steward: 'staff-32' };
    expect(e.decide({ principal: staff, action: 'read', subject: 'Dataset', resource: own }).allow).toBe(true);
    expect(
      e.decide({ principal: { ...staff, sub: 'other' }, action: 'read', subject: 'Dataset', resource: own }).allow,
    ).toBe(false);
  });

  it('a principal whose roles are not in the policy set is denied everything', async () => {
    const e = createEngine(await loadPolicies(await policyFilesIn('policies')()));
    const p = { ...staff, roles: ['superuser'] };
    expect(
      e.decide({ principal: p, action: 'read', subject: 'Dataset', resource: { classification: 'public' } }).allow,
    ).toBe(false);
    expect(e.plan(p, 'read', 'Record')).toEqual({ kind: 'never' });
  });
});
