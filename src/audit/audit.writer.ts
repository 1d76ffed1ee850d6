import type { Meter } from '@opentelemetry/api';
import { sqlOf, type Sql, type Transaction } from '../db/database.ts';
import { isDataRefusal } from '../db/pg-errors.ts';
import { DomainError } from '../shared/errors.ts';
import type { Logger } from '../system/logger.ts';
import { toEntryRow, type EntryRow } from './audit.entry.ts';
import { appendChained, ChainAppender, type BatchOutcome, type Queued } from './audit.append.ts';
import { canonicalTail } from './audit.hash.ts';
import { monthlyUpkeep } from './audit.partitions.ts';
import type { AuditEntryInput, AuditLog } from './audit.port.ts';

export interface WriterOptions {
  hmacKey?: string | undefined;
  /** Most entries waiting for a flush; beyond it callers wait `enqueueWaitMs`, then get AUDIT_UNAVAILABLE. */
  queueMax: number;
  /** Most entries per multi-row INSERT. */
  flushMax: number;
  /** Longest an entry nobody waits for stays queued before a flush starts (default 50 ms). */
  lingerMs?: number;
  enqueueWaitMs?: number;
  /** Lock wait bound of a flush (statements get twice as long). */
  writeTimeoutMs?: number;
  /** Bound of a flush's statements (default twice `writeTimeoutMs`). */
  statementTimeoutMs?: number;
  meter?: Meter;
  logger?: Logger;
  /** Runs before the first flush of each UTC month (creates partitions ahead, applies retention). */
  monthly?: (now: Date) => Promise<void>;
  /** `append` waits for the commit too (for per-request instances such as Workers). */
  durableAppends?: boolean;
  /**
   * A single-connection client of the writer's own: the next batch is sent on it while the
   * previous is written (PostgreSQL). Not with PGlite's single connection, nor per-request instances.
   */
  pipeline?: Sql | undefined;
}

interface Pending extends Queued {
  durable: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

// Bounds one statement's size and one transaction's hold of the chain lock.
const MAX_ROWS_PER_INSERT = 5000;
// Below this many waiting entries a batch is not split: per-statement costs outweigh the overlap.
const SPLIT_MIN = 128;
// Below this many waiting entries, no second batch is sent behind one in flight: they wait for
// its commit and go together in the next, so a trickle of durable checks shares commits (each
// commit costs PostgreSQL a fixed amount of CPU) instead of pipelining one commit per few checks.
const PIPELINE_MIN = 64;
// Default of `lingerMs`. Each commit costs both processes about a millisecond of CPU (measured:
// PostgreSQL 74 µs per entry at 31 entries a batch, 48 µs at 114), so checks gather before one.
const LINGER_MS = 50;

const unavailable = (detail: string, cause?: unknown) =>
  new DomainError('AUDIT_UNAVAILABLE', detail, cause === undefined ? {} : { cause });

/**
 * The audit log with group commit: entries queue in memory (bounded), one flusher writes them as
 * one multi-row INSERT per batch under the chain's advisory lock. `append` resolves once queued;
 * `appendDurable` once committed. A failed flush rejects its durable entries (their callers
 * disclose nothing) and keeps the others queued to retry: nothing is dropped silently.
 */
export class GroupCommitLog implements AuditLog {
  readonly #o: Required<
    Omit<WriterOptions, 'hmacKey' | 'meter' | 'logger' | 'monthly' | 'durableAppends' | 'pipeline'>
  > &
    Pick<WriterOptions, 'hmacKey' | 'logger' | 'monthly' | 'pipeline'>;
  readonly #maintain: () => Promise<void>;
  /** After the database refused a batch's data: this many entries go one per batch, to find the one. */
  #oneByOne = 0;
  readonly #appender: ChainAppender;
  readonly #durableAppends: boolean;
  #queue: Pending[] = [];
  #spaceWaiters: (() => void)[] = [];
  #running = false;
  /** Callers waiting for their entry's commit: while there are any, flushes do not linger. */
  #durableWaiting = 0;
  #linger: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #failures = 0;
  #lastError: string | undefined;
  #idle: (() => void)[] = [];
  #onFlushed: ((n: number) => void) | undefined;
  #flushSize: ReturnType<Meter['createHistogram']> | undefined;
  #flushLatency: ReturnType<Meter['createHistogram']> | undefined;
  #flushFailures: ReturnType<Meter['createCounter']> | undefined;

