import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/audit.verify.ts';
import { isName } from '../../src/shared/text.ts';
import type { GroupCommitLog } from '../../src/audit/audit.writer.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { entry } from './helpers.ts';

// Lists of names go to the database as hand-built array literals, unquoted when plain: whatever a
// name holds (NULL as a word, quotes, backslashes, braces, commas, non-ASCII), it must read back
// exactly as written and as hashed.
const tricky = fc.constantFrom(
  'NULL',
  'null',
  'Null',
  'a,b',
  'x"y',
  'a\\b',
  '{',
  '}',
  '{a}',
  'é',
  'nik',
  'kecamatan',
  'a:b.c-d_e',
);
const name = fc.oneof(
  tricky,
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((s) => isName(s)),
);
const names = fc.array(name, { maxLength: 4 });

describe.each(databaseKinds())('audit lists of names on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(kind);
  });
  afterAll(() => t.close());

  it('read back exactly as written, and the chain verifies', async () => {
    const log = t.deps.services.audit as GroupCommitLog;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(names, names, names, names), { minLength: 1, maxLength: 5 }),
        async (lists) => {
          const ids = await log.appendAll(
            lists.map(([roles, whole, masked, omitted]) =>
              entry({
                principal: { sub: 'u-1', kind: 'user', roles, unit: '32.01' },
                fields: { whole, masked, omitted },
              }),
            ),
            true,
          );
          const rows = await t.db.sql<
            {
              id: string;
              principal_roles: string[];
              fields_whole: string[];
              fields_masked: string[];
              fields_omitted: string[];
            }[]
          >`
          select id, principal_roles, fields_whole, fields_masked, fields_omitted from audit_entry where id = any(${ids}::uuid[])`;
          const byId = new Map(rows.map((r) => [r.id, r]));
          lists.forEach(([roles, whole, masked, omitted], i) => {
            expect(byId.get(ids[i]!)).toMatchObject({
              principal_roles: roles,
              fields_whole: whole,
              fields_masked: masked,
              fields_omitted: omitted,
            });
          });
        },
      ),
      { numRuns: 25 },
    );
    expect(await verifyChain(t.db.sql)).toMatchObject({ ok: true });
  });
});
