import type postgres from 'postgres';
import type { DataDirLock } from './data-dir-lock.ts';

/** The one data-access handle: postgres.js, whether the server is PostgreSQL or embedded PGlite. */
export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;
/** Repos take either the pool or a transaction as their first argument. */
export type Queryable = Sql | TransactionSql;

export interface Database {
  sql: Sql;
  kind: 'postgres' | 'pglite';
  /**
   * A client of its own with a single connection, for work that must run in order on one
   * connection (the audit writer's pipelined batches), opened on first use and closed with the
   * database. Not a connection reserved from the pool: postgres.js's `reserve()` handle outlives
   * its connection's socket, and a query or release on it after a close corrupts the pool.
   * The embedded PGlite has one connection anyway: there it is `sql`.
   */
  single(): Sql;
  /** The embedded database's folder lock, held until close (PGlite in a folder only). */
  lock?: DataDirLock | undefined;
  /** Closes the connections (and the embedded server, if any). */
  close(): Promise<void>;
}
