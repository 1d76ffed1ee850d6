import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/audit.verify.ts';
import type { Database } from '../../src/db/database.ts';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { databaseKinds, freshDatabase } from '../helpers/databases.ts';
import { killableJaga } from '../helpers/process.ts';
import { PURPOSE, tokenFor } from '../records/records-app.ts';

const HMAC = 'kill-quarantine-hmac-key-0123456789abc';

/** `n` rows from `from`, whose `nomor` holds NIK-shaped numbers: detection quarantines that public field. */
const csv = (n: number, from: number, header: boolean) =>
  (header ? 'no_urut,nomor\n' : '') +
  Array.from({ length: n }, (_, k) => `${from + k},3201015203${String(900000 + ((from + k) % 99_999)).slice(-6)}`).join(
    '\n',
  ) +
  '\n';

/**
 * kill -9 of a Jaga process on PostgreSQL in the middle of an ingest whose detection quarantines a
 * field: the rows, the quarantine (the field's mark, its suggestion, its audit entries) and the
 * ingest's entry commit in one transaction, so after a restart either all of it is there or none.
 */
describe.runIf(databaseKinds().includes('postgres'))('kill -9 during an ingest that quarantines', () => {
  let db: Database & { url?: string };
  let base: string;
  let steward: string;
  const jaga = killableJaga(() => ({ DATABASE_URL: db.url!, JWT_SECRET: TEST_JWT_SECRET, AUDIT_HMAC_KEY: HMAC }));
  const start = async () => {
    base = await jaga.start();
  };
  const kill9 = jaga.kill9;
  const api = (method: string, path: string, json?: unknown, token: string | null = steward) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
  /** A public contact list whose `nomor` is declared not personal data. */
  const contacts = async (id: string) => {
    const fields = [
      { name: 'no_urut', type: 'string' },
      { name: 'nomor', type: 'string' },
    ];
    expect((await api('POST', '/v1/datasets', { id, title: 'Kontak', ownerUnit: '32', fields })).status).toBe(201);
    expect((await api('PUT', `/v1/datasets/${id}/label`, { classification: 'public' })).status).toBe(200);
  };
  const upload = (id: string, body: string | ReadableStream<Uint8Array>) =>
    fetch(`${base}/v1/datasets/${id}/records`, {
      method: 'POST',
      headers: { authorization: `Bearer ${steward}`, 'content-type': 'text/csv' },
      body,
      duplex: 'half',
    } as RequestInit).then(
      async (r) => ({ status: r.status, body: (await r.json().catch(() => null)) as { quarantined?: unknown[] } }),
      () => 'failed' as const,
    );
  /** What the database holds of the ingest and its quarantine. */
  const state = async (id: string) => {
    const [r] = await db.sql<
      { rows: number; quarantine: string | null; suggestions: number; ingest: number; quarantines: number }[]
    >`
      select (select count(*)::int from records where dataset_id = ${id}) as rows,
        (select quarantine from fields where dataset_id = ${id} and name = 'nomor') as quarantine,
        (select count(*)::int from field_suggestions where dataset_id = ${id}) as suggestions,
        (select count(*)::int from audit_entry where action = 'ingest' and dataset_id = ${id}) as ingest,
        (select count(*)::int from audit_entry where action = 'quarantine' and dataset_id = ${id}) as quarantines`;
    return r!;
  };
  const openField = async (id: string): Promise<boolean> => {
    const r = await api('POST', '/v1/check', { action: 'read', resource: { type: 'Field', id: `${id}/nomor` } }, null);
    return ((await r.json()) as { allow: boolean }).allow;
  };

  beforeAll(async () => {
    db = await freshDatabase('postgres');
    steward = await tokenFor({ sub: 'steward-32', roles: ['steward'], unit: '32', purposes: [PURPOSE] });
    await start();
  }, 60_000);

  afterAll(async () => {
    if (jaga.running()) await kill9();
    await db?.close();
  });

  it('killed while the rows stream in: no rows, no quarantine, no suggestion, no entry; the field is still open', async () => {
    await contacts('kontak-kill');
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent >= 40_000) return controller.close();
        controller.enqueue(new TextEncoder().encode(csv(500, sent, sent === 0)));
        sent += 500;
        await new Promise((r) => setTimeout(r, 10));
      },
    });
    const pending = upload('kontak-kill', body);
    while (sent < 10_000) await new Promise((r) => setTimeout(r, 10));
    await kill9();
    expect(await pending).toBe('failed');
    await start();
    expect(await state('kontak-kill')).toEqual({
      rows: 0,
      quarantine: null,
      suggestions: 0,
      ingest: 0,
      quarantines: 0,
    });
    expect(await openField('kontak-kill')).toBe(true);

    // The same upload, let finish, quarantines the field with its rows.
    const done = await upload('kontak-kill', csv(500, 0, true));
    expect(done).toMatchObject({ status: 201, body: { quarantined: [expect.objectContaining({ field: 'nomor' })] } });
    await kill9();
    await start();
    expect(await state('kontak-kill')).toMatchObject({ rows: 500, quarantine: expect.any(String), ingest: 1 });
    expect((await state('kontak-kill')).quarantines).toBeGreaterThanOrEqual(1);
    expect(await openField('kontak-kill')).toBe(false);
    expect(await verifyChain(db.sql, { hmacKey: HMAC })).toMatchObject({ ok: true });
  }, 90_000);

  it('killed around the end of the ingest (rows, quarantine, entry, commit): all of it or none, each time', async () => {
    // How long the whole ingest takes here, so the kills land around its end (the last rows, the
    // detection over the sample, the quarantine, the entry and the commit), not only mid-stream.
    await contacts('kontak-ref');
    const started = performance.now();
    expect(await upload('kontak-ref', csv(20_000, 0, true))).toMatchObject({ status: 201 });
    const took = performance.now() - started;
    const outcomes: string[] = [];
    for (const [i, share] of [0.7, 0.85, 0.95, 1, 1.1].entries()) {
      const delayMs = took * share;
      const id = `kontak-end-${i}`;
      await contacts(id);
      const pending = upload(id, csv(20_000, 0, true));
      await new Promise((r) => setTimeout(r, delayMs));
      await kill9();
      const answered = await pending;
      await start();
      const s = await state(id);
      if (s.rows === 0) {
        expect(s).toEqual({ rows: 0, quarantine: null, suggestions: 0, ingest: 0, quarantines: 0 });
        expect(await openField(id)).toBe(true);
        outcomes.push('none');
      } else {
        expect(s).toMatchObject({ rows: 20_000, quarantine: expect.any(String), ingest: 1 });
        expect(s.suggestions).toBeGreaterThanOrEqual(1);
        expect(s.quarantines).toBeGreaterThanOrEqual(1);
        expect(await openField(id)).toBe(false);
        outcomes.push('all');
      }
      // An upload the client saw acknowledged is all there.
      if (answered !== 'failed' && answered.status === 201) expect(s.rows).toBe(20_000);
    }
    expect(outcomes).toHaveLength(5);
    expect(await verifyChain(db.sql, { hmacKey: HMAC })).toMatchObject({ ok: true });
  }, 180_000);
});
