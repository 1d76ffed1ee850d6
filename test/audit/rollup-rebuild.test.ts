import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chain, queued } from '../../src/audit/audit.append.ts';
import { toEntryRow } from '../../src/audit/audit.entry.ts';
import { insertEntriesGuarded, readHead } from '../../src/audit/audit.repo.ts';
import { catchUpRollups } from '../../src/audit/audit.rollup.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { entry } from './helpers.ts';

const KEY = 'audit-hmac-key-audit-hmac-key-0123456789';
const DAY = 86_400_000;

/** Writes one batch at a chosen time through the writer's own statement. */
async function batchAt(t: TestApp, at: Date, n: number, tag: string): Promise<void> {
  const head = await readHead(t.db.sql);
  const rows = chain(
    Array.from({ length: n }, (_, i) =>
      queued(
        toEntryRow(
          entry({
            requestId: `${tag}-${i}`,
            event: i % 2 ? 'disclosure' : 'decision',
            effect: i % 3 === 0 ? 'deny' : 'allow',
            principal: { sub: `p-${i % 4}`, kind: 'user', roles: ['staff'], unit: '32.01' },
          }),
        ),
      ),
    ),
    head,
    at,
    KEY,
  );
  const [r] = await insertEntriesGuarded(t.db.sql, rows, head);
  expect(r?.n).toBe(rows.length);
}

const TABLES = ['audit_rollup', 'audit_rollup_month', 'audit_denied_month'] as const;

async function rollups(t: TestApp) {
  const out: Record<string, unknown[]> = {};
  for (const name of TABLES)
    out[name] = await t.db.sql`select * from ${t.db.sql(name)} order by 1, 2`.then((rows) =>
      rows.map((r) => ({ ...r })),
    );
  return out;
}

// docs/operations.md, "Upgrading": what an operator runs when instances from before migration 0012
// (which fold in their writer's statement) ran beside the catch-up job and counted entries twice.
describe.each(databaseKinds())('rebuilding the rollups after a double count (docs/operations.md) on %s', (kind) => {
  let t: TestApp;
  const now = new Date();
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const monthText = month.toISOString().slice(0, 10);

  beforeAll(async () => {
    t = await startApp(kind, { AUDIT_HMAC_KEY: KEY, AUDIT_ROLLUP_INTERVAL_MS: '0' });
    // The month before (the default partition takes it) and this month.
    await batchAt(t, new Date(month.getTime() - 10 * DAY), 30, 'before');
    await batchAt(t, new Date(month.getTime() - 1), 12, 'edge');
    await batchAt(t, new Date(month.getTime() + 1000), 30, 'this');
  });
  afterAll(async () => {
    await t.close();
  });

  it('the documented statements bring the rollups back to a single count of the log', async () => {
    await catchUpRollups(t.db.sql);
    const right = await rollups(t);
    expect(right.audit_rollup!.length).toBeGreaterThan(0);
    // The double count: this month's entries folded a second time (as an old writer's statement and the job would).
    const [first] = await t.db.sql<{ seq: string }[]>`select min(seq) as seq from audit_entry where at >= ${month}`;
    await t.db.sql`update audit_rollup_mark set seq = ${Number(first!.seq) - 1}`;
    await catchUpRollups(t.db.sql);
    expect(await rollups(t)).not.toEqual(right);
    await t.db.sql.begin(async (tx) => {
      await tx`select seq from audit_rollup_mark for update`;
      await tx.unsafe(`delete from audit_rollup where day >= date '${monthText}'`);
      await tx.unsafe(`delete from audit_rollup_month where month >= date '${monthText}'`);
      await tx.unsafe(`delete from audit_denied_month where month >= date '${monthText}'`);
      await tx.unsafe(
        `update audit_rollup_mark set seq = coalesce((select max(seq) from audit_entry where at < timestamptz '${monthText} 00:00:00+00'), 0)`,
      );
    });
    await catchUpRollups(t.db.sql);
    expect(await rollups(t)).toEqual(right);
  });
});
