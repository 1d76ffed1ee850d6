import type { Queryable, Sql, TransactionSql } from '../db/database.ts';
import type { ChainedRow, EntryRow } from './audit.entry.ts';
import { canonicalTail, linkHash } from './audit.hash.ts';
import { entryAt, HEAD_MOVED, insertEntries, insertEntriesGuarded, lockHead, type Head } from './audit.repo.ts';

/** An entry waiting to be chained, with the part of its hash input that does not depend on its place. */
export interface Queued {
  row: EntryRow;
  tail: string;
}

export const queued = (row: EntryRow): Queued => ({ row, tail: canonicalTail(row) });

/** Gives rows their place after `head`: seq, one time for the batch (never behind the head), links and hashes. */
export function chain(rows: Queued[], head: Head, now: Date, hmacKey: string | undefined): ChainedRow[] {
  const at = now > head.at ? now : head.at; // `at` grows with seq, so partitions hold seq ranges
  const atText = at.toISOString();
  let seq = head.seq;
  let prev = head.hash;
  return rows.map(({ row, tail }) => {
    seq += 1;
    const hash = linkHash(hmacKey, prev, seq, row.id, atText, tail);
    const full: ChainedRow = { ...row, seq, at, prevHash: prev, hash };
    prev = hash;
    return full;
  });
}

const headOf = (r: ChainedRow): Head => ({ seq: r.seq, hash: r.hash, at: r.at });

/** A batch that failed without a definite answer: its commit may have happened (a lost reply). */
interface Unsure {
  ids: Set<string>;
  last: Head;
}
const unsureOf = (rows: ChainedRow[]): Unsure => ({ ids: new Set(rows.map((r) => r.id)), last: headOf(rows.at(-1)!) });
// Kept for the next careful write to settle; beyond this many, the oldest are not checked.
const UNSURE_MAX = 16;

/** Assigns seq, time and hashes to rows under the chain lock and inserts them, inside `tx`. */
export async function appendChained(
  tx: TransactionSql,
  rows: EntryRow[],
  hmacKey: string | undefined,
  waitMs?: number,
): Promise<ChainedRow[]> {
  const head = await lockHead(tx, waitMs);
  const chained = chain(rows.map(queued), head, head.now, hmacKey);
  await insertEntries(tx, chained, head);
  return chained;
}

/**
 * The batch lost the head to another writer: the guard said so, or the insert met that writer's
 * rows under the same (seq, at) key before the guard ran.
 */
function headMoved(error: unknown): boolean {
  const e = error as { code?: string; constraint_name?: string };
  return e.code === HEAD_MOVED || (e.code === '23505' && (e.constraint_name ?? '').startsWith('audit_entry'));
}

export type BatchOutcome = 'committed' | 'head-moved';

/**
 * Writes batches onto the chain. While it believes it knows the chain head (it wrote the last
 * batch), a batch is hashed at once and sent as one guarded statement, its own transaction, and
 * the believed head moves on at once. With a `pipeline` client (one connection of the writer's
 * own), the next batch is hashed and sent while the previous is still being written, and the
 * database runs them in order; if that connection dies, the client opens a new one. If another instance moved the head, or an
 * earlier batch failed, the guard fails the statement whole ('head-moved') and the next batch goes
 * the careful way: chain lock, read the head, insert.
 */
export class ChainAppender {
  readonly #sql: Sql;
  readonly #hmacKey: string | undefined;
  readonly #waitMs: number;
  readonly #statementMs: number;
  readonly #pipeline: Sql | undefined;
  #head: Head | undefined;
  #unsure: Unsure[] = [];

  /** @param o.pipeline a single-connection client to pipeline batches on; without it, one batch at a time on `sql`. */
  constructor(
    sql: Sql,
    o: { hmacKey: string | undefined; waitMs: number; statementMs?: number; pipeline?: Sql | undefined },
  ) {
    this.#sql = o.pipeline ?? sql;
    this.#hmacKey = o.hmacKey;
    this.#waitMs = Math.trunc(o.waitMs);
    this.#statementMs = Math.trunc(o.statementMs ?? o.waitMs * 2);
    this.#pipeline = o.pipeline;
  }

  /** How many batches may be in flight at once. */
  get depth(): number {
    return this.#pipeline ? 2 : 1;
  }

  /** True when a batch can start before the previous one has committed. */
  get knowsHead(): boolean {
    return this.#head !== undefined;
  }

  /** After a failure or a moved head: the next batch reads the head under the lock. */
  forget(): void {
    this.#head = undefined;
  }

  /** Starts a batch. Rejects on a database error (nothing of the batch was written). */
  start(batch: Queued[]): Promise<BatchOutcome> {
    const believed = this.#head;
    if (!believed) return this.#careful(batch);
    const rows = chain(batch, believed, new Date(), this.#hmacKey);
    this.#head = headOf(rows.at(-1)!);
    return this.#optimistic(rows, believed);
  }

  async #optimistic(rows: ChainedRow[], believed: Head): Promise<BatchOutcome> {
    const query = insertEntriesGuarded(this.#sql, rows, believed);
    // No transaction to carry statement_timeout: bound the wait (for the head row) from here.
    const timer = setTimeout(() => void query.cancel(), this.#statementMs);
    try {
      if ((await query)[0]?.n !== rows.length) throw new Error('the audit batch insert wrote a partial batch');
      return 'committed';
    } catch (error) {
      this.#head = undefined;
      if (headMoved(error)) return 'head-moved';
      this.#remember(rows);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #careful(batch: Queued[]): Promise<BatchOutcome> {
    let rows: ChainedRow[] = [];
    try {
      const head = await this.#sql.begin(async (tx) => {
        const h = await lockHead(tx, this.#waitMs, this.#statementMs);
        // Entries of earlier batches that did land although their answer was lost are not written again.
        const landed = await this.#landed(tx);
        const rest = landed.size ? batch.filter((q) => !landed.has(q.row.id)) : batch;
        rows = chain(rest, h, h.now, this.#hmacKey);
        if (rows.length) await insertEntries(tx, rows, h);
        return h;
      });
      this.#unsure = [];
      this.#head = rows.length ? headOf(rows.at(-1)!) : { seq: head.seq, hash: head.hash, at: head.at };
      return 'committed';
    } catch (error) {
      if (rows.length) this.#remember(rows); // the commit itself may have happened
      throw error;
    }
  }

  #remember(rows: ChainedRow[]): void {
    this.#unsure.push(unsureOf(rows));
    if (this.#unsure.length > UNSURE_MAX) this.#unsure.shift();
  }

  /**
   * Under the chain lock, the ids of unsure batches that are in the chain: a batch landed when its
   * last entry's seq holds the hash this writer computed for it (another writer's entry there
   * would have another hash). Everything this writer sent earlier has finished or will fail on
   * the head it no longer has.
   */
  async #landed(conn: Queryable): Promise<Set<string>> {
    const landed = new Set<string>();
    for (const u of this.#unsure) {
      if ((await entryAt(conn, u.last.seq))?.hash === u.last.hash) for (const id of u.ids) landed.add(id);
    }
    return landed;
  }
}
