import type { CoreDeps } from '../deps.ts';
import { keyingDetail } from './audit.hash.ts';
import { ensurePartitions, prunePartitions } from './audit.partitions.ts';
import { RequestAuditLog } from './audit.request-log.ts';
import { startRollupJob } from './audit.rollup.ts';
import { GroupCommitLog } from './audit.writer.ts';

/**
 * Builds the audit log for this instance: partitions ahead, the group-commit writer, its
 * readiness checks `audit` and `audit_key` (keyed or not) and a shutdown hook that flushes
 * everything queued. Where a connection belongs to one request (Workers: `db.current`), the
 * log writes each request's entries on its own client and keeps nothing between requests.
 */
export async function wireAudit(
  core: CoreDeps,
  options: { perRequest?: boolean } = {},
): Promise<GroupCommitLog | RequestAuditLog> {
  const { sql } = core.db;
  const { audit } = core.config;
  const monthly = async (now: Date) => {
    await ensurePartitions(sql, now);
    const dropped = await prunePartitions(sql, now, audit.retentionMonths, audit.archiveDir);
    if (dropped.length)
      core.logger.info('audit partitions dropped by retention', { dropped, archivedTo: audit.archiveDir ?? null });
  };
  // An unkeyed chain is warned about once at start-up with the other unset secrets (src/system/first-run.ts).
  // Where start-up may do no I/O (Workers: each request brings its client), partition upkeep waits
  // for the first write of the month.
  if (!options.perRequest) {
    try {
      await monthly(new Date());
    } catch (error) {
      // The default partition takes entries meanwhile; the first flush retries.
      core.logger.warn('audit partition maintenance failed at start', { error });
    }
  }
  // A flush's statements end before the request deadline, so a caller waiting for its entry
  // hears AUDIT_UNAVAILABLE, not a generic timeout; waits for the chain lock a little sooner.
  const writeTimeoutMs = Math.min(3000, core.config.databaseDeadlineMs * 0.6);
  const statementTimeoutMs = Math.min(6000, core.config.databaseDeadlineMs * 0.8);
  const keying = { ok: true, detail: keyingDetail(audit.hmacKey) };
  if (core.db.current) {
    const log = new RequestAuditLog({
      clientOf: core.db.current,
      hmacKey: audit.hmacKey,
      writeTimeoutMs,
      monthly,
      logger: core.logger,
    });
    core.readiness.register('audit', () => log.health());
    core.readiness.register('audit_key', () => keying);
    return log;
  }
  const log = new GroupCommitLog(sql, {
    hmacKey: audit.hmacKey,
    queueMax: audit.queueMax,
    flushMax: audit.flushMax,
    lingerMs: audit.flushLingerMs,
    writeTimeoutMs,
    statementTimeoutMs,
    meter: core.telemetry.meter,
    logger: core.logger,
    monthly,
    // A per-request instance ends with its response: nothing may wait in memory beyond it.
    durableAppends: options.perRequest ?? false,
    // A connection of the writer's own, to pipeline batches (see audit.append.ts).
    pipeline: core.db.kind === 'postgres' && !options.perRequest ? core.db.single() : undefined,
  });
  core.readiness.register('audit', () => log.health());
  // The reports' rollups follow the log in the background (reports add what they lag behind).
  const rollups = startRollupJob(sql, { intervalMs: audit.rollupIntervalMs, logger: core.logger });
  // Always ok: an unkeyed chain is the operator's choice (refused only in production, see config.ts).
  core.readiness.register('audit_key', () => keying);
  core.lifecycle.onShutdown('audit', async () => {
    await rollups.stop();
    await log.close(core.config.shutdownTimeoutMs);
  });
  return log;
}
