import type postgres from 'postgres';
import type { DataDirLock } from './data-dir-lock.ts';

/** The one data-access handle: postgres.js, whether the server is PostgreSQL or embedded PGlite. */
export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;
/** Repos take either the pool or a transaction as their first argument. */
export type Queryable = Sql | TransactionSql;

declare const OPEN_TRANSACTION: unique symbol;
/**
 * A transaction handed across a capability's port (the catalog's change and its audit entry
 * commit together): opaque to the port, so no capability's interface names postgres.js's types.
 * `asTransaction` wraps the caller's transaction; `sqlOf` opens it again in the storage code.
 */
export interface Transaction {
  readonly [OPEN_TRANSACTION]: TransactionSql;
}
export const asTransaction = (tx: TransactionSql): Transaction => tx as unknown as Transaction;
export const sqlOf = (tx: Transaction): TransactionSql => tx as unknown as TransactionSql;

export interface Database {
  sql: Sql;
  kind: 'postgres' | 'pglite';
  /** PostgreSQL: the URL it was opened with (worker threads open their own connections to it). */
  url?: string;
  /**
   * A client of its own with a single connection, for work that must run in order on one
   * connection (the audit writer's pipelined batches), opened on first use and closed with the
   * database. Not a connection reserved from the pool: postgres.js's `reserve()` handle outlives
   * its connection's socket, and a query or release on it after a close corrupts the pool.
   * The embedded PGlite has one connection anyway: there it is `sql`.
   */
  single(): Sql;
  /**
   * Where a connection belongs to one request (Workers, see request-scoped.ts): the client of the
   * request being served, to group work by request. Absent elsewhere.
   */
  current?(): Sql;
  /** The embedded database's folder lock, held until close (PGlite in a folder only). */
  lock?: DataDirLock | undefined;
  /** Closes the connections (and the embedded server, if any). */
  close(): Promise<void>;
}
