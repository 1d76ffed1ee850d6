import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNodePostgres } from '../../src/db/open.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds, type DatabaseKind } from '../helpers/databases.ts';
import { createLabelled } from '../records/setup.ts';
import { principals, PURPOSE, reports } from '../records/records-app.ts';

/**
 * Decisions by id answer from a catalog snapshot held in memory (src/catalog/catalog.snapshot.ts).
 * The bound stated in README and /v1/check's description: CATALOG_SNAPSHOT_MAX_STALE_MS (default
 * 1000 ms) after a change commits, every instance answers under it; the instance that made the
 * change, at once. Records reads never take a label from the snapshot.
 */
const BOUND_MS = 1000;

type Who = Awaited<ReturnType<typeof principals>>;

const checkRead = (t: TestApp, token: string, id: string) =>
  t.request('POST', '/v1/check', { token, json: { action: 'read', resource: { type: 'Dataset', id } } });

/** Makes a public dataset of unit 32 with records: staff of unit 33 may read it, until it is restricted. */
async function publicWithRecords(t: TestApp, who: Who, id: string) {
  await createLabelled(t, who.steward32, id, 'public');
  const put = await t.request('POST', `/v1/datasets/${id}/records`, { token: who.steward32, json: reports(5) });
  expect(put.status, put.text).toBe(201);
}

const restrict = async (t: TestApp, who: Who, id: string) => {
  const r = await t.request('PUT', `/v1/datasets/${id}/label`, {
    token: who.steward32,
    json: { classification: 'restricted' },
  });
  expect(r.status, r.text).toBe(200);
  return r.body.labelVersion as number;
};

/**
 * Asks `t` until it denies: the time from `since` (after the change committed) to the start of the
 * first check that denied. The bound is about checks begun after it, whatever they then take.
 */
async function msUntilDenied(t: TestApp, token: string, id: string, since: number): Promise<number> {
  for (;;) {
    const asked = performance.now();
    const r = await checkRead(t, token, id);
    expect(r.status).toBe(200);
    if (!r.body.allow) return asked - since;
    if (performance.now() - since > BOUND_MS * 5) return performance.now() - since;
    await new Promise((res) => setTimeout(res, 10));
  }
}

async function labelVersionLogged(t: TestApp, decisionId: string): Promise<number | null> {
  const [row] = await t.db.sql<
    { label_version: number | null }[]
  >`select label_version from audit_entry where id = ${decisionId}::uuid`;
  return row?.label_version ?? null;
}

describe.each(databaseKinds())('catalog snapshot on one instance (%s)', (kind: DatabaseKind) => {
  let t: TestApp;
  let who: Who;
  beforeAll(async () => {
    // A bound far longer than the test: only the instance's own invalidation can make it pass.
    t = await startApp(kind, { CATALOG_SNAPSHOT_MAX_STALE_MS: '600000' });
    who = await principals();
  });
  afterAll(() => t.close());

  it('answers under a change made through the same instance at once, and logs the label version used', async () => {
    await publicWithRecords(t, who, 'snap-local');
    const before = await checkRead(t, who.staff33, 'snap-local');
    expect(before.body.allow).toBe(true);
    expect(await labelVersionLogged(t, before.body.decisionId)).toBe(1);
    // The same question again: its body and decision come from memory, and it is logged on its own.
    const again = await checkRead(t, who.staff33, 'snap-local');
    expect(again.body).toMatchObject({ allow: true, reason: before.body.reason });
    expect(again.body.decisionId).not.toBe(before.body.decisionId);
    expect(await labelVersionLogged(t, again.body.decisionId)).toBe(1);
    const version = await restrict(t, who, 'snap-local');
    const after = await checkRead(t, who.staff33, 'snap-local');
    expect(after.body.allow).toBe(false);
    expect(await labelVersionLogged(t, after.body.decisionId)).toBe(version);
    // A field by id is decided under its dataset's label, and logs that label's version too.
    const field = await t.request('POST', '/v1/check', {
      token: who.staff33,
      json: { action: 'read', resource: { type: 'Field', id: 'snap-local/report_no' } },
    });
    expect(field.body.allow).toBe(false);
    expect(await labelVersionLogged(t, field.body.decisionId)).toBe(version);
  });

  it('states the staleness bound in /v1/check’s description', async () => {
    const doc = (await t.request('GET', '/openapi.json')).body;
    expect(doc.paths['/v1/check'].post.description).toContain('CATALOG_SNAPSHOT_MAX_STALE_MS after it commits');
    expect(doc.paths['/v1/check'].post.description).toContain('this instance: 600000 ms');
  });

  it('catches a change whose notification never came, within the bound (the periodic version read)', async () => {
    const u = await startApp(kind, {}); // default bound
    try {
      await publicWithRecords(u, who, 'snap-lost');
      expect((await checkRead(u, who.staff33, 'snap-lost')).body.allow).toBe(true);
      // Another writer's change, its triggers off: the catalog version moves, no notification is sent.
      await u.db.sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`update datasets set classification = 'restricted', label_version = label_version + 1 where id = 'snap-lost'`;
        await tx`update catalog_version set version = version + 1`;
      });
      const since = performance.now();
      expect(await msUntilDenied(u, who.staff33, 'snap-lost', since)).toBeLessThanOrEqual(BOUND_MS);
    } finally {
      await u.close();
    }
  });
});

