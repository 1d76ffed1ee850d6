import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isConnectionError } from '../../src/db/pg-errors.ts';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { freePort, ROOT } from '../helpers/process.ts';

// The Worker bundles its policies as text modules (wrangler's Text rule), which Node cannot import:
// here they are read from the same files.
vi.mock('../../src/entry/worker-policies.ts', () => ({
  bundledPolicies: readdirSync(join(ROOT, 'policies'))
    .filter((n) => n.endsWith('.yaml'))
    .map((name) => ({ name, text: readFileSync(join(ROOT, 'policies', name), 'utf8') })),
}));
const worker = (await import('../../src/entry/worker.ts')).default;

/** Calls the Worker's fetch handler as the runtime does; a fresh bindings object is a fresh isolate. */
async function call(env: Record<string, unknown>, path: string) {
  const started = performance.now();
  const res = await worker.fetch(new Request(`http://worker.test${path}`), env);
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: JSON.parse(text) as { code?: string; status?: string },
    ms: performance.now() - started,
  };
}

const DATABASE_ROUTES = ['/v1/datasets', '/v1/registers/public', '/v1/public/datasets', '/v1/datasets/x'];

describe('the Workers entry with no reachable database (its fetch handler, in Node)', () => {
  // Accepts connections and never answers: a database that hangs rather than refuses.
  let silent: Server;
  const sockets: Socket[] = [];
  let silentPort: number;
  beforeAll(async () => {
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it('a refused address: database routes answer 503 DATABASE_UNAVAILABLE at once; /healthz 200, /readyz 503', async () => {
    const env = {
      LOG_LEVEL: 'silent',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: `postgres://jaga:x@127.0.0.1:${await freePort()}/jaga`,
    };
    expect((await call(env, '/healthz')).status).toBe(200);
    const ready = await call(env, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe('not_ready');
    for (const path of DATABASE_ROUTES) {
      const r = await call(env, path);
      expect(r.status, path).toBe(503);
      expect(r.type).toBe('application/problem+json');
      expect(r.body.code).toBe('DATABASE_UNAVAILABLE');
      expect(r.ms).toBeLessThan(2000);
    }
  });

  it('a database that never answers: 503 within DATABASE_DEADLINE_MS, not a hang', async () => {
    const env = {
      LOG_LEVEL: 'silent',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: `postgres://jaga:x@127.0.0.1:${silentPort}/jaga`,
      DATABASE_DEADLINE_MS: '400',
    };
    for (const path of ['/v1/datasets', '/readyz']) {
      const r = await call(env, path);
      expect(r.status, path).toBe(503);
      expect(r.ms, path).toBeLessThan(1500);
    }
    const r = await call(env, '/v1/registers/public');
    expect(r.body.code).toBe('DATABASE_UNAVAILABLE');
  });

  it('no database configured: 503 NOT_READY naming what to bind', async () => {
    const r = await call({ LOG_LEVEL: 'silent', JWT_SECRET: TEST_JWT_SECRET }, '/v1/datasets');
    expect(r.status).toBe(503);
    expect(r.body.code).toBe('NOT_READY');
    expect(JSON.stringify(r.body)).toMatch(/HYPERDRIVE|DATABASE_URL/);
  });

  it('/metrics answers 404 with the reason: an isolate’s counters are not the service’s', async () => {
    const env = {
      LOG_LEVEL: 'silent',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: 'postgres://jaga:x@127.0.0.1:1/jaga',
    };
    const off = await call(env, '/metrics');
    expect(off.status).toBe(404);
    expect(JSON.stringify(off.body)).toMatch(/METRICS_ENABLED=true/);
    const on = await call({ ...env, METRICS_ENABLED: 'true' }, '/metrics');
    expect(on.status).toBe(404);
    expect(JSON.stringify(on.body)).toMatch(/Workers isolate/);
  });

  it('takes workerd’s socket failures (no code, only a message) for an unreachable database', () => {
    expect(isConnectionError(new Error('proxy request failed, cannot connect to the specified address'))).toBe(true);
    expect(isConnectionError(new Error('Network connection lost.'))).toBe(true);
    expect(isConnectionError(new Error('some other failure'))).toBe(false);
  });
});
