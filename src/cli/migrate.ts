import { configFromProcess } from '../config/from-process.ts';
import { describeHolder } from '../db/data-dir-lock.ts';
import { compareMigrations, migrate } from '../db/migrate.ts';
import { readMigrationFiles } from '../db/migration-files.ts';
import { openDatabase } from '../db/open.ts';
import { runningServer, type OperatorClient } from '../operator/operator.client.ts';

// `npm run migrate`: apply pending migrations to DATABASE_URL (or the embedded database) and exit.
// While `npm start` holds the embedded database, that server migrated it at start: this only
// reports whether anything is pending (then exit 1: restart the server to apply it).
const config = configFromProcess();

async function migrateHere(): Promise<void> {
  const db = await openDatabase(config, 'npm run migrate');
  try {
    const applied = await migrate(db.sql, readMigrationFiles(), (m) => process.stdout.write(m + '\n'));
    process.stdout.write(applied.length ? `${applied.length} migration(s) applied\n` : 'migrations are current\n');
  } finally {
    await db.close();
  }
}

async function reportFrom(server: OperatorClient): Promise<void> {
  const status = await server.status();
  const state = compareMigrations(status.migrations, readMigrationFiles());
  const who = `${describeHolder(server.holder)}, which holds the embedded database in ${status.dataDir}`;
  if (state.current) {
    process.stdout.write(`migrations are current: applied by ${who}; nothing to do\n`);
    return;
  }
  const what = state.problem ?? `pending: ${state.pending.join(', ')}`;
  process.stderr.write(
    `jaga migrate: ${what}. Not applied: ${who}, and PGlite serves one process at a time; restart the server (it migrates at start).\n`,
  );
  process.exitCode = 1;
}

try {
  const server = await runningServer(config);
  if (server) await reportFrom(server);
  else await migrateHere();
} catch (error) {
  process.stderr.write(`jaga migrate: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
