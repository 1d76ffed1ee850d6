import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MigrationFile } from './migrate.ts';

// Resolved lazily: a Worker bundle imports this module but has no migrations folder.
const migrationsDir = () => fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Reads migrations/*.sql (Node only; a Worker is migrated ahead of deployment). */
export function readMigrationFiles(dir = migrationsDir()): MigrationFile[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.sql'))
    .sort()
    .map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') }));
}
