import { Hono } from 'hono';
import { createApp } from '../app.ts';
import { catchUpRollups } from '../audit/audit.rollup.ts';
import { reconcileRangeIndexes } from '../records/range-index.builder.ts';
import { loadConfig, type Config } from '../config/config.ts';
import { connectPostgres } from '../db/postgres.ts';
import { requestScopedDatabase, type RequestScopedDatabase } from '../db/request-scoped.ts';
import type { AppEnv } from '../http/context.ts';
import { onError } from '../http/on-error.ts';
import { requestId } from '../http/request-id.ts';
import { DomainError } from '../shared/errors.ts';
import { Lifecycle } from '../system/lifecycle.ts';
import { warnUnsetSettings } from '../system/first-run.ts';
import { createLogger, type Logger } from '../system/logger.ts';
import { Readiness } from '../system/readiness.ts';
import { noopTelemetry } from '../telemetry/telemetry.ts';
import { wire } from '../wiring.ts';
import { bundledPolicies } from './worker-policies.ts';

/** Cloudflare bindings: plain variables plus a Hyperdrive binding to PostgreSQL. */
interface WorkerEnv {
  HYPERDRIVE?: { connectionString: string };
  [variable: string]: unknown;
}

/** What an isolate builds once and serves every request with. */
interface Isolate {
  app: Hono<AppEnv>;
  config: Config;
  /** Null when no database is configured: every request answers 503 NOT_READY. */
  database: (RequestScopedDatabase & { url: string }) | null;
}

function configOf(env: WorkerEnv): Config {
  const vars: Record<string, string | undefined> = {};
  for (const [k, val] of Object.entries(env)) if (typeof val === 'string') vars[k] = val;
  return loadConfig({ ...vars, DATABASE_URL: env.HYPERDRIVE?.connectionString ?? vars.DATABASE_URL });
}

/** Answers every request with one problem, through the same request id and error path as the app. */
function refusing(logger: Logger, error: DomainError): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requestId);
  app.all('*', () => {
    throw error;
  });
  app.onError(onError(logger));
  return app;
}

/**
 * Built once per isolate, as the Node entry builds once per process: the configuration, the
 * policy set (parsed and compiled once), the token verifier, the audit log and the app. Only the
 * PostgreSQL client is per request (Workers do not let a connection serve two requests): the
 * services run their queries through a request-scoped database (src/db/request-scoped.ts).
 */
async function buildIsolate(env: WorkerEnv): Promise<Isolate> {
  const config = configOf(env);
  const logger = createLogger(config.logLevel, (line) => console.log(line));
  warnUnsetSettings(config, logger); // once per isolate
  if (!config.databaseUrl) {
    return {
      app: refusing(
        logger,
        new DomainError('NOT_READY', 'No database is configured: bind HYPERDRIVE or set DATABASE_URL.'),
      ),
      config,
      database: null,
    };
  }
  const scoped = requestScopedDatabase();
  const deps = await wire(
    {
      config,
      db: scoped.db,
      logger,
      telemetry: noopTelemetry(),
      readiness: new Readiness(),
      lifecycle: new Lifecycle(),
    },
    { migrations: null, policySource: async () => bundledPolicies },
  );
  return { app: createApp(deps), config, database: { ...scoped, url: config.databaseUrl } };
}

// Keyed by the bindings object: the same for every request an isolate serves.
const isolates = new WeakMap<object, Promise<Isolate>>();

function isolateFor(env: WorkerEnv): Promise<Isolate> {
  let isolate = isolates.get(env);
  if (!isolate) {
    isolate = buildIsolate(env);
    // A failed build is not kept: the next request tries again.
    void isolate.catch(() => isolates.delete(env));
    isolates.set(env, isolate);
  }
  return isolate;
}

/**
 * How long one cron run folds the log into the reports' rollups: it stops after the chunk running
 * when this is spent (chunks of 50 000 entries, each its own transaction), well inside a cron
 * invocation's limits; the next run (a minute later) goes on from the mark.
 */
const SCHEDULED_BUDGET_MS = 20_000;

/**
 * The Workers entry: the same app as Node, stateless between requests; PostgreSQL (through
 * Hyperdrive) holds all state. Migrations are applied ahead of deployment with `npm run migrate`.
 */
export default {
  async fetch(request: Request, env: WorkerEnv): Promise<Response> {
    let isolate: Isolate;
    try {
      isolate = await isolateFor(env);
    } catch (error) {
      const logger = createLogger('error', (line) => console.log(line));
      logger.error('the worker could not start', { error });
      return refusing(logger, new DomainError('NOT_READY', 'The service could not start; see its log.')).fetch(request);
    }
    const { app, database } = isolate;
    if (!database) return app.fetch(request);
    // The request's own client, never ended by us: the runtime closes a request's sockets when its
    // invocation ends, and postgres.js's end() there leaves an unhandled rejection (porsager/postgres#1202).
    const client = connectPostgres(database.url, { max: 1 }).sql;
    return database.run(client, () => app.fetch(request));
  },

  /**
   * The cron trigger (wrangler.toml `[triggers]`): no timer outlives a request on Workers, so the
   * rollup catch-up job the Node entry runs in the background (AUDIT_ROLLUP_INTERVAL_MS) runs here,
   * one bounded catch-up per trigger. Reports stay exact meanwhile (they add the unfolded tail).
   * Likewise the range-filter indexes follow their declarations here (one reconcile per trigger).
   */
  async scheduled(_controller: unknown, env: WorkerEnv): Promise<void> {
    const config = configOf(env);
    const logger = createLogger(config.logLevel, (line) => console.log(line));
    if (!config.databaseUrl) return;
    // Its own client, not ended by us (as for a request: see fetch above).
    const client = connectPostgres(config.databaseUrl, { max: 1 }).sql;
    let failure: unknown;
    try {
      const folded = await catchUpRollups(client, { budgetMs: SCHEDULED_BUDGET_MS });
      logger.info('audit rollup catch-up', { folded });
    } catch (error) {
      logger.warn('audit rollup catch-up failed', { error });
      failure = error;
    }
    try {
      await reconcileRangeIndexes(
        { sql: client, kind: 'postgres' },
        { retryMs: config.recordsRangeFilters.retryMs, logger },
      );
      logger.info('range indexes reconciled');
    } catch (error) {
      logger.warn('range index reconcile failed', { error });
      failure ??= error;
    }
    if (failure) throw failure;
  },
};
