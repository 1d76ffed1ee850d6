import postgres from 'postgres';
import type { Database } from './database.ts';

export interface PostgresOptions {
  max?: number;
  /** Called with server notices; by default they are dropped. */
  onnotice?: (notice: postgres.Notice) => void;
}

/** postgres.js options in one place. */
export function connectPostgres(url: string, options: PostgresOptions = {}): Database {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: options.onnotice ?? (() => {}),
    connect_timeout: 10,
    // bigint ids come back as strings unless they fit; we keep them as strings in the API.
    types: {},
    connection: { application_name: 'jaga' },
  });
  return {
    sql,
    kind: 'postgres',
    close: () => sql.end({ timeout: 5 }),
  };
}
