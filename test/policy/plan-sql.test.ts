import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { DomainError } from '../../src/shared/errors.ts';
import type { Principal } from '../../src/identity/principal.ts';
import { createEngine, type Engine } from '../../src/policy/engine.ts';
import type { Action, SubjectType } from '../../src/policy/engine.types.ts';
import { loadPolicies } from '../../src/policy/loader.ts';
import { policyFilesIn } from '../../src/policy/policy-files.ts';
import { conditionToSql, planToSql } from '../../src/policy/plan-sql.ts';
import { databaseKinds, freshDatabase } from '../helpers/databases.ts';

const UNITS = ['RI', '32', '32.01', '32.01.05', '33', '33.02', '11', '3_', '32x01'];
const CLASSES = ['public', 'restricted', 'exempt', null];
const STEWARDS = ['staff-32', 'someone', null];

interface Row {
  id: number;
  ownerUnit: string;
  unit: string;
  classification: string | null;
  labelPending: boolean;
  steward: string | null;
  proposedBy: string | null;
  /** Set per principal and purpose in decisions (src/agreements); here every value the policies name. */
  agreement: string | null;
}

const AGREEMENTS = ['active', 'whole', 'masked', 'NO_AGREEMENT', 'AGREEMENT_EXPIRED', 'PURPOSE_NOT_IN_AGREEMENT', null];

const rows: Row[] = [];
for (const ownerUnit of UNITS)
  for (const classification of CLASSES)
    for (const labelPending of [false, true])
      for (const steward of STEWARDS) {
        const n = rows.length;
        rows.push({
          id: n + 1,
          ownerUnit,
          unit: UNITS[(n * 7) % UNITS.length]!,
          classification,
          labelPending,
          steward,
          proposedBy: STEWARDS[(n * 5) % STEWARDS.length]!,
          agreement: AGREEMENTS[(n * 3) % AGREEMENTS.length]!,
        });
      }

describe.each(databaseKinds())('plan → SQL on %s', (kind) => {
  let db: Database;
  let engine: Engine;
  beforeAll(async () => {
    db = await freshDatabase(kind);
    const { sql } = db;
    await sql`create table plan_rows (id integer primary key, owner_unit text not null, unit text not null, classification text, label_pending boolean not null, steward text, proposed_by text, agreement text)`;
    await sql`insert into plan_rows ${sql(rows.map((r) => ({ id: r.id, owner_unit: r.ownerUnit, unit: r.unit, classification: r.classification, label_pending: r.labelPending, steward: r.steward, proposed_by: r.proposedBy, agreement: r.agreement })))}`;
    engine = createEngine(await loadPolicies(await policyFilesIn('policies')()));
  });
  afterAll(() => db.close());

  const columns = () => {
    const { sql } = db;
    return {
      id: sql`id::text`,
      ownerUnit: sql`owner_unit`,
      unit: sql`unit`,
      classification: sql`classification`,
      labelPending: sql`label_pending`,
      steward: sql`steward`,
      proposedBy: sql`proposed_by`,
      datasetId: sql`id::text`,
      agreement: sql`agreement`,
    };
  };

  const attributesOf = (r: Row, subject: SubjectType): Record<string, unknown> =>
    subject === 'Record'
      ? {
          datasetId: String(r.id),
          ownerUnit: r.ownerUnit,
          unit: r.unit,
          classification: r.classification,
          agreement: r.agreement,
        }
      : {
          id: String(r.id),
          ownerUnit: r.ownerUnit,
          classification: r.classification,
          labelPending: r.labelPending,
          labelVersion: 1,
          steward: r.steward,
          sourceSystem: null,
          datasetId: String(r.id),
          proposedBy: r.proposedBy,
          agreement: r.agreement,
        };

  it('returns exactly the rows the engine allows, for any principal, action and purpose', async () => {
    const principal = fc.record({
      sub: fc.constantFrom('staff-32', 'someone', 'other', null),
      kind: fc.constant('user' as const),
      roles: fc.subarray(['public', 'staff', 'steward', 'ppid', 'auditor', 'service', 'admin', 'nobody'], {
        minLength: 0,
        maxLength: 3,
      }),
      unit: fc.constantFrom(...UNITS, null),
      purposes: fc.subarray(['pengawasan', 'uji-konsekuensi', 'penanganan-pelanggaran']),
    });
    await fc.assert(
      fc.asyncProperty(
        principal,
        fc.constantFrom<Action>('read', 'create', 'update', 'label', 'approve', 'ingest'),
        fc.constantFrom<SubjectType>('Dataset', 'Record', 'Label'),
        fc.constantFrom(null, 'pengawasan', 'uji-konsekuensi', 'marketing'),
        async (p: Principal, action, subject, purpose) => {
          const plan = engine.plan(p, action, subject, purpose);
          const expected = rows
            .filter(
              (r) =>
                engine.decide({ principal: p, action, subject, resource: attributesOf(r, subject), purpose }).allow,
            )
            .map((r) => r.id);
          const { sql } = db;
          const got =
            plan.kind === 'never'
              ? []
              : (
                  await sql<
                    { id: number }[]
                  >`select id from plan_rows where ${planToSql(sql, plan, columns())} order by id`
                ).map((r) => r.id);
          expect(got, JSON.stringify({ p, action, subject, purpose, plan })).toEqual(expected);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('keeps NULL two-valued under not, and escapes LIKE wildcards in unit codes', async () => {
    const { sql } = db;
    const ids = async (c: Parameters<typeof conditionToSql>[1]) =>
      (
        await sql<{ id: number }[]>`select id from plan_rows where ${conditionToSql(sql, c, columns())} order by id`
      ).map((r) => r.id);
    const nullClass = rows.filter((r) => r.classification === null).map((r) => r.id);
    expect(await ids({ op: 'not', condition: { op: 'eq', field: 'classification', value: 'public' } })).toEqual(
      rows.filter((r) => r.classification !== 'public').map((r) => r.id),
    );
    expect(await ids({ op: 'in', field: 'classification', value: [null] })).toEqual(nullClass);
    expect(await ids({ op: 'nin', field: 'classification', value: ['public', 'restricted', 'exempt'] })).toEqual(
      nullClass,
    );
    expect(await ids({ op: 'within', field: 'ownerUnit', value: '3_' })).toEqual(
      rows.filter((r) => r.ownerUnit === '3_').map((r) => r.id),
    );
    expect(await ids({ op: 'within', field: 'ownerUnit', value: '32' })).toEqual(
      rows.filter((r) => ['32', '32.01', '32.01.05'].includes(r.ownerUnit)).map((r) => r.id),
    );
  });

  it('refuses what it cannot translate exactly (PLAN_NOT_TRANSLATABLE), and never is false', () => {
    const { sql } = db;
    expect(() => conditionToSql(sql, { op: 'eq', field: 'title', value: 'x' }, columns())).toThrow(DomainError);
    try {
      void conditionToSql(sql, { op: 'regex', field: 'unit', value: '.*' } as never, columns());
      throw new Error('translated');
    } catch (error) {
      expect((error as DomainError).code).toBe('PLAN_NOT_TRANSLATABLE');
    }
    expect(() => conditionToSql(sql, { op: 'eq', field: 'constructor', value: 'x' }, columns())).toThrow(/no column/);
    expect(() => conditionToSql(sql, { op: 'eq', field: 'unit', value: { $gt: 1 } }, columns())).toThrow(
      /not a scalar/,
    );
  });
});
