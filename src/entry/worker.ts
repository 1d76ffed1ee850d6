import { createApp } from '../app.ts';
import { loadConfig } from '../config/config.ts';
import { connectPostgres } from '../db/postgres.ts';
import { Lifecycle } from '../system/lifecycle.ts';
import { createLogger } from '../system/logger.ts';
import { Readiness } from '../system/readiness.ts';
import { noopTelemetry } from '../telemetry/telemetry.ts';
import { wire } from '../wiring.ts';
import { bundledPolicies } from './worker-policies.ts';

/** Cloudflare bindings: plain variables plus a Hyperdrive binding to PostgreSQL. */
interface WorkerEnv {
  HYPERDRIVE?: { connectionString: string };
  [variable: string]: unknown;
}

/**
 * The Workers entry: the same app as Node, stateless; PostgreSQL (through Hyperdrive) holds all
 * state. Migrations are applied ahead of deployment with `npm run migrate`.
 */
export default {
  async fetch(request: Request, env: WorkerEnv): Promise<Response> {
    const vars: Record<string, string | undefined> = {};
    for (const [k, val] of Object.entries(env)) if (typeof val === 'string') vars[k] = val;
    const url = env.HYPERDRIVE?.connectionString ?? vars.DATABASE_URL;
    const config = loadConfig({ ...vars, DATABASE_URL: url });
    if (!config.databaseUrl) {
      return new Response('{"code":"NOT_READY","status":503,"title":"No database configured"}', {
        status: 503,
        headers: { 'content-type': 'application/problem+json' },
      });
    }
    // One postgres.js client per request: Workers may not share sockets across requests.
    const db = connectPostgres(config.databaseUrl, { max: 1 });
    const deps = await wire(
      {
        config,
        db,
        logger: createLogger(config.logLevel, (line) => console.log(line)),
        telemetry: noopTelemetry(),
        readiness: new Readiness(),
        lifecycle: new Lifecycle(),
      },
      { migrations: null, policySource: async () => bundledPolicies },
    );
    return createApp(deps).fetch(request);
  },
};
