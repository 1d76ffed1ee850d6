import type postgres from 'postgres';

/** The one data-access handle: postgres.js, whether the server is PostgreSQL or embedded PGlite. */
export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;
/** Repos take either the pool or a transaction as their first argument. */
export type Queryable = Sql | TransactionSql;

export interface Database {
  sql: Sql;
  kind: 'postgres' | 'pglite';
  /** Closes the connections (and the embedded server, if any). */
  close(): Promise<void>;
}
