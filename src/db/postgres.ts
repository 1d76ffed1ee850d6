import postgres from 'postgres';
import type { Database } from './database.ts';

export interface PostgresOptions {
  max?: number;
  /** Longest wait for a new connection to be ready, in seconds (postgres.js `connect_timeout`). */
  connectTimeoutS?: number;
  /** Ends any statement running longer than this, in milliseconds (PostgreSQL `statement_timeout`); unset: no limit. */
  statementTimeoutMs?: number;
  /** Called with server notices; by default they are dropped. */
  onnotice?: (notice: postgres.Notice) => void;
  /** Opens the connections itself (Node: TCP_NODELAY); postgres.js's own sockets otherwise (Workers). */
  socket?: SocketFactory;
}

/** Where postgres.js asks a socket factory to connect. */
export interface ConnectTarget {
  host: string[];
  port: number[];
  path?: string | false;
}

/** postgres.js's documented (but untyped) `socket` option: a function returning a connected duplex. */
export type SocketFactory = (target: ConnectTarget) => Promise<unknown>;

/**
 * Waits before a connection tries again after a failed connect, in seconds: doubling from 50 ms,
 * at most a quarter of a second. postgres.js's default grows to 20 s after a dozen failures, so
 * after an outage a connection could wait that long before it even tried the database that had
 * come back; and requests queued behind a connection wait out its backoff before they fail.
 */
export const reconnectBackoff = (retries: number) => Math.min(0.05 * 2 ** retries, 0.25) * (0.5 + Math.random() / 2);

/** postgres.js options in one place. */
export function connectPostgres(url: string, options: PostgresOptions = {}): Database {
  const open = (max: number) =>
    postgres(url, {
      max,
      onnotice: options.onnotice ?? (() => {}),
      connect_timeout: options.connectTimeoutS ?? 5,
      backoff: reconnectBackoff,
      // bigint ids come back as strings unless they fit; we keep them as strings in the API.
      types: {},
      connection: {
        application_name: 'jaga',
        ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      },
      // Not in postgres.js's types, though documented ("Custom socket").
      ...((options.socket ? { socket: options.socket } : {}) as object),
    });
  const sql = open(options.max ?? 10);
  let single: postgres.Sql | undefined;
  return {
    sql,
    kind: 'postgres',
    url,
    single: () => (single ??= open(1)),
    close: async () => {
      await Promise.all([sql.end({ timeout: 5 }), single?.end({ timeout: 5 })]);
    },
  };
}
