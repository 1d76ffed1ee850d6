import { afterEach, describe, expect, it } from 'vitest';
import { ensurePartitions, prunePartitions } from '../../src/audit/audit.partitions.ts';
import { dropPartition, listPartitions } from '../../src/audit/audit.repo.ts';
import { verifyChain } from '../../src/audit/audit.verify.ts';
import { GroupCommitLog } from '../../src/audit/audit.writer.ts';
import type { Sql } from '../../src/db/database.ts';
import { DomainError } from '../../src/shared/errors.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds, whileTableLocked } from '../helpers/databases.ts';
import { entry, tokenFor } from './helpers.ts';

const count = async (t: TestApp) =>
  Number((await t.db.sql<{ n: string }[]>`select count(*) as n from audit_entry`)[0]!.n);
const unavailable = (e: unknown) => e instanceof DomainError && e.code === 'AUDIT_UNAVAILABLE';

/**
 * The database connection as the writer sees it, except that the answer to the second batch insert
 * (the first is the start-up one, inside a transaction; the second is its own transaction) is lost
 * after the database committed it, as when a connection drops between commit and answer. The
 * database is real; only the answer is replaced by an error.
 */
function losingSecondInsertReply(sql: Sql): Sql {
  let inserts = 0;
  const withLoss = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver) as unknown;
        if (prop === 'begin')
          return (fn: (tx: Sql) => unknown) =>
            (obj as unknown as Sql).begin((tx) => fn(withLoss(tx as unknown as Sql)));
        if (prop !== 'unsafe')
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(obj) : value;
        return (text: string, ...rest: unknown[]) => {
          const query = (obj as unknown as Sql).unsafe(text, ...(rest as [never]));
          if (!text.includes('insert into audit_entry') || ++inserts !== 2) return query;
          const answer = Promise.resolve(query).then(() => {
            throw new Error('connection lost after commit');
          });
          return Object.assign(answer, { cancel: () => query.cancel() });
        };
      },
    });
  return withLoss(sql);
}

