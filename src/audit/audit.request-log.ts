import { sqlOf, type Sql, type Transaction } from '../db/database.ts';
import { DomainError } from '../shared/errors.ts';
import type { Logger } from '../system/logger.ts';
import { toEntryRow, type EntryRow } from './audit.entry.ts';
import { appendChained } from './audit.append.ts';
import { monthlyUpkeep } from './audit.partitions.ts';
import type { AuditEntryInput, AuditLog } from './audit.port.ts';

export interface RequestLogOptions {
  /** The client of the request being served (Database.current). */
  clientOf: () => Sql;
  hmacKey?: string | undefined;
  writeTimeoutMs: number;
  /** Partition upkeep, run before the first write of each month. */
  monthly?: (now: Date) => Promise<void>;
  logger?: Logger | undefined;
}

/**
 * The audit log where a connection belongs to one request (Workers). Built once per isolate, it
 * holds nothing between requests: every append is durable before it resolves (nothing may wait in
 * memory beyond the response), and the entries one request appends in the same turn (a batch of
 * checks) are chained in one transaction on that request's own client. Entries of different
 * requests never share a write: a request's I/O cannot be used by another.
 */
export class RequestAuditLog implements AuditLog {
  readonly #o: RequestLogOptions;
  readonly #batches = new WeakMap<Sql, Promise<void> & { rows?: EntryRow[] }>();
  readonly #maintain: () => Promise<void>;

  constructor(options: RequestLogOptions) {
    this.#o = options;
    this.#maintain = monthlyUpkeep(options.monthly, options.logger);
  }

  append(entry: AuditEntryInput): Promise<{ id: string }> {
    return this.appendDurable(entry);
  }

  async appendDurable(entry: AuditEntryInput): Promise<{ id: string }> {
    const row = toEntryRow(entry);
    const client = this.#o.clientOf();
    let batch = this.#batches.get(client);
    if (!batch?.rows) {
      const rows: EntryRow[] = [];
      // Written after the current turn, so the appends a request makes together join one transaction.
      const written: Promise<void> & { rows?: EntryRow[] } = Promise.resolve().then(() => {
        delete written.rows;
        return this.#write(client, rows);
      });
      written.rows = rows;
      this.#batches.set(client, written);
      batch = written;
    }
    batch.rows!.push(row);
    try {
      await batch;
    } catch (error) {
      throw new DomainError('AUDIT_UNAVAILABLE', 'The audit log cannot record the decision.', { cause: error });
    }
    return { id: row.id };
  }

  async appendWithin(tx: Transaction, entry: AuditEntryInput): Promise<{ id: string }> {
    const row = toEntryRow(entry);
    await appendChained(sqlOf(tx), [row], this.#o.hmacKey);
    return { id: row.id };
  }

  health(): { ok: boolean; detail?: string } {
    return { ok: true };
  }

  async #write(client: Sql, rows: EntryRow[]): Promise<void> {
    await this.#maintain();
    await client.begin((tx) => appendChained(tx, rows, this.#o.hmacKey, this.#o.writeTimeoutMs));
  }
}
