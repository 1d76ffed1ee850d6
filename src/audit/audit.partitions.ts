import type { Sql } from '../db/database.ts';
import { archivePartition } from './audit.archive.ts';
import { createPartition, dropPartition, listPartitions } from './audit.repo.ts';

const monthIndex = (year: number, month: number) => year * 12 + (month - 1);
const fromIndex = (i: number) => ({ year: Math.floor(i / 12), month: (i % 12) + 1 });

/** Creates this month's partition and the next `ahead` months' (UTC). */
export async function ensurePartitions(sql: Sql, now: Date, ahead = 2): Promise<void> {
  const current = monthIndex(now.getUTCFullYear(), now.getUTCMonth() + 1);
  const existing = new Set((await listPartitions(sql)).map((p) => monthIndex(p.year, p.month)));
  for (let i = current; i <= current + ahead; i++) {
    if (existing.has(i)) continue;
    const { year, month } = fromIndex(i);
    await createPartition(sql, year, month);
  }
}

/**
 * Drops monthly partitions whose every entry is older than `retentionMonths` whole months:
 * a partition goes only when its end lies on or before the first day of the month that is
 * `retentionMonths` before the current one, so nothing newer than the retention period is dropped.
 * The default partition is never dropped. With `archiveDir`, each partition is first exported there
 * (audit.archive.ts: NDJSON and its checkpoint, synced), and one whose export fails is not dropped.
 *
 * @returns the names dropped
 */
export async function prunePartitions(
  sql: Sql,
  now: Date,
  retentionMonths: number,
  archiveDir?: string,
): Promise<string[]> {
  const cutoff = monthIndex(now.getUTCFullYear(), now.getUTCMonth() + 1) - retentionMonths;
  const dropped: string[] = [];
  for (const p of await listPartitions(sql)) {
    // The partition covers [start of month, start of next month): drop when next month start <= cutoff start.
    if (monthIndex(p.year, p.month) + 1 <= cutoff) {
      if (archiveDir) await archivePartition(sql, p.name, archiveDir);
      await dropPartition(sql, p.name);
      dropped.push(p.name);
    }
  }
  return dropped.sort();
}

/**
 * Runs `monthly` (partitions ahead, retention) before the first write of each UTC month. A failure
 * is logged and retried at the next write: the default partition takes entries meanwhile.
 */
export function monthlyUpkeep(
  monthly: ((now: Date) => Promise<void>) | undefined,
  logger: { warn(msg: string, fields?: Record<string, unknown>): void } | undefined,
): () => Promise<void> {
  let done = -1;
  return async () => {
    const now = new Date();
    const month = now.getUTCFullYear() * 12 + now.getUTCMonth();
    if (month === done || !monthly) return;
    try {
      await monthly(now);
      done = month;
    } catch (error) {
      logger?.warn('audit partition maintenance failed', { error });
    }
  };
}
