import type { Database } from '../db/database.ts';
import type { Logger } from '../system/logger.ts';
import { createRangeIndexSql, rangeIndexName } from './range-filter.ts';
import {
  buildInProgress,
  claimBuild,
  declaredRanges,
  existingRangeIndexes,
  forgetUndeclared,
  markReady,
  recordOutcome,
  type DeclaredRange,
} from './range-index.repo.ts';

/**
 * Keeps the range indexes on `records` equal to the declarations (`fields.filter = 'range'`):
 * builds what is declared and missing, drops what is no longer declared (or whose dataset is
 * gone), and retries failed builds. On PostgreSQL an index is built with CREATE INDEX
 * CONCURRENTLY, outside any transaction, so ingest and reads go on while it builds; a build that
 * fails leaves an invalid index, which is dropped and the failure recorded (the field's view shows
 * it) until the next attempt. On PGlite a plain CREATE INDEX. Runs after each declaration change,
 * at start, and every `retryMs`.
 */
export interface RangeIndexBuilder {
  /** Reconciles soon (coalesced with one already running). */
  kick(): void;
  /** Reconciles now, after the one running; resolves when done (tests, the CLI). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export interface RangeIndexBuilderOptions {
  db: Pick<Database, 'sql' | 'kind'>;
  /** A failed build is retried after this long times its attempts so far (at most 64 times as long). */
  retryMs: number;
  logger?: Logger | undefined;
  /** A build claimed this long ago and not finished is taken over (its builder went away). */
  staleMs?: number;
}

/** One pass: builds what is declared and missing (or due again), drops what is no longer declared. */
export async function reconcileRangeIndexes(
  db: Pick<Database, 'sql' | 'kind'>,
  o: { retryMs: number; staleMs?: number; logger?: Logger | undefined; stopped?: () => boolean },
): Promise<void> {
  const { sql } = db;
  const staleMs = o.staleMs ?? DEFAULT_STALE_MS;
  const concurrently = db.kind === 'postgres';
  const stopped = o.stopped ?? (() => false);
  const drop = (name: string) => sql.unsafe(`drop index ${concurrently ? 'concurrently ' : ''}if exists ${name}`);

  async function build(d: DeclaredRange, name: string, invalid: boolean, takeover = false): Promise<void> {
    if (!(await claimBuild(sql, d, name, staleMs, takeover))) return;
    try {
      if (invalid) await drop(name);
      await sql.unsafe(createRangeIndexSql(d.dataset_id, d.field, d.type, concurrently));
      if ((await existingRangeIndexes(sql)).get(name) !== true) throw new Error('the build left an invalid index');
      await recordOutcome(sql, d, { status: 'ready' });
      o.logger?.info('range index built', { dataset: d.dataset_id, field: d.field, index: name });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      o.logger?.warn('range index build failed', { dataset: d.dataset_id, field: d.field, index: name, error });
      await drop(name).catch(() => {});
      await recordOutcome(sql, d, { status: 'failed', error: message });
    }
  }

  const declared = await declaredRanges(sql, o.retryMs, staleMs);
  const existing = await existingRangeIndexes(sql);
  const wanted = new Map(declared.map((d) => [rangeIndexName(d.dataset_id, d.field), d]));
  for (const name of existing.keys()) {
    if (stopped()) return;
    if (!wanted.has(name)) await drop(name);
  }
  await forgetUndeclared(sql);
  for (const [name, d] of wanted) {
    if (stopped()) return;
    const valid = existing.get(name);
    if (valid === true) {
      if (d.status !== 'ready') await markReady(sql, d, name);
    } else if (d.status === 'ready' || d.due) {
      await build(d, name, valid === false);
    } else if (d.quiet && !(await buildInProgress(sql, name))) {
      // Claimed, but nobody builds it (the builder's process stopped mid-build): take it over.
      await build(d, name, valid === false, true);
    }
  }
}

/** A build claimed this long ago and not finished is taken over (its builder went away). */
const DEFAULT_STALE_MS = 6 * 3_600_000;

export function startRangeIndexBuilder(o: RangeIndexBuilderOptions): RangeIndexBuilder {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reconcile = () =>
    reconcileRangeIndexes(o.db, {
      retryMs: o.retryMs,
      ...(o.staleMs !== undefined ? { staleMs: o.staleMs } : {}),
      logger: o.logger,
      stopped: () => stopped,
    });

  const run = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await reconcile().catch((error: unknown) => o.logger?.warn('range index reconcile failed', { error }));
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void run().then(schedule), o.retryMs);
    timer.unref?.();
  };
  void run().then(schedule);

  return {
    kick: () => void (stopped ? undefined : run()),
    async settle() {
      await running;
      await run();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
