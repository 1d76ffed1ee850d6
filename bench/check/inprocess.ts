import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot } from '../../src/boot.ts';
import { loadConfig } from '../../src/config/config.ts';
import { openEmbedded } from '../../src/db/embedded.ts';
import { createLogger } from '../../src/system/logger.ts';
import { createEngine } from '../../src/policy/engine.ts';
import { loadPolicies } from '../../src/policy/loader.ts';
import { policyFilesIn } from '../../src/policy/policy-files.ts';
import { decisionRoutes } from '../../src/policy/decision.routes.ts';
import { Hono } from 'hono';
import type { AppEnv } from '../../src/http/context.ts';
import { buildMix } from './mix.ts';

/**
 * CPU cost per decision, measured with process.cpuUsage (robust to a busy machine, unlike req/s):
 * the engine alone, and /v1/check through Hono in-process (no sockets, no token verification).
 * `node bench/check/inprocess.ts`
 */
const mix = buildMix(512);
const set = await loadPolicies(await policyFilesIn(join(import.meta.dirname, '../../policies'))());
const engine = createEngine(set);
type Body = {
  principal: { sub: string; roles: string[]; unit: string | null; purposes: string[] };
  action: 'read';
  resource: { type: 'Dataset'; attributes: Record<string, unknown> };
  fields?: string[];
  purpose?: string | null;
};
const bodies = mix.map((m) => m.jaga as Body);

function cpu<T>(n: number, f: (i: number) => T): number {
  for (let i = 0; i < n; i++) f(i); // warm up
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) f(i);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}
const N = 50_000;
const engineUs = cpu(N, (i) => {
  const b = bodies[i % bodies.length]!;
  return engine.decide({
    principal: { ...b.principal, kind: 'user' },
    action: b.action,
    subject: 'Dataset',
    resource: b.resource.attributes,
    ...(b.fields ? { fields: b.fields } : {}),
    purpose: b.purpose ?? null,
  });
});

const dir = mkdtempSync(join(tmpdir(), 'jaga-inproc-'));
const db = await openEmbedded(join(dir, 'data'));
const booted = await boot({
  config: loadConfig({ LOG_LEVEL: 'silent', POLICY_DIR: join(import.meta.dirname, '../../policies') }),
  db,
  logger: createLogger('silent'),
});
const app = new Hono<AppEnv>();
app.use('*', async (c, next) => {
  c.set('requestId', 'bench-request');
  c.set('traceId', undefined);
  c.set('principal', { sub: 'svc', kind: 'service', roles: ['service'], unit: 'RI', purposes: [] });
  await next();
});
const { services, config } = booted.deps;
app.route(
  '/',
  decisionRoutes({
    decisions: services.decisions,
    policy: services.policy,
    batchMax: config.checkBatchMax,
    checks: config.audit.checks,
    catalogMaxStaleMs: config.catalogSnapshotMaxStaleMs,
  }),
);
const payloads = mix.map((m) => JSON.stringify(m.jaga));
const M = 20_000;
const run = async () => {
  for (let i = 0; i < M; i++) {
    const r = await app.request('/v1/check', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: payloads[i % payloads.length]!,
    });
    await r.text();
  }
};
await run();
const c0 = process.cpuUsage();
await run();
const c = process.cpuUsage(c0);
const httpUs = (c.user + c.system) / M;
console.log(
  `engine.decide (mix, fields decided one by one): ${engineUs.toFixed(1)} µs CPU per decision (~${Math.round(1e6 / engineUs)} per core-second)`,
);
console.log(
  `/v1/check through Hono in-process (validation, decision, audit hand-off, JSON): ${httpUs.toFixed(1)} µs CPU per request (~${Math.round(1e6 / httpUs)} per core-second)`,
);
await booted.close();
rmSync(dir, { recursive: true, force: true });
