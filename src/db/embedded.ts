import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import postgres from 'postgres';
import type { Database } from './database.ts';

/**
 * The embedded default: PGlite (PostgreSQL compiled to WASM) in a local folder, reached by
 * postgres.js over a private unix socket, so every repo runs the same SQL through the same
 * client on both databases. PGlite serves one connection at a time, hence `max: 1`.
 *
 * Not durable against power loss: PGlite does not fsync. Use PostgreSQL for durability.
 *
 * @param dataDir a folder (created if missing), or undefined for an in-memory database (tests).
 */
export async function openEmbedded(dataDir: string | undefined): Promise<Database> {
  let db: PGlite;
  if (dataDir) {
    const dir = resolve(dataDir);
    mkdirSync(dir, { recursive: true });
    db = await PGlite.create(dir);
  } else {
    db = await PGlite.create();
  }
  // Unix socket paths are limited to ~107 bytes: keep it short, in the temp folder.
  const socketDir = mkdtempSync(join(tmpdir(), 'jaga-'));
  const path = join(socketDir, '.s.PGSQL.5432');
  const server = new PGLiteSocketServer({ db, path, maxConnections: 1 });
  await server.start();
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
    async close() {
      if (closed) return;
      closed = true;
      await sql.end({ timeout: 5 });
      await server.stop();
      await db.close();
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
