import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';

/** A CLI connection with no bytes either way for this long is dropped (an import streams throughout). */
const IDLE_TIMEOUT_MS = 120_000;

export interface OperatorSocket {
  path: string;
  /** Stops accepting, lets in-flight requests finish, removes the socket's folder. */
  close(): Promise<void>;
}

/**
 * Serves the operator channel on a unix socket in a fresh temp folder, which mkdtemp creates
 * 0700: only the server's own OS user (and root) can connect. Unix socket paths are limited to
 * ~107 bytes, hence the temp folder rather than the data folder.
 */
export async function listenOperatorSocket(app: Hono<AppEnv>): Promise<OperatorSocket> {
  const dir = mkdtempSync(join(tmpdir(), 'jaga-op-'));
  const path = join(dir, 'operator.sock');
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  // An import may take minutes: bounded by inactivity, not by the whole request's duration.
  server.requestTimeout = 0;
  server.setTimeout(IDLE_TIMEOUT_MS, (socket) => socket.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    path,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
