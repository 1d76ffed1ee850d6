import postgres from 'postgres';
import { inject } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { openEmbedded } from '../../src/db/embedded.ts';
import { connectNodePostgres } from '../../src/db/open.ts';

export type DatabaseKind = 'pglite' | 'postgres';

/** The databases every integration suite runs on. */
export function databaseKinds(): DatabaseKind[] {
  return inject('postgresUrl') ? ['pglite', 'postgres'] : ['pglite'];
}

export function postgresAdminUrl(): string {
  const url = inject('postgresUrl');
  if (!url) throw new Error('no PostgreSQL under test');
  return url;
}

/**
 * A fresh, empty database: an in-memory PGlite, or a new database on the PostgreSQL server
 * (dropped again on close). Tests never share state through the database.
 */
export async function freshDatabase(
  kind: DatabaseKind,
  options: { max?: number } = {},
): Promise<Database & { url?: string }> {
  if (kind === 'pglite') return openEmbedded(undefined);
  const admin = postgres(postgresAdminUrl(), { max: 1, onnotice: () => {} });
  const name = `jaga_t_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`;
  await admin.unsafe(`create database ${name}`);
  const url = postgresAdminUrl().replace(/\/[^/]*$/, `/${name}`);
  const db = connectNodePostgres(url, { max: options.max ?? 10 });
  return {
    ...db,
    url,
    async close() {
      await db.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/**
 * Runs `fn` while another session holds `table` locked in ACCESS EXCLUSIVE mode (PostgreSQL),
 * then releases the lock and closes that session.
 */
export async function whileTableLocked<T>(url: string, table: string, fn: () => Promise<T>): Promise<T> {
  const other = connectNodePostgres(url, { max: 1 });
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const holder = other.sql.begin(async (tx) => {
    await tx.unsafe(`lock table ${table} in access exclusive mode`);
    locked();
    await released;
  });
  await isLocked;
  try {
    return await fn();
  } finally {
    release();
    await holder;
    await other.close();
  }
}
