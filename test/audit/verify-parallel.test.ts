import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../scripts/build.ts';
import { chain, queued } from '../../src/audit/audit.append.ts';
import { toEntryRow } from '../../src/audit/audit.entry.ts';
import { insertEntriesGuarded, readHead } from '../../src/audit/audit.repo.ts';
import { verifyChain, type StartPieceWalkers } from '../../src/audit/audit.verify.ts';
import { verifyInWorkers, verifyWorkerScript } from '../../src/audit/audit.verify-workers.ts';
import type { Queryable, TransactionSql } from '../../src/db/database.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { ROOT } from '../helpers/process.ts';
import { entry, getAs, tokenFor } from './helpers.ts';

const KEY = 'audit-hmac-key-audit-hmac-key-0123456789';
const auditor = await tokenFor('aud-1', ['auditor']);
const DAY = 86_400_000;

/** Writes one batch at a chosen time through the writer's own statement (so it lands in that month's partition). */
async function batchAt(t: TestApp, at: Date, n: number, tag: string): Promise<number[]> {
  const head = await readHead(t.db.sql);
  const rows = chain(
    Array.from({ length: n }, (_, i) => queued(toEntryRow(entry({ requestId: `${tag}-${i}` })))),
    head,
    at,
    KEY,
  );
  const [r] = await insertEntriesGuarded(t.db.sql, rows, head);
  expect(r?.n).toBe(rows.length);
  return rows.map((row) => row.seq);
}

async function job(t: TestApp) {
  const started = await t.request('POST', '/v1/audit/verify/jobs', { token: auditor });
  expect(started.status, started.text).toBe(202);
  const id = started.body.id as string;
  for (let i = 0; i < 1000; i++) {
    const res = await getAs(t, auditor, `/v1/audit/verify/jobs/${id}`);
    expect(res.status).toBe(200);
    if (res.body.state !== 'running') return res.body;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the verification job did not finish');
}

type Tamper = <T>(
  t: TestApp,
  seq: number,
  change: (tx: TransactionSql) => Promise<unknown>,
  fn: (q: Queryable) => Promise<T>,
) => Promise<T>;

/**
 * Applies a change as the database superuser with the append-only trigger bypassed (what an
 * attacker with DBA rights can do), runs `fn` on the changed log, then rolls the change back.
 */
const tampered: Tamper = async <T>(
  t: TestApp,
  _seq: number,
  change: (tx: TransactionSql) => Promise<unknown>,
  fn: (q: Queryable) => Promise<T>,
): Promise<T> => {
  let out: T | undefined;
  await t.db.sql
    .begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await change(tx);
      out = await fn(tx);
      throw new Error('rollback');
    })
    .catch((error: unknown) => {
      if ((error as Error).message !== 'rollback') throw error;
    });
  return out!;
};

/**
 * The same change committed, so that other connections (worker threads) see it; entry `seq` is
 * put back as it was afterwards, from a copy taken before.
 */
const tamperedCommitted: Tamper = async <T>(
  t: TestApp,
  seq: number,
  change: (tx: TransactionSql) => Promise<unknown>,
  fn: (q: Queryable) => Promise<T>,
): Promise<T> => {
  await t.db.sql.begin(async (tx) => {
    await tx`create table tamper_saved as select * from audit_entry where seq = ${seq}`;
    await tx`set local session_replication_role = replica`;
    await change(tx);
  });
  try {
    return await fn(t.db.sql);
  } finally {
    await t.db.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`delete from audit_entry where seq = ${seq}`;
      await tx`insert into audit_entry select * from tamper_saved`;
      await tx`drop table tamper_saved`;
    });
  }
};

type Change = (tx: TransactionSql, seq: number) => Promise<unknown>;
const CHANGES: Record<string, Change> = {
  edit: (tx, seq) => tx`update audit_entry set reason = 'rewritten' where seq = ${seq}`,
  delete: (tx, seq) => tx`delete from audit_entry where seq = ${seq}`,
  rehash: (tx, seq) => tx`update audit_entry set hash = ${'f'.repeat(64)} where seq = ${seq}`,
  relink: (tx, seq) => tx`update audit_entry set prev_hash = ${'e'.repeat(64)} where seq = ${seq}`,
};

