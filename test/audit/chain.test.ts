import { afterEach, describe, expect, it } from 'vitest';
import { toEntryRow, type ChainedRow } from '../../src/audit/audit.entry.ts';
import { GENESIS_HASH } from '../../src/audit/audit.hash.ts';
import { HEAD_MOVED, insertEntriesGuarded, readHead, type Head } from '../../src/audit/audit.repo.ts';
import { verifyChain } from '../../src/audit/audit.verify.ts';
import { boot, type Booted } from '../../src/boot.ts';
import { loadConfig } from '../../src/config/config.ts';
import { asTransaction } from '../../src/db/database.ts';
import { connectNodePostgres } from '../../src/db/open.ts';
import { createLogger } from '../../src/system/logger.ts';
import { startApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { entry } from './helpers.ts';

const KEY = 'audit-hmac-key-audit-hmac-key-0123456789';

describe.each(databaseKinds())('audit chain on %s', (kind) => {
  let t: TestApp | undefined;
  let second: Booted | undefined;
  afterEach(async () => {
    await second?.close();
    second = undefined;
    await t?.close();
    t = undefined;
  });

  it('keeps one unbroken chain with 16 concurrent clients mixing queued, durable and in-transaction appends', async () => {
    t = await startApp(kind, { AUDIT_HMAC_KEY: KEY, AUDIT_FLUSH_MAX: '7' });
    const log = t.deps.services.audit;
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async (_, client) => {
        for (let i = 0; i < 15; i++) {
          const e = entry({ requestId: `c${client}-${i}` });
          const mode = (client + i) % 3;
          const { id } =
            mode === 0
              ? await log.append(e)
              : mode === 1
                ? await log.appendDurable(e)
                : await t!.db.sql.begin((tx) => log.appendWithin(asTransaction(tx), e));
          ids.push(id);
        }
      }),
    );
    await t.deps.lifecycle.shutdown();
    const rows = await t.db.sql<{ seq: string; id: string }[]>`select seq, id from audit_entry order by seq`;
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 240 }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids));
    const result = await verifyChain(t.db.sql, { hmacKey: KEY, pageSize: 50 });
    expect(result).toMatchObject({ ok: true, checked: 240 });
    // The key matters: without it every hash is wrong from the first entry.
    expect((await verifyChain(t.db.sql, {})).firstBad).toMatchObject({ seq: 1, problem: 'hash' });
  });

  it('refuses a batch hashed against a head that is no longer the head, and writes none of it', async () => {
    t = await startApp(kind, { AUDIT_HMAC_KEY: KEY });
    await t.deps.services.audit.appendDurable(entry({ requestId: 'first' }));
    const head = await readHead(t.db.sql);
    // A second writer that still believes the head is the one before `first`.
    const stale: Head = { seq: head.seq - 1, hash: GENESIS_HASH, at: new Date(0) };
    const rows: ChainedRow[] = ['stale-a', 'stale-b'].map((requestId, i) => ({
      ...toEntryRow(entry({ requestId })),
      seq: stale.seq + 1 + i,
      at: new Date(),
      prevHash: GENESIS_HASH,
      hash: String(i).repeat(64),
    }));
    await expect(insertEntriesGuarded(t.db.sql, rows, stale)).rejects.toMatchObject({ code: HEAD_MOVED });
    const ids = await t.db.sql<
      { request_id: string }[]
    >`select request_id from audit_entry where request_id like 'stale-%'`;
    expect(ids).toEqual([]);
    expect(await readHead(t.db.sql)).toEqual(head);
    // The writer itself carries on from the true head.
    await t.deps.services.audit.appendDurable(entry({ requestId: 'after' }));
    expect(await verifyChain(t.db.sql, { hmacKey: KEY })).toMatchObject({ ok: true });
  });

  // Two instances share one database only on PostgreSQL (the embedded PGlite serves one process).
  if (kind === 'postgres')
    it('keeps one chain when two app instances write to one database', async () => {
      t = await startApp(kind, { AUDIT_HMAC_KEY: KEY, AUDIT_FLUSH_MAX: '5' });
      const url = (t.db as { url?: string }).url!;
      second = await boot({
        config: loadConfig({
          LOG_LEVEL: 'silent',
          JWT_SECRET: TEST_JWT_SECRET,
          DATABASE_URL: url,
          AUDIT_HMAC_KEY: KEY,
          AUDIT_FLUSH_MAX: '5',
        }),
        db: connectNodePostgres(url, { max: 10 }),
        logger: createLogger('silent'),
      });
      const logs = [t.deps.services.audit, second.deps.services.audit];
      await Promise.all(
        Array.from({ length: 16 }, async (_, client) => {
          const log = logs[client % 2]!;
          for (let i = 0; i < 20; i++) await log.appendDurable(entry({ requestId: `i${client % 2}-c${client}-${i}` }));
        }),
      );
      const rows = await t.db.sql<
        { seq: string; request_id: string }[]
      >`select seq, request_id from audit_entry order by seq`;
      expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 320 }, (_, i) => i + 1));
      // Both instances' entries interleave in the one chain.
      expect(new Set(rows.map((r) => r.request_id.slice(0, 2)))).toEqual(new Set(['i0', 'i1']));
      expect(await verifyChain(t.db.sql, { hmacKey: KEY })).toMatchObject({ ok: true, checked: 320 });
    });
});
