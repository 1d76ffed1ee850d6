import type { Hono } from 'hono';
import { createApp } from './app.ts';
import type { Config } from './config/config.ts';
import type { Database } from './db/database.ts';
import { migrate, type MigrationFile } from './db/migrate.ts';
import { readMigrationFiles } from './db/migration-files.ts';
import type { AppEnv } from './http/context.ts';
import { policyFilesIn } from './policy/policy-files.ts';
import { Lifecycle } from './system/lifecycle.ts';
import { createLogger, type Logger } from './system/logger.ts';
import { Readiness } from './system/readiness.ts';
import { noopTelemetry, type Telemetry } from './telemetry/telemetry.ts';
import { wire, type AppDeps, type WireOptions } from './wiring.ts';
import { verifyInWorkers } from './audit/audit.verify-workers.ts';
import { connectTimeoutS } from './db/open.ts';

export interface Booted {
  app: Hono<AppEnv>;
  deps: AppDeps;
  /** Runs the shutdown hooks (flushes, closes) and then closes the database. */
  close(): Promise<void>;
}

/**
 * Migrates the database, wires the capabilities and builds the app: the common start of the
 * Node entry and of the tests. The caller owns the database it passes in.
 */
export async function boot(options: {
  config: Config;
  db: Database;
  logger?: Logger;
  telemetry?: Telemetry;
  migrations?: MigrationFile[];
  /** Dependencies replaced before the services are built on them (see WireOptions). */
  replace?: WireOptions['replace'];
}): Promise<Booted> {
  const logger = options.logger ?? createLogger(options.config.logLevel);
  const migrations = options.migrations ?? readMigrationFiles();
  await migrate(options.db.sql, migrations, (msg) => logger.info(msg));
  const lifecycle = new Lifecycle();
  // PostgreSQL: full verifications walk their segments in worker threads, each on a connection of its own.
  const verifyWorkers = options.db.url
    ? verifyInWorkers({ url: options.db.url, connectTimeoutS: connectTimeoutS(options.config) })
    : undefined;
  const deps = await wire(
    {
      config: options.config,
      db: options.db,
      logger,
      telemetry: options.telemetry ?? noopTelemetry(),
      readiness: new Readiness(),
      lifecycle,
    },
    {
      migrations,
      policySource: policyFilesIn(options.config.policyDir),
      ...(verifyWorkers ? { verifyWorkers } : {}),
      ...(options.replace ? { replace: options.replace } : {}),
    },
  );
  return {
    app: createApp(deps),
    deps,
    async close() {
      await lifecycle.shutdown((name, error) => logger.error(`shutdown hook ${name} failed`, { error }));
      await options.db.close();
    },
  };
}
