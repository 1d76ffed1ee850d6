import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNodePostgres } from '../../src/db/open.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { createLabelled } from '../records/setup.ts';
import { principals } from '../records/records-app.ts';
import { Cluster } from './cluster.ts';

/**
 * The catalog snapshot's LISTEN connection across a PostgreSQL restart: Jaga keeps running, and
 * once PostgreSQL is back, other writers' catalog changes reach it by notification again. The
 * staleness bound is set far beyond the test, so the periodic version read cannot be what passes it.
 */
describe.runIf(databaseKinds().includes('postgres'))('catalog notifications across a PostgreSQL restart', () => {
  let cluster: Cluster;
  let t: TestApp;
  let admin: postgres.Sql;
  let who: Awaited<ReturnType<typeof principals>>;

  const allowed = async () =>
    (
      await t.request('POST', '/v1/check', {
        token: who.staff33,
        json: { action: 'read', resource: { type: 'Dataset', id: 'restart-ds' } },
      })
    ).body?.allow;
  const listening = async () =>
    (
      await admin<
        { n: number }[]
      >`select count(*)::int as n from pg_stat_activity where query ilike 'listen %jaga_catalog%'`
    )[0]!.n;
  const within = async (ms: number, ok: () => Promise<boolean>) => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      if (await ok().catch(() => false)) return true;
      await new Promise((r) => setTimeout(r, 25));
    }
    return false;
  };

  beforeAll(async () => {
    cluster = new Cluster();
    t = await startApp(
      'postgres',
      { CATALOG_SNAPSHOT_MAX_STALE_MS: '600000', DATABASE_DEADLINE_MS: '2000' },
      { db: connectNodePostgres(cluster.url, { max: 4 }) },
    );
    admin = postgres(cluster.url, { max: 1, onnotice: () => {} });
    who = await principals();
    await createLabelled(t, who.steward32, 'restart-ds', 'public');
  });
  afterAll(async () => {
    await admin?.end({ timeout: 1 });
    await t?.close();
    cluster?.destroy();
  });

  it('listens again after PostgreSQL restarts, without crashing, and hears the next change', async () => {
    expect(await allowed()).toBe(true);
    expect(await within(2000, async () => (await listening()) === 1)).toBe(true);
    cluster.halt('fast');
    // Long enough for reconnects to fail a few times.
    await new Promise((r) => setTimeout(r, 3000));
    cluster.resume();
    expect(await within(10_000, async () => (await listening()) === 1)).toBe(true);
    // Another writer (triggers on: the change is notified when it commits).
    await admin`update datasets set classification = 'restricted', label_version = label_version + 1 where id = 'restart-ds'`;
    expect(await within(1000, async () => (await allowed()) === false)).toBe(true);
  });
});
