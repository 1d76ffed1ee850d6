import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import postgres from 'postgres';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.ts';
import type { Database } from './database.ts';

/**
 * The embedded default: PGlite (PostgreSQL compiled to WASM) in a local folder, reached by
 * postgres.js over a private unix socket, so every repo runs the same SQL through the same
 * client on both databases. PGlite serves one connection at a time, hence `max: 1`.
 *
 * PGlite is single-process: the folder is locked for as long as it is open (data-dir-lock.ts),
 * and a second opener is refused with a DataDirLockedError naming the holder.
 *
 * Not durable against power loss: PGlite does not fsync. Use PostgreSQL for durability.
 *
 * @param dataDir a folder (created if missing), or undefined for an in-memory database (tests).
 * @param holder what opens it, as the lock names it to a refused opener (`server`, `npm run import`, …).
 */
export async function openEmbedded(dataDir: string | undefined, holder = 'jaga'): Promise<EmbeddedDatabase> {
  let db: PGlite;
  let lock: DataDirLock | undefined;
  if (dataDir) {
    const dir = resolve(dataDir);
    mkdirSync(dir, { recursive: true });
    lock = await acquireDataDirLock(dir, holder);
    try {
      db = await PGlite.create(dir);
    } catch (error) {
      lock.release();
      throw error;
    }
  } else {
    db = await PGlite.create();
  }
  // Unix socket paths are limited to ~107 bytes: keep it short, in the temp folder.
  const socketDir = mkdtempSync(join(tmpdir(), 'jaga-'));
  const path = join(socketDir, '.s.PGSQL.5432');
  const server = new PGLiteSocketServer({ db, path, maxConnections: 1 });
  try {
    await server.start();
  } catch (error) {
    await db.close().catch(() => {});
    rmSync(socketDir, { recursive: true, force: true });
    lock?.release();
    throw error;
  }
  const sql = postgres({
    path,
    max: 1,
    database: 'postgres',
    username: 'postgres',
    onnotice: () => {},
    // The socket speaks no SSL.
    ssl: false,
  });
  let closed = false;
  return {
    sql,
    kind: 'pglite',
    single: () => sql,
    lock,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await sql.end({ timeout: 5 });
        await server.stop();
        await db.close();
        rmSync(socketDir, { recursive: true, force: true });
      } finally {
        lock?.release();
      }
    },
  };
}

export interface EmbeddedDatabase extends Database {
  kind: 'pglite';
}
