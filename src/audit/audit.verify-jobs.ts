import type { Queryable } from '../db/database.ts';
import { DomainError } from '../shared/errors.ts';
import { recordVerified } from './audit.repo.ts';
import { verifyChain, type StartPieceWalkers, type VerifyResult } from './audit.verify.ts';

export interface VerifyJob {
  id: string;
  state: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  /** Entries walked so far, and the head when the walk started. */
  checked: number;
  total: number;
  result: VerifyResult | null;
  error: string | null;
}

// Finished jobs kept for their callers to read; the oldest go first.
const KEEP = 50;

/**
 * Full re-verifications from the start of the chain, run in the background of this process
 * (`parallelism` segments of the chain at once, in worker threads where `workers` is given), one
 * at a time (a second request while one runs answers the running one). Jobs live in memory: a
 * restart forgets them (start another). A walk that finds the chain intact records its end as
 * verified, which is where the next incremental walk starts.
 */
export function createVerifyJobs(
  sql: Queryable,
  hmacKey: string | undefined,
  parallelism = 1,
  workers?: StartPieceWalkers,
) {
  const jobs = new Map<string, VerifyJob>();
  let running: VerifyJob | undefined;
  const run = async (job: VerifyJob) => {
    try {
      const result = await verifyChain(sql, {
        hmacKey,
        parallelism,
        ...(workers ? { workers } : {}),
        onProgress: (checked, total) => {
          job.checked = checked;
          job.total = total;
        },
      });
      const { lastHash, ...shown } = result;
      if (result.ok) await recordVerified(sql, { seq: result.lastSeq, hash: lastHash, fullWalk: true });
      job.checked = result.checked;
      job.result = shown;
      job.state = 'done';
    } catch (error) {
      job.state = 'failed';
      job.error = (error as Error).message;
    } finally {
      job.finishedAt = new Date().toISOString();
      running = undefined;
    }
  };
  return {
    start(): VerifyJob {
      if (running) return running;
      const job: VerifyJob = {
        id: crypto.randomUUID(),
        state: 'running',
        startedAt: new Date().toISOString(),
        finishedAt: null,
        checked: 0,
        total: 0,
        result: null,
        error: null,
      };
      jobs.set(job.id, job);
      for (const id of jobs.keys()) if (jobs.size > KEEP && jobs.get(id)!.state !== 'running') jobs.delete(id);
      running = job;
      void run(job);
      return job;
    },
    get(id: string): VerifyJob {
      const job = jobs.get(id);
      if (!job)
        throw new DomainError('NOT_FOUND', 'No such verification job (jobs are kept in memory until a restart).');
      return job;
    },
    /** Resolves when the running job, if any, has finished (tests, shutdown). */
    async idle(): Promise<void> {
      while (running) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

export type VerifyJobs = ReturnType<typeof createVerifyJobs>;