describe.each(databaseKinds())('full verification in parallel across partitions on %s', (kind) => {
  // Worker threads walk PostgreSQL only (PGlite lives in this process): registered there, not skipped here.
  const itOnPostgres = (name: string, fn: () => Promise<void>, timeout?: number) => {
    if (kind === 'postgres') it(name, fn, timeout);
  };
  let t: TestApp;
  // Three monthly partitions (this month and the two created ahead), each holding entries.
  const now = new Date();
  const months = [0, 1, 2].map((m) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + m, 1)));
  const seqs: number[][] = [];

  beforeAll(async () => {
    t = await startApp(kind, { AUDIT_HMAC_KEY: KEY, AUDIT_ROLLUP_INTERVAL_MS: '0', AUDIT_VERIFY_PARALLELISM: '2' });
    for (const [m, start] of months.entries()) {
      const batches: number[] = [];
      for (let b = 0; b < 3; b++)
        batches.push(...(await batchAt(t, new Date(start.getTime() + (1 + b * 5) * DAY), 12, `m${m}b${b}`)));
      seqs.push(batches);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  const sequential = (q: Queryable) => verifyChain(q, { hmacKey: KEY, parallelism: 1 });
  // Segments walked in this thread, or (PostgreSQL) in worker threads, each on a connection of its
  // own: those see only committed changes, so the changes under test are committed and undone.
  const ways: { name: string; workers?: () => StartPieceWalkers; tamper: Tamper }[] = [
    { name: 'in this thread', tamper: tampered },
    ...(kind === 'postgres'
      ? [{ name: 'in worker threads', workers: () => verifyInWorkers(workerOptions()), tamper: tamperedCommitted }]
      : []),
  ];
  const workerOptions = () => ({ url: t.db.url!, connectTimeoutS: 5 });

  it('verifies an intact log with parallelism 2 in a background job, with its progress, and records its end', async () => {
    const partitions = await t.db.sql<{ n: string }[]>`
      select count(distinct tableoid) as n from audit_entry`;
    expect(Number(partitions[0]!.n)).toBeGreaterThanOrEqual(3);
    const done = await job(t);
    expect(done).toMatchObject({ state: 'done', error: null, result: { ok: true } });
    // The job's own audit_read entries may come after the head it started from.
    expect(done.result.lastSeq).toBeGreaterThanOrEqual(seqs[2]!.at(-1)!);
    const [end] = await t.db.sql<{ hash: string }[]>`select hash from audit_entry where seq = ${done.result.lastSeq}`;
    expect(done.checked).toBe(done.result.checked);
    expect(done.total).toBeGreaterThanOrEqual(seqs.flat().length);
    const [verified] = await t.db.sql<{ seq: string; hash: string }[]>`
      select seq, hash from audit_verified order by seq desc limit 1`;
    expect(Number(verified!.seq)).toBe(done.result.lastSeq);
    expect(verified!.hash).toBe(end!.hash);
  });

  it('reports an edit in a middle partition at the seq the walk in order reports, and records nothing past it', async () => {
    const middle = seqs[1]![17]!;
    const before = await t.db.sql`select * from audit_verified`;
    await t.db.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update audit_entry set effect = 'deny' where seq = ${middle}`;
    });
    try {
      const done = await job(t);
      expect(done).toMatchObject({ state: 'done', result: { ok: false, firstBad: { seq: middle, problem: 'hash' } } });
      const { lastHash: _, ...inOrder } = await sequential(t.db.sql);
      expect(done.result).toEqual(inOrder);
      expect(done.result.checked).toBe(middle - 1);
      // A broken walk moves no verified point.
      expect(await t.db.sql`select * from audit_verified`).toEqual(before);
    } finally {
      // Put the entry back as it was: the other tests walk an intact log.
      await t.db.sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`update audit_entry set effect = 'allow' where seq = ${middle}`;
      });
    }
    expect((await job(t)).result.ok).toBe(true);
  });

  describe.each(ways)('segments walked $name', ({ workers, tamper }) => {
    // Small pages and pieces: many segments, cut inside partitions as well as at their boundaries.
    const parallel = (q: Queryable, parallelism = 2, pageSize = 7) =>
      verifyChain(q, { hmacKey: KEY, parallelism, pageSize, ...(workers ? { workers: workers() } : {}) });

    it('finds the intact log intact, as the walk in order does', async () => {
      expect(await parallel(t.db.sql)).toEqual(await sequential(t.db.sql));
    });

    it('reports a change at a partition boundary (either side of the join) exactly as the walk in order does', async () => {
      const joins = [seqs[0]!.at(-1)!, seqs[1]![0]!, seqs[1]!.at(-1)!, seqs[2]![0]!];
      for (const [name, change] of Object.entries(CHANGES))
        for (const seq of joins) {
          const [inOrder, both] = await tamper(
            t,
            seq,
            (tx) => change(tx, seq),
            async (q) => [await sequential(q), await parallel(q, 2, 5000)] as const,
          );
          expect(inOrder.ok, `${name} at ${seq}`).toBe(false);
          expect(inOrder.firstBad!.seq, `${name} at ${seq}`).toBe(seq);
          expect(both, `${name} at ${seq}`).toEqual(inOrder);
        }
    });

    it('answers as the walk in order for any change, page size and parallelism (property)', async () => {
      const all = seqs.flat();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...Object.keys(CHANGES)),
          fc.constantFrom(...all),
          fc.integer({ min: 2, max: 4 }),
          fc.integer({ min: 1, max: 40 }),
          async (name, seq, parallelism, pageSize) => {
            const [inOrder, both] = await tamper(
              t,
              seq,
              (tx) => CHANGES[name]!(tx, seq),
              async (q) => [await sequential(q), await parallel(q, parallelism, pageSize)] as const,
            );
            expect(inOrder.firstBad?.seq).toBe(seq);
            expect(both).toEqual(inOrder);
          },
        ),
        { numRuns: 30, seed: 22 },
      );
    });
  });

  itOnPostgres('a worker ended mid-walk fails the verification (an error, never intact)', async () => {
    let ended = 0;
    const workers = verifyInWorkers({
      ...workerOptions(),
      // After its first page (pages of one entry: its piece has more to walk), the first worker is ended.
      onStart: (worker) =>
        worker.once('message', () => {
          if (ended++ === 0) void worker.terminate();
        }),
    });
    await expect(verifyChain(t.db.sql, { hmacKey: KEY, parallelism: 2, pageSize: 1, workers })).rejects.toThrow(
      /could not be verified: the verification worker walking from entry \d+ exited/,
    );
    expect(ended).toBeGreaterThan(0);
    // The same walk with no worker ended is intact: the failure was the worker's.
    expect(
      (
        await verifyChain(t.db.sql, {
          hmacKey: KEY,
          parallelism: 2,
          pageSize: 1,
          workers: verifyInWorkers(workerOptions()),
        })
      ).ok,
    ).toBe(true);
  });

  itOnPostgres(
    'a worker silent past its deadline is ended and fails the verification (an error, never intact)',
    async () => {
      const started: Worker[] = [];
      const workers = verifyInWorkers({ ...workerOptions(), stallMs: 1, onStart: (w) => started.push(w) });
      await expect(verifyChain(t.db.sql, { hmacKey: KEY, parallelism: 2, workers })).rejects.toThrow(
        /could not be verified: the verification worker walking from entry \d+ was silent for 1 ms/,
      );
      // Ended, not left running.
      expect(started.length).toBeGreaterThan(0);
      expect(started.every((w) => w.threadId === -1)).toBe(true);
    },
  );

  itOnPostgres(
    'walks in worker threads started from the built bundle (npm start, the container), as the walk in order',
    async () => {
      const out = 'dist/verify-workers-test/jaga.mjs';
      await bundle('src/entry/node.ts', out);
      const script = verifyWorkerScript(pathToFileURL(join(ROOT, out)).href);
      expect(existsSync(script)).toBe(true);
      const workers = verifyInWorkers({ ...workerOptions(), script });
      expect(await verifyChain(t.db.sql, { hmacKey: KEY, parallelism: 2, pageSize: 7, workers })).toEqual(
        await sequential(t.db.sql),
      );
    },
    60_000,
  );
});