  constructor(sql: Sql, options: WriterOptions) {
    this.#o = {
      queueMax: options.queueMax,
      flushMax: Math.min(options.flushMax, MAX_ROWS_PER_INSERT),
      lingerMs: options.lingerMs ?? LINGER_MS,
      enqueueWaitMs: options.enqueueWaitMs ?? 2000,
      writeTimeoutMs: options.writeTimeoutMs ?? 3000,
      statementTimeoutMs: options.statementTimeoutMs ?? (options.writeTimeoutMs ?? 3000) * 2,
      hmacKey: options.hmacKey,
      logger: options.logger,
      monthly: options.monthly,
    };
    this.#durableAppends = options.durableAppends ?? false;
    this.#maintain = monthlyUpkeep(options.monthly, options.logger);
    this.#appender = new ChainAppender(sql, {
      hmacKey: options.hmacKey,
      waitMs: this.#o.writeTimeoutMs,
      statementMs: this.#o.statementTimeoutMs,
      pipeline: options.pipeline,
    });
    const m = options.meter;
    if (m) {
      m.createObservableGauge('jaga.audit.queue.depth', {
        description: 'Audit entries waiting for a flush',
      }).addCallback((r) => r.observe(this.#queue.length));
      this.#flushSize = m.createHistogram('jaga.audit.flush.size', { description: 'Entries per audit flush' });
      this.#flushLatency = m.createHistogram('jaga.audit.flush.duration', {
        description: 'Audit flush latency',
        unit: 'ms',
      });
      this.#flushFailures = m.createCounter('jaga.audit.flush.failures', { description: 'Audit flushes that failed' });
    }
  }

  get queueDepth(): number {
    return this.#queue.length;
  }

  /** Writer health for /readyz: accepting, and the last flush did not fail. */
  health(): { ok: boolean; detail?: string } {
    if (this.#closed) return { ok: false, detail: 'shutting down' };
    // A failure counts while entries wait for the retry; with nothing queued, the next entry tries afresh.
    if (this.#failures > 0 && this.#queue.length > 0)
      return { ok: false, detail: `flush failing: ${this.#lastError ?? 'unknown'}` };
    if (this.#queue.length >= this.#o.queueMax) return { ok: false, detail: 'queue full' };
    return { ok: true };
  }

  /** Test/bench hook: called after each committed batch with its size. */
  onFlushed(fn: (n: number) => void): void {
    this.#onFlushed = fn;
  }

  async append(entry: AuditEntryInput): Promise<{ id: string }> {
    const row = toEntryRow(entry);
    await this.#enqueue([row], this.#durableAppends);
    return { id: row.id };
  }

  async appendDurable(entry: AuditEntryInput): Promise<{ id: string }> {
    const row = toEntryRow(entry);
    await this.#enqueue([row], true);
    return { id: row.id };
  }

  async appendAll(entries: AuditEntryInput[], durable: boolean): Promise<string[]> {
    // All validated before any is queued: a refused entry queues none of the request's.
    const rows = entries.map((e) => toEntryRow(e));
    await this.#enqueue(rows, durable || this.#durableAppends);
    return rows.map((r) => r.id);
  }

  async appendWithin(tx: Transaction, entry: AuditEntryInput): Promise<{ id: string }> {
    const row = toEntryRow(entry);
    await appendChained(sqlOf(tx), [row], this.#o.hmacKey);
    return { id: row.id };
  }

  /** Stops accepting, then flushes everything queued (retrying) until `timeoutMs`; reports what is left. */
  async close(timeoutMs: number): Promise<number> {
    this.#closed = true;
    for (const w of this.#spaceWaiters.splice(0)) w();
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length && Date.now() < deadline) {
      this.#kick();
      await new Promise<void>((res) => {
        this.#idle.push(res);
        setTimeout(res, Math.max(1, Math.min(200, deadline - Date.now())));
      });
    }
    const left = this.#queue.length;
    if (left) {
      this.#o.logger?.error('audit log closed with entries not written', { left, error: this.#lastError });
      for (const p of this.#queue.splice(0))
        p.reject(unavailable('The audit log shut down before the entry was written.'));
    }
    return left;
  }

  /** Queues a request's rows in order, with one promise for all of them (settled when the last commits, or at the first failure). */
  async #enqueue(rows: EntryRow[], durable: boolean): Promise<void> {
    if (!rows.length) return;
    if (this.#closed) throw unavailable('The audit log is shutting down.');
    if (this.#queue.length >= this.#o.queueMax) await this.#waitForSpace();
    let left = rows.length;
    let resolveAll!: () => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolveAll = res;
      reject = rej;
    });
    const resolve = () => {
      if (--left === 0) resolveAll();
    };
    for (const row of rows) this.#queue.push({ row, tail: canonicalTail(row), durable, resolve, reject });
    if (!durable) {
      done.catch(() => {}); // non-durable entries are retried, never rejected but at close (logged)
      return this.#kick(false);
    }
    this.#durableWaiting += 1;
    this.#kick();
    try {
      await done;
    } finally {
      this.#durableWaiting -= 1;
    }
  }

  async #waitForSpace(): Promise<void> {
    const deadline = Date.now() + this.#o.enqueueWaitMs;
    while (this.#queue.length >= this.#o.queueMax) {
      if (this.#closed) throw unavailable('The audit log is shutting down.');
      const left = deadline - Date.now();
      if (left <= 0) throw unavailable('The audit queue is full; retry later.', undefined);
      await new Promise<void>((res) => {
        const timer = setTimeout(res, left);
        this.#spaceWaiters.push(() => {
          clearTimeout(timer);
          res();
        });
      });
    }
  }

  /**
   * Starts the flusher. Durable entries (someone waits for them) start it at once, letting only
   * producers of the same tick join; queued-only entries linger up to `lingerMs` so that more join
   * the batch: fewer commits per entry under a steady stream of checks, at no cost to callers,
   * who already have their answer.
   */
  #kick(urgent = true): void {
    if (this.#running) return;
    if (!urgent && !this.#urgent()) {
      this.#linger ??= setTimeout(() => {
        this.#linger = undefined;
        this.#start();
      }, this.#o.lingerMs);
      return;
    }
    this.#start();
  }

  #start(): void {
    if (this.#running) return;
    clearTimeout(this.#linger);
    this.#linger = undefined;
    this.#running = true;
    setImmediate(() => void this.#run());
  }

  #urgent(): boolean {
    return this.#closed || this.#durableWaiting > 0 || this.#queue.length >= this.#o.flushMax;
  }

  async #run(): Promise<void> {
    const flights: { batch: Pending[]; outcome: Promise<BatchOutcome>; started: number }[] = [];
    try {
      let first = true;
      while (this.#queue.length) {
        // Past the first round, batches nobody waits for are not sent in a trickle behind the
        // one in flight: the run ends and they linger (see #kick), so they go out in fewer commits.
        const sending = first || this.#urgent();
        if (!sending && !flights.length) break;
        first = false;
        await this.#maintain();
        // In flight: always the front of the queue. A second batch starts only while the head is known.
        let sent = flights.reduce((n, f) => n + f.batch.length, 0);
        while (
          sending &&
          flights.length < this.#appender.depth &&
          sent < this.#queue.length &&
          (flights.length === 0 ||
            (this.#oneByOne === 0 && this.#appender.knowsHead && this.#queue.length - sent >= PIPELINE_MIN))
        ) {
          // With nothing in flight, split what waits in two, so the second half is hashed and sent
          // while the first is written.
          const waiting = this.#queue.length - sent;
          const size =
            this.#oneByOne > 0
              ? 1
              : flights.length || waiting < SPLIT_MIN
                ? this.#o.flushMax
                : Math.min(this.#o.flushMax, Math.ceil(waiting / this.#appender.depth));
          const batch = this.#queue.slice(sent, sent + size);
          sent += batch.length;
          const outcome = this.#appender.start(batch);
          outcome.catch(() => {}); // handled below, in order
          flights.push({ batch, outcome, started: performance.now() });
        }
        const flight = flights.shift();
        if (!flight) break;
        let result: BatchOutcome | Error;
        try {
          result = await flight.outcome;
        } catch (error) {
          result = error as Error;
        }
        if (result === 'committed') this.#committed(flight.batch, flight.started);
        else if (result === 'head-moved')
          this.#appender.forget(); // its entries stay queued, in front
        else if (isDataRefusal(result)) {
          this.#appender.forget();
          this.#isolate(flight.batch, result);
        } else {
          this.#appender.forget();
          this.#failed(flight.batch, result);
          if (!flights.length && this.#queue.length) await sleep(Math.min(1000, 50 * 2 ** Math.min(this.#failures, 5)));
        }
      }
    } finally {
      this.#running = false;
      for (const w of this.#idle.splice(0)) w();
      if (this.#queue.length) this.#kick(false);
    }
  }

  #committed(batch: Pending[], started: number): void {
    this.#failures = 0;
    this.#oneByOne = Math.max(0, this.#oneByOne - batch.length);
    this.#lastError = undefined;
    // A committed batch is the front of the queue (flights start there, in order).
    if (this.#queue[0] === batch[0] && this.#queue[batch.length - 1] === batch.at(-1))
      this.#queue.splice(0, batch.length);
    else {
      const done = new Set(batch);
      this.#queue = this.#queue.filter((p) => !done.has(p));
    }
    for (const p of batch) p.resolve();
    this.#flushSize?.record(batch.length);
    this.#flushLatency?.record(performance.now() - started);
    this.#onFlushed?.(batch.length);
    this.#releaseSpace();
  }

  /**
   * The database refused a batch's data (a row no retry can store): without this, the batch would
   * fail on every retry and hold up the whole log. Its entries go one per batch until the refused
   * one is alone; that one is replaced by a marker with its id (so the id stays in the chain and
   * the refusal is on record), or, if even the marker is refused, dropped and logged.
   */
  #isolate(batch: Pending[], error: Error & { code: string }): void {
    this.#flushFailures?.add(1);
    if (batch.length > 1) {
      // Everyone stays queued (durable callers keep waiting): only the refused entry is at fault.
      this.#o.logger?.warn('audit batch refused by the database: sending its entries one by one', {
        size: batch.length,
        code: error.code,
      });
      this.#oneByOne = Math.max(this.#oneByOne, batch.length);
      return;
    }
    const refused = batch[0];
    if (!refused) return;
    if (refused.durable) {
      this.#failed(batch, error); // its caller hears AUDIT_UNAVAILABLE and discloses nothing
      return;
    }
    if (refused.row.details.refusedBy !== undefined) {
      this.#queue = this.#queue.filter((p) => p !== refused);
      refused.reject(unavailable('The database refused the audit entry.', error));
      this.#o.logger?.error('audit entry dropped: the database refused it and its marker', {
        id: refused.row.id,
        code: error.code,
      });
      this.#releaseSpace();
      return;
    }
    refused.row = refusalMarker(refused.row, error.code);
    refused.tail = canonicalTail(refused.row);
    this.#o.logger?.error('audit entry replaced by a refusal marker', { id: refused.row.id, code: error.code });
  }

  /** Durable callers learn now and disclose nothing; the rest stay queued, in order, for a retry. */
  #failed(batch: Pending[], error: Error): void {
    this.#failures += 1;
    this.#lastError = error.message;
    this.#flushFailures?.add(1);
    this.#o.logger?.error('audit flush failed', { size: batch.length, error });
    const failed = new Set(batch.filter((p) => p.durable));
    this.#queue = this.#queue.filter((p) => !failed.has(p));
    for (const p of failed) p.reject(unavailable('The audit log cannot record the decision.', error));
    this.#releaseSpace();
  }

  #releaseSpace(): void {
    let free = this.#o.queueMax - this.#queue.length;
    while (free-- > 0 && this.#spaceWaiters.length) this.#spaceWaiters.shift()?.();
  }
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** What is kept of an entry the database refused: its id, time, event and effect, and why. */
function refusalMarker(row: EntryRow, code: string): EntryRow {
  return {
    ...row,
    principalSub: null,
    principalKind: 'unknown',
    principalRoles: [],
    principalUnit: null,
    action: 'refused',
    resourceType: 'AuditEntry',
    resourceId: null,
    datasetId: null,
    resourceUnit: null,
    classification: null,
    labelVersion: null,
    ruleId: null,
    reason: `The database refused this entry as made (SQLSTATE ${code}); this marker keeps its id in the chain.`,
    policyVersion: null,
    fieldsWhole: [],
    fieldsMasked: [],
    fieldsOmitted: [],
    purpose: null,
    rowCount: null,
    requestId: null,
    traceId: null,
    details: { refusedBy: code },
  };
}