describe.each(databaseKinds())('audit writer on %s', (kind) => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it('an entry the database refuses does not hold up the log: it is found alone, kept as a marker with its id, and the others land in order', async () => {
    t = await startApp(kind, { AUDIT_FLUSH_LINGER_MS: '3600000' });
    const log = t.deps.services.audit as GroupCommitLog;
    // A rule of the database's own that one entry breaks (what a future schema might refuse).
    await t.db.sql`alter table audit_entry add constraint refuses_poison check (action <> 'poison')`;
    const ids: string[] = [];
    for (const [i, action] of ['read', 'read', 'poison', 'read', 'read'].entries()) {
      ids.push((await log.append(entry({ action, requestId: `isolate-${i}` }))).id);
    }
    // A durable entry behind them is written (the queued ones first, in order), not held up for ever.
    const last = await log.appendDurable(entry({ requestId: 'isolate-last' }));
    ids.push(last.id);
    const rows = await t.db.sql<{ id: string; action: string; details: Record<string, unknown> }[]>`
      select id::text, action, details from audit_entry where id::text = any(${ids}) order by seq`;
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect(rows[2]).toMatchObject({ id: ids[2], action: 'refused', details: { refusedBy: '23514' } });
    expect(rows.filter((r) => r.action === 'read').length).toBe(5);
    // A refused entry someone waits for: that caller hears AUDIT_UNAVAILABLE (nothing disclosed); the log goes on.
    const refused = await log.appendDurable(entry({ action: 'poison', requestId: 'isolate-durable' })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(unavailable(refused)).toBe(true);
    await log.appendDurable(entry({ requestId: 'isolate-after' }));
    expect(await verifyChain(t.db.sql)).toMatchObject({ ok: true });
  });

  it('appendDurable rejects with AUDIT_UNAVAILABLE when the table cannot be written; queued entries are kept and land later', async () => {
    t = await startApp(kind);
    const log = t.deps.services.audit as GroupCommitLog;
    await log.appendDurable(entry({ requestId: 'before' }));
    await t.db.sql`alter table audit_entry rename to audit_entry_away`;
    const queued = await log.append(entry({ requestId: 'queued-during-outage' }));
    const error = await log.appendDurable(entry({ requestId: 'durable-during-outage' })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(unavailable(error)).toBe(true);
    const ready = await t.request('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.audit.ok).toBe(false);
    await t.db.sql`alter table audit_entry_away rename to audit_entry`;
    await t.deps.lifecycle.shutdown(); // flushes everything queued
    const rows = await t.db.sql<
      { id: string; request_id: string }[]
    >`select id, request_id from audit_entry order by seq`;
    expect(rows.map((r) => r.request_id)).toEqual(['before', 'queued-during-outage']);
    expect(rows[1]!.id).toBe(queued.id);
    expect((await verifyChain(t.db.sql)).ok).toBe(true);
  });

  it('a full queue makes callers wait, then answers AUDIT_UNAVAILABLE; nothing accepted is dropped', async () => {
    t = await startApp(kind, { AUDIT_QUEUE_MAX: '3' });
    const log = t.deps.services.audit as GroupCommitLog;
    await t.db.sql`alter table audit_entry rename to audit_entry_away`;
    for (let i = 0; i < 3; i++) await log.append(entry({ requestId: `q${i}` }));
    expect(log.queueDepth).toBe(3);
    const error = await log.append(entry({ requestId: 'overflow' })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(unavailable(error)).toBe(true);
    await t.db.sql`alter table audit_entry_away rename to audit_entry`;
    await t.deps.lifecycle.shutdown();
    const rows = await t.db.sql<{ request_id: string }[]>`select request_id from audit_entry order by seq`;
    expect(rows.map((r) => r.request_id)).toEqual(['q0', 'q1', 'q2']);
  });

  it('writes a queued entry soon on its own: no durable entry, no shutdown, no full batch needed', async () => {
    t = await startApp(kind);
    await t.deps.services.audit.append(entry({ requestId: 'alone' }));
    let found = 0;
    for (let i = 0; i < 100 && !found; i++) {
      found = Number(
        (await t.db.sql<{ n: string }[]>`select count(*) as n from audit_entry where request_id = 'alone'`)[0]!.n,
      );
      if (!found) await new Promise((r) => setTimeout(r, 20));
    }
    expect(found).toBe(1);
  });

  it('queued entries linger for AUDIT_FLUSH_LINGER_MS, then share the commit of the next disclosure', async () => {
    t = await startApp(kind, { AUDIT_FLUSH_LINGER_MS: '3600000' });
    const log = t.deps.services.audit;
    const sizes: number[] = [];
    (log as GroupCommitLog).onFlushed((n) => sizes.push(n));
    for (let i = 0; i < 5; i++) await log.append(entry({ requestId: `waiting-${i}` }));
    await new Promise((r) => setTimeout(r, 200));
    expect(await count(t)).toBe(0); // nothing flushed: no durable entry yet, the linger is an hour
    await log.appendDurable(entry({ requestId: 'disclosure' }));
    expect(await count(t)).toBe(6);
    expect(sizes).toEqual([6]);
  });

  it("an auditor's query sees the checks' entries that are still lingering (its own entry is committed first, in order)", async () => {
    t = await startApp(kind, { AUDIT_FLUSH_LINGER_MS: '3600000' });
    const log = t.deps.services.audit;
    for (let i = 0; i < 3; i++) await log.append(entry({ requestId: `lingering-${i}` }));
    expect(await count(t)).toBe(0);
    const auditor = await tokenFor('aud-rw', ['auditor']);
    const r = await t.request('GET', '/v1/audit/decisions?limit=100', { token: auditor });
    expect(r.status, r.text).toBe(200);
    const seen = (r.body.items as { requestId: string | null }[]).map((x) => x.requestId);
    expect(seen).toEqual(expect.arrayContaining(['lingering-0', 'lingering-1', 'lingering-2']));
  });

  it('a batch whose commit answer was lost is not written twice when its entries are retried', async () => {
    t = await startApp(kind);
    const lossy = losingSecondInsertReply(kind === 'postgres' ? t.db.single() : t.db.sql);
    const log = new GroupCommitLog(lossy, {
      hmacKey: undefined,
      queueMax: 100,
      flushMax: 100,
      lingerMs: 0,
      pipeline: kind === 'postgres' ? lossy : undefined,
    });
    const ids = [(await log.appendDurable(entry({ requestId: 'lost-first' }))).id];
    for (let i = 0; i < 5; i++) ids.push((await log.append(entry({ requestId: `lost-${i}` }))).id);
    await log.close(5000);
    const rows = await t.db.sql<
      { id: string }[]
    >`select id::text from audit_entry where request_id like 'lost-%' order by seq`;
    expect(rows.map((r) => r.id)).toEqual(ids); // each entry once, in order
    expect(await verifyChain(t.db.sql)).toMatchObject({ ok: true });
  });

  it('shutdown flushes every queued entry', async () => {
    t = await startApp(kind, { AUDIT_FLUSH_MAX: '13' });
    const log = t.deps.services.audit;
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(entry({ requestId: `s${i}` }))));
    await t.deps.lifecycle.shutdown();
    expect(await count(t)).toBe(200);
    expect(await verifyChain(t.db.sql)).toMatchObject({ ok: true, checked: 200 });
  });

  it('refuses entries that could carry a record value (free text or nested data in details, values as field names)', async () => {
    t = await startApp(kind);
    const log = t.deps.services.audit;
    const refused = (e: Parameters<typeof log.append>[0]) =>
      expect(log.append(e)).rejects.toThrow(/audit entry|id|field names|integer/);
    await refused(entry({ details: { name: 'Budi Santoso' } }));
    await refused(entry({ details: { record: { nik: '3201010101010001' } as unknown as string } }));
    await refused(entry({ details: { amount: 12.5 } }));
    await refused(entry({ fields: { whole: ['Jl. Merdeka No. 1'], masked: [], omitted: [] } }));
    await t.deps.lifecycle.shutdown();
    expect(await count(t)).toBe(0);
  });

  it("queues none of a request's entries when one of them is refused, and answers a whole request with one wait", async () => {
    t = await startApp(kind);
    const log = t.deps.services.audit as GroupCommitLog;
    const refusal = await log
      .appendAll([entry({ requestId: 'first-ok' }), entry({ details: { name: 'Budi Santoso' } })], true)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(refusal).toBeInstanceOf(Error);
    const ids = await log.appendAll(
      Array.from({ length: 250 }, (_, i) => entry({ requestId: `batch-${i}` })),
      true,
    );
    expect(new Set(ids).size).toBe(250);
    // Durable: every id handed back is committed when the call resolves, in order.
    const rows = await t.db.sql<
      { id: string; request_id: string }[]
    >`select id, request_id from audit_entry order by seq`;
    expect(rows.map((r) => r.request_id)).toEqual(ids.map((_, i) => `batch-${i}`));
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect(await verifyChain(t.db.sql)).toMatchObject({ ok: true, checked: 250 });
  });

  it('has no column where a record value could go', async () => {
    t = await startApp(kind);
    const cols = await t.db.sql<{ column_name: string }[]>`
      select column_name from information_schema.columns where table_name = 'audit_entry' order by ordinal_position`;
    // A guard: adding a column (e.g. for values) must come with a review of this test.
    expect(cols.map((c) => c.column_name)).toEqual([
      'seq',
      'id',
      'at',
      'decided_at',
      'event',
      'principal_sub',
      'principal_kind',
      'principal_roles',
      'principal_unit',
      'action',
      'resource_type',
      'resource_id',
      'dataset_id',
      'resource_unit',
      'classification',
      'label_version',
      'effect',
      'rule_id',
      'reason',
      'policy_version',
      'fields_whole',
      'fields_masked',
      'fields_omitted',
      'purpose',
      'row_count',
      'request_id',
      'trace_id',
      'details',
      'prev_hash',
      'hash',
    ]);
  });

  it('creates monthly partitions ahead and drops only partitions older than the retention period', async () => {
    t = await startApp(kind);
    const sql = t.db.sql;
    const now = new Date('2026-11-15T00:00:00Z');
    await ensurePartitions(sql, new Date('2025-09-10T00:00:00Z'), 0); // 2025-09
    await ensurePartitions(sql, new Date('2025-10-10T00:00:00Z'), 0); // 2025-10: ends 2025-11-01 = cutoff for 12 months
    await ensurePartitions(sql, new Date('2025-11-10T00:00:00Z'), 0); // 2025-11: holds entries newer than 12 months ago
    await ensurePartitions(sql, now, 2);
    const dropped = await prunePartitions(sql, now, 12);
    expect(dropped).toEqual(['audit_entry_y2025m09', 'audit_entry_y2025m10']);
    const kept = (await listPartitions(sql)).map((p) => p.name);
    expect(kept).toEqual(
      expect.arrayContaining([
        'audit_entry_y2025m11',
        'audit_entry_y2026m11',
        'audit_entry_y2026m12',
        'audit_entry_y2027m01',
      ]),
    );
    expect(kept).not.toContain('audit_entry_y2025m10');
    // Entries go to the month's partition.
    await t.deps.services.audit.appendDurable(entry());
    const month = new Date().toISOString().slice(0, 7).replace('-', 'm');
    const [where] = await sql<{ part: string }[]>`select tableoid::regclass::text as part from audit_entry`;
    expect(where!.part).toBe(`audit_entry_y${month}`);
  });

  it('verifies from the oldest entry kept after retention dropped a partition, and not after an unrecorded deletion', async () => {
    t = await startApp(kind);
    const log = t.deps.services.audit;
    for (let i = 0; i < 5; i++) await log.appendDurable(entry({ requestId: `old${i}` }));
    const [p] = await t.db.sql<{ part: string }[]>`select distinct tableoid::regclass::text as part from audit_entry`;
    await dropPartition(t.db.sql, p!.part); // as retention does: records the last entry it held
    for (let i = 0; i < 3; i++) await log.appendDurable(entry({ requestId: `new${i}` })); // now in the default partition
    expect(await verifyChain(t.db.sql)).toMatchObject({ ok: true, checked: 3 });
    await t.db.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`delete from audit_entry where seq = 6`;
    });
    expect((await verifyChain(t.db.sql)).firstBad).toMatchObject({ seq: 6, problem: 'missing' });
  });

  if (kind === 'postgres') {
    it('appendDurable rejects with AUDIT_UNAVAILABLE while another session holds the table locked', async () => {
      t = await startApp(kind);
      await whileTableLocked((t.db as { url?: string }).url!, 'audit_entry', async () => {
        const error = await t.deps.services.audit.appendDurable(entry()).then(
          () => null,
          (e: unknown) => e,
        );
        expect(unavailable(error)).toBe(true);
      });
      await t.deps.services.audit.appendDurable(entry({ requestId: 'after' }));
      expect(await count(t)).toBe(1);
    });

    it('when a pipelined batch fails, the batch sent behind it is retried, not refused, and the chain stays whole', async () => {
      t = await startApp(kind, { AUDIT_FLUSH_MAX: '500' });
      const log = t.deps.services.audit;
      await log.appendDurable(entry({ requestId: 'warm' })); // the writer now knows the head
      // The first statement that inserts entry 'poison' fails once (a sequence is not rolled back).
      await t.db.sql.unsafe(`
        create sequence poison_once;
        create function poison() returns trigger language plpgsql as $$
        begin
          if new.request_id = 'poison' and nextval('poison_once') = 1 then raise exception 'injected failure'; end if;
          return new;
        end $$;
        create trigger poison before insert on audit_entry for each row execute function poison();`);
      // 300 durable appends in one tick: split into two batches, the second sent behind the first.
      const results = await Promise.allSettled(
        Array.from({ length: 300 }, (_, i) => log.appendDurable(entry({ requestId: i === 10 ? 'poison' : `d${i}` }))),
      );
      const refused = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
      // Only the failed batch's callers are told the decision was not recorded; it held entry 10.
      expect(refused).toContain(10);
      expect(refused.every((i) => i < 150)).toBe(true);
      expect(results.slice(150).every((r) => r.status === 'fulfilled')).toBe(true);
      for (const i of refused) expect(unavailable((results[i] as PromiseRejectedResult).reason)).toBe(true);
      const stored = await t.db.sql<
        { request_id: string }[]
      >`select request_id from audit_entry where request_id <> 'warm'`;
      expect(stored).toHaveLength(300 - refused.length);
      expect(new Set(stored.map((r) => r.request_id)).size).toBe(stored.length);
      expect(await verifyChain(t.db.sql)).toMatchObject({ ok: true, checked: 301 - refused.length });
    });
  }
});
