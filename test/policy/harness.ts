import { Hono } from 'hono';
import { jwtVerify, SignJWT } from 'jose';
import type { AppEnv } from '../../src/http/context.ts';
import { onError } from '../../src/http/on-error.ts';
import { requestId } from '../../src/http/request-id.ts';
import { ANONYMOUS, type Principal } from '../../src/identity/principal.ts';
import { authzenRoutes } from '../../src/policy/authzen.routes.ts';
import { decisionRoutes } from '../../src/policy/decision.routes.ts';
import { createLogger } from '../../src/system/logger.ts';
import { healthRoutes } from '../../src/system/health.routes.ts';
import { startApp, TEST_JWT_SECRET, type RequestOptions, type TestApp, type TestResponse } from '../helpers/app.ts';
import type { DatabaseKind } from '../helpers/databases.ts';

const key = new TextEncoder().encode(TEST_JWT_SECRET);

export interface Claims {
  sub: string;
  roles: string[];
  unit?: string;
  purposes?: string[];
  kind?: 'user' | 'service';
}

export async function token(claims: Claims): Promise<string> {
  return new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('10m').sign(key);
}

/**
 * The whole app on a fresh database, through `startApp`. While the identity capability is not on
 * this branch (every caller is anonymous there), requests carrying a token go through the same
 * policy routes mounted behind a test-only HS256 verifier; once bearer tokens are understood by
 * the app itself (GET /v1/me answers the token's sub), everything goes through `startApp`'s app.
 */
export async function startPolicyApp(kind: DatabaseKind, env: Record<string, string> = {}): Promise<TestApp & { viaIdentity: boolean }> {
  const t = await startApp(kind, env);
  const probe = await t.request('GET', '/v1/me', { token: await token({ sub: 'probe', roles: ['staff'], unit: '32' }) });
  const viaIdentity = probe.body?.sub === 'probe';
  if (viaIdentity) return { ...t, viaIdentity };

  const app = new Hono<AppEnv>();
  app.use('*', requestId);
  app.use('*', async (c, next) => {
    c.set('traceId', undefined);
    const header = c.req.header('authorization');
    let principal: Principal = ANONYMOUS;
    if (header?.startsWith('Bearer ')) {
      const { payload } = await jwtVerify(header.slice(7), key, { algorithms: ['HS256'] });
      const p = payload as unknown as Claims;
      principal = { sub: p.sub, kind: p.kind ?? 'user', roles: p.roles, unit: p.unit ?? null, purposes: p.purposes ?? [] };
    }
    c.set('principal', principal);
    await next();
  });
  app.route('/', healthRoutes(t.deps.readiness));
  app.route('/', decisionRoutes(t.deps));
  app.route('/', authzenRoutes(t.deps));
  app.onError(onError(createLogger('silent')));
  const viaApp = t.request.bind(t);
  return {
    ...t,
    viaIdentity,
    async request(method: string, path: string, opts: RequestOptions = {}): Promise<TestResponse> {
      if (!opts.token) return viaApp(method, path, opts);
      const headers: Record<string, string> = { ...opts.headers, authorization: `Bearer ${opts.token}` };
      let body = opts.body;
      if (opts.json !== undefined) {
        body = JSON.stringify(opts.json);
        headers['content-type'] ??= 'application/json';
      }
      const res = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, text, body: parsed };
    },
  };
}