describe.runIf(databaseKinds().includes('postgres'))('two Jaga instances on one PostgreSQL', () => {
  let a: TestApp;
  let b: TestApp;
  let who: Who;
  let listenersOfB: number[];

  const listenBackends = async (t: TestApp) =>
    (
      await t.db.sql<{ pid: number }[]>`
        select pid from pg_stat_activity where datname = current_database() and query ilike 'listen %jaga_catalog%'`
    ).map((r) => r.pid);

  beforeAll(async () => {
    a = await startApp('postgres');
    who = await principals();
    const url = (a.db as { url?: string }).url!;
    let ofA: number[] = [];
    for (let i = 0; i < 100 && ofA.length === 0; i++) {
      ofA = await listenBackends(a);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(ofA.length).toBe(1);
    b = await startApp('postgres', {}, { db: connectNodePostgres(url, { max: 4 }) });
    // B's LISTEN connection: the one that was not there before B started.
    for (let i = 0; i < 100 && (await listenBackends(a)).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    listenersOfB = (await listenBackends(a)).filter((pid) => !ofA.includes(pid));
    expect(listenersOfB.length).toBe(1);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a dataset relabelled stricter on A is answered under the new label by B within the bound', async () => {
    await publicWithRecords(a, who, 'snap-two');
    const seen = await checkRead(b, who.staff33, 'snap-two');
    expect(seen.body.allow).toBe(true);
    const authzenBefore = await b.request('POST', '/access/v1/evaluation', {
      token: who.staff33,
      json: {
        subject: { type: 'user', id: 'staff-33' },
        action: { name: 'read' },
        resource: { type: 'dataset', id: 'snap-two' },
      },
    });
    expect(authzenBefore.body.decision, authzenBefore.text).toBe(true);
    const version = await restrict(a, who, 'snap-two');
    const since = performance.now();
    expect(await msUntilDenied(b, who.staff33, 'snap-two', since)).toBeLessThanOrEqual(BOUND_MS);
    const after = await checkRead(b, who.staff33, 'snap-two');
    expect(await labelVersionLogged(b, after.body.decisionId)).toBe(version);
    // Batch and AuthZEN resolve ids the same way.
    const batch = await b.request('POST', '/v1/check/batch', {
      token: who.staff33,
      json: { checks: [{ action: 'read', resource: { type: 'Dataset', id: 'snap-two' } }] },
    });
    expect(batch.body.results[0].allow).toBe(false);
    const authzen = await b.request('POST', '/access/v1/evaluation', {
      token: who.staff33,
      json: {
        subject: { type: 'user', id: 'staff-33' },
        action: { name: 'read' },
        resource: { type: 'dataset', id: 'snap-two' },
      },
    });
    expect(authzen.status, authzen.text).toBe(200);
    expect(authzen.body.decision).toBe(false);
  });

  it('a records read on B right after A’s relabel commits never discloses under the old label', async () => {
    await publicWithRecords(a, who, 'snap-read');
    const get = (accept: string) =>
      b.request('GET', '/v1/datasets/snap-read/records', {
        token: who.staff33,
        headers: { 'x-purpose': PURPOSE, accept },
      });
    const open = await get('application/json');
    expect(open.status).toBe(200);
    expect(open.text).toContain('LP-');
    // B holds the old label in memory (it answers checks from it).
    expect((await checkRead(b, who.staff33, 'snap-read')).body.allow).toBe(true);
    await restrict(a, who, 'snap-read');
    for (const accept of ['application/json', 'text/csv', 'application/x-ndjson']) {
      const r = await get(accept);
      expect(r.status).toBe(404);
      expect(r.text).not.toContain('LP-');
    }
  });

  it('after B’s notification connection was cut, A’s relabel still reaches B within the bound', async () => {
    await publicWithRecords(a, who, 'snap-cut');
    expect((await checkRead(b, who.staff33, 'snap-cut')).body.allow).toBe(true);
    const [cut] = await a.db.sql<{ ok: boolean }[]>`select pg_terminate_backend(${listenersOfB[0]!}) as ok`;
    expect(cut!.ok).toBe(true);
    await restrict(a, who, 'snap-cut');
    const since = performance.now();
    expect(await msUntilDenied(b, who.staff33, 'snap-cut', since)).toBeLessThanOrEqual(BOUND_MS);
    // And B listens again: a later change arrives by notification.
    let again: number[] = [];
    for (let i = 0; i < 100 && again.length === 0; i++) {
      again = (await listenBackends(a)).filter((pid) => pid !== listenersOfB[0]);
      if (again.length < 2) again = [];
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(again.length).toBe(2);
  });
});
