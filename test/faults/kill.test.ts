import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/audit.verify.ts';
import type { Database } from '../../src/db/database.ts';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { databaseKinds, freshDatabase } from '../helpers/databases.ts';
import { killableJaga } from '../helpers/process.ts';
import { PURPOSE, reports, reportsDataset, tokenFor } from '../records/records-app.ts';

const DATASET = 'laporan-kill';
const HMAC = 'kill-suite-hmac-key-0123456789abcdef01';

const csvLines = (rows: Record<string, unknown>[], header: boolean) => {
  const cols = Object.keys(rows[0]!);
  const lines = rows.map((r) => cols.map((c) => String(r[c] ?? '')).join(','));
  return (header ? [cols.join(','), ...lines] : lines).join('\n') + '\n';
};

/**
 * kill -9 of a Jaga process on PostgreSQL: nothing half-done survives (an upload is one
 * transaction) and nothing acknowledged is lost (a disclosure's entry is durable before its
 * first byte leaves).
 */
describe.runIf(databaseKinds().includes('postgres'))('kill -9 of a running Jaga', () => {
  let db: Database & { url?: string };
  let base: string;
  let steward: string;
  const jaga = killableJaga(() => ({ DATABASE_URL: db.url!, JWT_SECRET: TEST_JWT_SECRET, AUDIT_HMAC_KEY: HMAC }));
  const start = async () => {
    base = await jaga.start();
  };
  const kill9 = jaga.kill9;
  const rowCount = async () =>
    (await db.sql<{ n: number }[]>`select count(*)::int as n from records where dataset_id = ${DATASET}`)[0]!.n;
  const ingestEntries = async () =>
    (
      await db.sql<
        { n: number }[]
      >`select count(*)::int as n from audit_entry where action = 'ingest' and dataset_id = ${DATASET}`
    )[0]!.n;
  const upload = (body: string | ReadableStream<Uint8Array>, signal?: AbortSignal) =>
    fetch(`${base}/v1/datasets/${DATASET}/records`, {
      method: 'POST',
      headers: { authorization: `Bearer ${steward}`, 'content-type': 'text/csv' },
      body,
      duplex: 'half',
      ...(signal ? { signal } : {}),
    } as RequestInit);

  beforeAll(async () => {
    db = await freshDatabase('postgres');
    steward = await tokenFor({ sub: 'steward-32', roles: ['steward'], unit: '32', purposes: [PURPOSE] });
    await start();
    const made = await fetch(`${base}/v1/datasets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${steward}`, 'content-type': 'application/json' },
      body: JSON.stringify(reportsDataset(DATASET, '32')),
    });
    expect(made.status).toBe(201);
    const labelled = await fetch(`${base}/v1/datasets/${DATASET}/label`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${steward}`, 'content-type': 'application/json' },
      body: JSON.stringify({ classification: 'restricted' }),
    });
    expect(labelled.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    if (jaga.running()) await kill9();
    await db?.close();
  });

  it('an upload killed half-way leaves no rows and no ingest entry; one acknowledged just before the kill is all there', async () => {
    // Stream 40 000 rows in chunks of 500; the kill comes while chunks are still being sent.
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent >= 40_000) return controller.close();
        controller.enqueue(new TextEncoder().encode(csvLines(reports(500, sent), sent === 0)));
        sent += 500;
        await new Promise((r) => setTimeout(r, 10));
      },
    });
    const pending = upload(body).then(
      (r) => r.status,
      () => 'failed' as const,
    );
    while (sent < 10_000) await new Promise((r) => setTimeout(r, 10));
    await kill9();
    expect(await pending).toBe('failed');
    expect(sent).toBeLessThan(40_000);
    await start();
    expect(await rowCount()).toBe(0);
    expect(await ingestEntries()).toBe(0);

    const done = await upload(csvLines(reports(500), true));
    expect(done.status).toBe(201);
    await kill9();
    await start();
    expect(await rowCount()).toBe(500);
    expect(await ingestEntries()).toBe(1);
    expect(await verifyChain(db.sql, { hmacKey: HMAC })).toMatchObject({ ok: true });
  }, 60_000);

  it('every disclosure a client received before the kill is in the log, and the chain verifies', async () => {
    const received: string[] = [];
    let stop = false;
    const reader = async () => {
      while (!stop) {
        try {
          const res = await fetch(`${base}/v1/datasets/${DATASET}/records?limit=20`, {
            headers: { authorization: `Bearer ${steward}`, 'x-purpose': PURPOSE },
          });
          const id = res.headers.get('x-decision-id');
          if (res.status === 200 && id) received.push(id);
          await res.arrayBuffer();
        } catch {
          return; // the process is gone
        }
      }
    };
    const readers = Array.from({ length: 8 }, reader);
    // Killed while reads are in flight: once some have been served (a loaded machine can take more
    // than a second for the first), and a moment later.
    for (const until = Date.now() + 30_000; received.length === 0 && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    await kill9();
    stop = true;
    await Promise.all(readers);
    expect(received.length).toBeGreaterThan(0);
    const found = await db.sql<
      { id: string }[]
    >`select id::text from audit_entry where event = 'disclosure' and id::text = any(${received})`;
    expect(new Set(found.map((r) => r.id))).toEqual(new Set(received));
    expect(await verifyChain(db.sql, { hmacKey: HMAC })).toMatchObject({ ok: true });
  }, 60_000);
});
