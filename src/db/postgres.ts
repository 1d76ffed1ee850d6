import postgres from 'postgres';
import type { Database } from './database.ts';

export interface PostgresOptions {
  max?: number;
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

/** postgres.js options in one place. */
export function connectPostgres(url: string, options: PostgresOptions = {}): Database {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: options.onnotice ?? (() => {}),
    connect_timeout: 10,
    // bigint ids come back as strings unless they fit; we keep them as strings in the API.
    types: {},
    connection: { application_name: 'jaga' },
    // Not in postgres.js's types, though documented ("Custom socket").
    ...((options.socket ? { socket: options.socket } : {}) as object),
  });
  return {
    sql,
    kind: 'postgres',
    close: () => sql.end({ timeout: 5 }),
  };
}
