import type { Config } from '../config/config.ts';
import type { Database } from './database.ts';
import { openEmbedded } from './embedded.ts';
import { connectPostgres } from './postgres.ts';

/** PostgreSQL when DATABASE_URL is set; otherwise the embedded PGlite in JAGA_DATA_DIR. */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'databasePoolMax' | 'dataDir'>): Promise<Database> {
  if (config.databaseUrl) return connectPostgres(config.databaseUrl, { max: config.databasePoolMax });
  return openEmbedded(config.dataDir);
}
