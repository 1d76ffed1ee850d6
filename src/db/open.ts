import type { Config } from '../config/config.ts';
import type { Database } from './database.ts';
import { connectPostgres, type PostgresOptions } from './postgres.ts';
import { noDelaySocket } from './tcp-socket.ts';

/**
 * PostgreSQL when DATABASE_URL is set; otherwise the embedded PGlite in JAGA_DATA_DIR, locked for
 * this process (`holder` names it to anyone refused: `server`, `npm run import`, …).
 */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'databasePoolMax' | 'databaseDeadlineMs' | 'dataDir'>,
  holder = 'jaga',
): Promise<Database> {
  if (config.databaseUrl) {
    return connectNodePostgres(config.databaseUrl, {
      max: config.databasePoolMax,
      connectTimeoutS: connectTimeoutS(config),
    });
  }
  // Loaded only when used: PGlite and its socket server hold ~20 MB a PostgreSQL deployment never needs.
  const { openEmbedded } = await import('./embedded.ts');
  return openEmbedded(config.dataDir, holder);
}

/** How long a new connection may take to be ready, in seconds: within the database deadline. */
export const connectTimeoutS = (config: Pick<Config, 'databaseDeadlineMs'>) =>
  Math.max(1, Math.ceil(config.databaseDeadlineMs / 1000));

/** PostgreSQL from Node: postgres.js over sockets with TCP_NODELAY (see tcp-socket.ts). */
export function connectNodePostgres(url: string, options: Omit<PostgresOptions, 'socket'> = {}): Database {
  return connectPostgres(url, { ...options, socket: noDelaySocket() });
}
