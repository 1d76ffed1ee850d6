import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toEntryRow } from '../../src/audit/audit.entry.ts';
import type { AuditEntryInput } from '../../src/audit/audit.port.ts';
import { deepFreeze } from '../../src/shared/deep-freeze.ts';

/**
 * toEntryRow checks a frozen principal, resource or fields object once (a remembered decision's
 * entry shares them between requests) and a mutable one every time: the rows, and the refusals,
 * must be the same either way.
 */
const id = fc.constantFrom('a', 'staff', 'ds-1', '32.01', 'bad id', '', 'x\0y', 'é');
const entryArb = fc.record({
  event: fc.constant('decision' as const),
  principal: fc.record({
    sub: fc.option(id, { nil: null }),
    kind: id,
    roles: fc.array(id, { maxLength: 3 }),
    unit: fc.option(id, { nil: null }),
  }),
  action: fc.constant('read'),
  resource: fc.record({
    type: id,
    id: fc.option(id, { nil: null }),
    classification: fc.option(fc.constantFrom('public', 'restricted', 'bad one'), { nil: null }),
    labelVersion: fc.option(fc.oneof(fc.integer({ min: -2, max: 2 ** 31 + 1 }), fc.double()), { nil: null }),
  }),
  effect: fc.constantFrom('allow' as const, 'deny' as const),
  ruleId: fc.option(id, { nil: null }),
  reason: fc.string(),
  policyVersion: fc.constant('v1'),
  fields: fc.option(
    fc.record({
      whole: fc.array(id, { maxLength: 3 }),
      masked: fc.array(id, { maxLength: 2 }),
      omitted: fc.array(id, { maxLength: 2 }),
    }),
    { nil: undefined },
  ),
  requestId: fc.constant('r1'),
}) as fc.Arbitrary<AuditEntryInput>;

const rowOrRefusal = (e: AuditEntryInput) => {
  try {
    return toEntryRow(e, 'id', new Date(0));
  } catch (error) {
    return { refused: (error as Error).message };
  }
};

describe('audit entry rows from frozen parts', () => {
  it('are the rows (and refusals) of the same entry unfrozen, the first time and every time after', () => {
    fc.assert(
      fc.property(entryArb, (e) => {
        const want = rowOrRefusal(structuredClone(e));
        const frozen = deepFreeze(structuredClone(e));
        for (let i = 0; i < 3; i++)
          expect(rowOrRefusal({ ...frozen, requestId: `r${i}` })).toEqual({
            ...want,
            ...('refused' in want ? {} : { requestId: `r${i}` }),
          });
      }),
      { numRuns: 300 },
    );
  });

  it('checks a mutable part again on every entry: a change after the first is refused', () => {
    const principal = { sub: 'u1', kind: 'user', roles: ['staff'], unit: '32' };
    const e: AuditEntryInput = {
      event: 'decision',
      principal,
      action: 'read',
      resource: { type: 'Dataset', id: 'ds-1' },
      effect: 'allow',
      ruleId: null,
      reason: 'ok',
      policyVersion: 'v1',
    };
    expect(toEntryRow(e).principalRoles).toEqual(['staff']);
    principal.roles.push('bad role');
    expect(() => toEntryRow(e)).toThrow(/principal.roles/);
  });
});
