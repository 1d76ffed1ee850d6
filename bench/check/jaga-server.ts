import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { jwtVerify } from 'jose';
import { boot } from '../../src/boot.ts';
import { configFromProcess } from '../../src/config/from-process.ts';
import { openDatabase } from '../../src/db/open.ts';
import type { AppEnv } from '../../src/http/context.ts';
import { onError } from '../../src/http/on-error.ts';
import { requestId } from '../../src/http/request-id.ts';
import { ANONYMOUS, type Principal } from '../../src/identity/principal.ts';
import { decisionRoutes } from '../../src/policy/decision.routes.ts';
import { createLogger } from '../../src/system/logger.ts';
import { httpTelemetry } from '../../src/telemetry/http-middleware.ts';

/**
 * Jaga for the bench: the same boot as src/entry/node.ts. When this build's identity middleware
 * does not verify bearer tokens yet (the identity branch not merged), the decision routes are
 * served behind the same middleware chain with an HS256 verifier (jose), so the bench still pays
 * for token verification.
 */
const config = configFromProcess();
const db = await openDatabase(config);
const booted = await boot({ config, db, logger: createLogger('warn') });
const probe = await booted.app.request('/v1/me', { headers: { authorization: `Bearer ${process.env.BENCH_PROBE_TOKEN}` } });
const viaIdentity = ((await probe.json()) as { sub?: string }).sub === 'bench-probe';
let fetch = booted.app.fetch;
if (!viaIdentity) {
  const key = new TextEncoder().encode(config.jwt.secret);
  const app = new Hono<AppEnv>();
  app.use('*', requestId);
  app.use('*', httpTelemetry(booted.deps.telemetry.tracer, booted.deps.telemetry.meter));
  app.use('*', bodyLimit({ maxSize: config.bodyLimitBytes }));
  app.use('*', async (c, next) => {
    const h = c.req.header('authorization');
    let p: Principal = ANONYMOUS;
    if (h?.startsWith('Bearer ')) {
      const { payload } = await jwtVerify(h.slice(7), key, { algorithms: ['HS256'] });
      const claims = payload as unknown as { sub: string; roles: string[]; unit?: string; purposes?: string[]; kind?: 'user' | 'service' };
      p = { sub: claims.sub, kind: claims.kind ?? 'user', roles: claims.roles, unit: claims.unit ?? null, purposes: claims.purposes ?? [] };
    }
    c.set('principal', p);
    await next();
  });
  app.route('/', decisionRoutes(booted.deps));
  app.onError(onError(booted.deps.logger));
  fetch = app.fetch;
}
serve({ fetch, port: config.port, hostname: '127.0.0.1' }, () => console.log(`listening (${viaIdentity ? 'app' : 'decision routes + HS256 verifier'})`));
process.on('SIGTERM', () => void booted.close().then(() => process.exit(0)));
