import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommitLog } from '../../src/audit/audit.writer.ts';
import { loadConfig } from '../../src/config/config.ts';
import { setupTelemetry } from '../../src/telemetry/telemetry.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { createLabelled } from '../records/setup.ts';
import { principals, PURPOSE } from '../records/records-app.ts';

const METRICS_TOKEN = 'metrics-token-metrics-token-0123456789';

/** The value of one series (`name{labels} value`) in a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}

describe.each(databaseKinds())('GET /metrics on %s', (kind) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    await t?.deps.telemetry.shutdown();
    t = undefined;
  });

  async function start(env: Record<string, string>) {
    const config = loadConfig(env);
    const telemetry = await setupTelemetry(config.otel, { prometheus: config.metrics.enabled });
    t = await startApp(kind, env, { telemetry });
    return t;
  }

  it('is off by default, saying how to turn it on, and the app records nothing', async () => {
    const app = await start({});
    const r = await app.request('GET', '/metrics');
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.body.detail).toMatch(/METRICS_ENABLED=true/);
    expect(app.deps.telemetry.metering).toBe(false);
    // Nothing counts on the decision path: the audit log is the writer itself, not the counting wrapper.
    expect(app.deps.services.audit).toBeInstanceOf(GroupCommitLog);
  });

  it('serves decisions by effect, disclosures by classification, audit queue and flush latency, catalog lag', async () => {
    const app = await start({ METRICS_ENABLED: 'true', METRICS_TOKEN });
    const p = await principals();
    await createLabelled(app, p.steward32, 'metrics-open', 'public');
    await createLabelled(app, p.steward32, 'metrics-closed', 'restricted');
    const allow = await app.request('POST', '/v1/check', {
      token: p.staff32,
      json: { action: 'read', resource: { type: 'Dataset', id: 'metrics-open' } },
    });
    expect(allow.body.allow).toBe(true);
    const deny = await app.request('POST', '/v1/check', {
      token: p.staff33,
      json: { action: 'read', resource: { type: 'Dataset', id: 'metrics-closed' } },
    });
    expect(deny.body.allow).toBe(false);
    const read = await app.request('GET', '/v1/datasets/metrics-closed/records', {
      token: p.steward32,
      headers: { 'x-purpose': PURPOSE },
    });
    expect(read.status).toBe(200);

    const unauthorised = await app.request('GET', '/metrics');
    expect(unauthorised.status).toBe(401);
    expect(unauthorised.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await app.request('GET', '/metrics', { token: METRICS_TOKEN.replace('0', '1') });
    expect(wrong.status).toBe(401);

    const r = await app.request('GET', '/metrics', { token: METRICS_TOKEN });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = r.text;
    expect(sample(text, 'jaga_decisions_total', { effect: 'allow' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'jaga_decisions_total', { effect: 'deny' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'jaga_disclosures_total', { classification: 'restricted' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'jaga_audit_queue_depth')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'jaga_audit_flush_duration_count')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'jaga_catalog_snapshot_version_lag')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'jaga_catalog_snapshot_age')).toBeDefined();
    expect(text).toMatch(/^# TYPE jaga_decisions_total counter$/m);
    // No ids of people or datasets in telemetry.
    expect(text).not.toMatch(/metrics-closed|steward-32|staff-3/);
  });

  it('is open to any scraper when no token is set', async () => {
    const app = await start({ METRICS_ENABLED: 'true' });
    const r = await app.request('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(sample(r.text, 'jaga_audit_queue_depth')).toBe(0);
  });
});
