import { createHash } from 'node:crypto';
import type { Sql } from './database.ts';

export interface MigrationFile {
  name: string;
  sql: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

// Any fixed number works; it only has to be the same for every Jaga instance.
const MIGRATION_LOCK = 4_702_351_001;

export const checksum = (text: string) => createHash('sha256').update(text).digest('hex');

const NAME = /^\d{4}_[a-z0-9_]+\.sql$/;

/**
 * Applies pending migrations, each in its own transaction under a transaction-level advisory
 * lock, so two instances starting at once serialise and each file runs exactly once.
 * Refuses to go on if a file that was already applied has changed since.
 *
 * @returns the names applied by this call.
 */
export async function migrate(
  sql: Sql,
  files: MigrationFile[],
  log: (msg: string) => void = () => {},
): Promise<string[]> {
  for (const f of files)
    if (!NAME.test(f.name)) throw new MigrationError(`Migration file name ${f.name} must look like 0001_name.sql`);
  const sorted = [...files].sort((a, b) => a.name.localeCompare(b.name));
  const applied: string[] = [];
  for (;;) {
    const next = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
      await tx`create table if not exists schema_migrations (
        name text primary key,
        checksum text not null,
        applied_at timestamptz not null default now()
      )`;
      const done = await tx<{ name: string; checksum: string }[]>`select name, checksum from schema_migrations`;
      verifyApplied(done, sorted);
      const doneNames = new Set(done.map((d) => d.name));
      const pending = sorted.find((f) => !doneNames.has(f.name));
      if (!pending) return undefined;
      await tx.unsafe(pending.sql);
      await tx`insert into schema_migrations (name, checksum) values (${pending.name}, ${checksum(pending.sql)})`;
      return pending.name;
    });
    if (!next) return applied;
    log(`applied migration ${next}`);
    applied.push(next);
  }
}

function verifyApplied(done: { name: string; checksum: string }[], files: MigrationFile[]) {
  const byName = new Map(files.map((f) => [f.name, f]));
  for (const d of done) {
    const file = byName.get(d.name);
    if (!file) throw new MigrationError(`Applied migration ${d.name} is missing from migrations/`);
    if (checksum(file.sql) !== d.checksum) {
      throw new MigrationError(
        `Applied migration ${d.name} has changed since it was applied (checksum mismatch); add a new migration instead`,
      );
    }
  }
}

export interface MigrationState {
  current: boolean;
  pending: string[];
  problem?: string;
}

/** Migration state for /readyz: every file applied and unchanged. */
export async function migrationStatus(sql: Sql, files: MigrationFile[]): Promise<MigrationState> {
  try {
    const done = await sql<{ name: string; checksum: string }[]>`select name, checksum from schema_migrations`;
    return compareMigrations(done, files);
  } catch (error) {
    return { current: false, pending: [], problem: (error as Error).message };
  }
}

/** What was applied (schema_migrations) against the files: pending ones, or what changed. */
export function compareMigrations(done: { name: string; checksum: string }[], files: MigrationFile[]): MigrationState {
  try {
    verifyApplied(done, files);
  } catch (error) {
    return { current: false, pending: [], problem: (error as Error).message };
  }
  const names = new Set(done.map((d) => d.name));
  const pending = files.filter((f) => !names.has(f.name)).map((f) => f.name);
  return { current: pending.length === 0, pending };
}
