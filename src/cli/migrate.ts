import { configFromProcess } from '../config/from-process.ts';
import { migrate } from '../db/migrate.ts';
import { readMigrationFiles } from '../db/migration-files.ts';
import { openDatabase } from '../db/open.ts';

// `npm run migrate`: apply pending migrations to DATABASE_URL (or the embedded database) and exit.
const config = configFromProcess();
const db = await openDatabase(config);
try {
  const applied = await migrate(db.sql, readMigrationFiles(), (m) => process.stdout.write(m + '\n'));
  process.stdout.write(applied.length ? `${applied.length} migration(s) applied\n` : 'migrations are current\n');
} catch (error) {
  process.stderr.write(`jaga migrate: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await db.close();
}
