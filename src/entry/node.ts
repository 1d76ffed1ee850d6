import { resolve } from 'node:path';
import { boot } from '../boot.ts';
import { configFromProcess } from '../config/from-process.ts';
import type { Database } from '../db/database.ts';
import { DataDirLockedError, publicHolder } from '../db/data-dir-lock.ts';
import { openDatabase } from '../db/open.ts';
import { createNodeServer } from '../http/node-server.ts';
import { operatorRoutes } from '../operator/operator.routes.ts';
import { listenOperatorSocket } from '../operator/operator.socket.ts';
import { warnUnsetSettings } from '../system/first-run.ts';
import { createLogger } from '../system/logger.ts';
import { setupTelemetry } from '../telemetry/telemetry.ts';

// The Node entry: parse config, open the database, wire, serve; shut down gracefully.
const config = configFromProcess();
const logger = createLogger(config.logLevel);
// The first start tells the truth: each secret left unset, once, and what follows from it.
warnUnsetSettings(config, logger);
const telemetry = await setupTelemetry(config.otel, { prometheus: config.metrics.enabled });
let db: Database;
try {
  db = await openDatabase(config, 'server');
} catch (error) {
  // Another process holds the embedded database: say who, plainly, and stop.
  if (error instanceof DataDirLockedError)
    logger.error(error.message, { dataDir: error.dir, holder: error.holder && publicHolder(error.holder) });
  else logger.error('could not open the database', { error });
  process.exit(1);
}
logger.info('database opened', { kind: db.kind, ...(db.kind === 'pglite' ? { dataDir: config.dataDir } : {}) });
if (db.lock?.replaced)
  logger.warn('took over the lock of a process that is gone', {
    lock: db.lock.file,
    previous: publicHolder(db.lock.replaced),
  });

let booted: Awaited<ReturnType<typeof boot>>;
try {
  booted = await boot({ config, db, logger, telemetry });
} catch (error) {
  logger.error('start-up failed', { error });
  await db.close().catch(() => {});
  process.exit(1);
}
const { app, deps } = booted;
deps.lifecycle.onShutdown('telemetry', () => telemetry.shutdown());

// The embedded database is this process's alone: the CLIs reach it through the operator channel,
// whose socket the data folder's lock names (src/operator).
const lock = db.lock;
if (lock) {
  const holder = lock.holder();
  try {
    const operator = await listenOperatorSocket(
      operatorRoutes(deps, { token: holder.token, dataDir: resolve(config.dataDir), since: holder.since }),
    );
    deps.lifecycle.onShutdown('operator socket', () => operator.close());
    lock.publish({ socket: operator.path });
    logger.info('operator socket open', { path: operator.path, lock: lock.file });
  } catch (error) {
    logger.error('start-up failed: could not open the operator socket', { error });
    await booted.close().catch(() => {});
    process.exit(1);
  }
}

// Node's own refusals (431, 400 from the parser, 408) answer problem+json; refused bodies close cleanly.
const server = createNodeServer(app.fetch, { hostname: config.host, logger });
server.listen(config.port, config.host, () => {
  const address = server.address();
  logger.info('listening', {
    ...(typeof address === 'object' && address ? { address: address.address, port: address.port } : {}),
    database: db.kind,
  });
});
server.on('error', (error) => {
  logger.error('server error', { error });
  process.exit(1);
});

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down', { signal });
  const force = setTimeout(() => {
    logger.error('shutdown timed out; exiting', { timeoutMs: config.shutdownTimeoutMs });
    process.exit(1);
  }, config.shutdownTimeoutMs);
  force.unref();
  // Long-lived responses (audit streams) end now, or the server would wait for them until forced.
  deps.lifecycle.drain();
  // Stop accepting; in-flight requests finish; idle keep-alive sockets are closed now.
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    if ('closeIdleConnections' in server) server.closeIdleConnections();
  });
  await booted.close();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
// SIGHUP re-reads what can change without a restart (the policy set); failures are logged by each hook.
process.on(
  'SIGHUP',
  () => void deps.lifecycle.reload((name, error) => logger.error(`reload hook ${name} failed`, { error })),
);
process.on('SIGINT', () => void stop('SIGINT'));
