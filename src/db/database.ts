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
  /** The embedded database's folder lock, held until close (PGlite in a folder only). */
  lock?: DataDirLock | undefined;
  /** Closes the connections (and the embedded server, if any). */
  close(): Promise<void>;
}
