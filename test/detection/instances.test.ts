import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNodePostgres } from '../../src/db/open.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { principals } from '../records/records-app.ts';

/**
 * Checks answer from each instance's catalog snapshot: a quarantine made by an ingest on one
 * instance bumps the catalog version, so another instance answers under it within
 * CATALOG_SNAPSHOT_MAX_STALE_MS (1000 ms by default), and the instance that made it at once.
 */
const BOUND_MS = 1000;

const anonymousCheck = async (t: TestApp, id: string) =>
  (await t.request('POST', '/v1/check', { json: { action: 'read', resource: { type: 'Field', id: `${id}/nomor` } } }))
    .body.allow as boolean;

async function publicKontak(t: TestApp, token: string, id: string) {
  const fields = [
    { name: 'no_urut', type: 'string' },
    { name: 'nomor', type: 'string' },
  ];
  expect(
    (await t.request('POST', '/v1/datasets', { token, json: { id, title: 'Kontak', ownerUnit: '32', fields } })).status,
  ).toBe(201);
  expect(
    (await t.request('PUT', `/v1/datasets/${id}/label`, { token, json: { classification: 'public' } })).status,
  ).toBe(200);
}
const nikRows = Array.from({ length: 10 }, (_, i) => ({ no_urut: String(i), nomor: `320101520390${1000 + i}` }));

describe.each(databaseKinds())('quarantine on one instance (%s), snapshot bound of a minute', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    // Periodic re-reads every 15 s: only the ingest's own invalidation can make the next check see it.
    t = await startApp(kind, { CATALOG_SNAPSHOT_MAX_STALE_MS: '60000' });
  });
  afterAll(() => t.close());

  it('the check right after the ingest that quarantined a field answers under the quarantine', async () => {
    const { steward32 } = await principals();
    await publicKontak(t, steward32, 'kontak-1');
    expect(await anonymousCheck(t, 'kontak-1')).toBe(true);
    const ingest = await t.request('POST', '/v1/datasets/kontak-1/records', { token: steward32, json: nikRows });
    expect(ingest.body.quarantined).toHaveLength(1);
    expect(await anonymousCheck(t, 'kontak-1')).toBe(false);
  });
});

describe('quarantine across two instances (postgres)', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startApp('postgres');
    b = await startApp('postgres', {}, { db: connectNodePostgres((a.db as { url?: string }).url!, { max: 4 }) });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('an ingest on A that quarantines a field is in B’s checks within the bound, and in A’s at once', async () => {
    const { steward32 } = await principals();
    await publicKontak(a, steward32, 'kontak');
    // Both snapshots hold the field as public and open.
    for (let i = 0; i < 200 && !(await anonymousCheck(b, 'kontak')); i++) await new Promise((r) => setTimeout(r, 10));
    expect(await anonymousCheck(b, 'kontak')).toBe(true);
    expect(await anonymousCheck(a, 'kontak')).toBe(true);

    const ingest = await a.request('POST', '/v1/datasets/kontak/records', { token: steward32, json: nikRows });
    expect(ingest.body.quarantined).toEqual([expect.objectContaining({ field: 'nomor', personalData: 'nik' })]);
    const committed = performance.now();
    expect(await anonymousCheck(a, 'kontak')).toBe(false);
    let seen = Infinity;
    for (;;) {
      const asked = performance.now();
      if (!(await anonymousCheck(b, 'kontak'))) {
        seen = asked - committed;
        break;
      }
      if (performance.now() - committed > BOUND_MS * 5) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(seen).toBeLessThanOrEqual(BOUND_MS);
  });
});
