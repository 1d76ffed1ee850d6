import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InMemoryMetricExporter,
  AggregationTemporality,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { createPolicyService } from '../../src/policy/policy.service.ts';
import { policyFilesIn } from '../../src/policy/policy-files.ts';
import { createLogger } from '../../src/system/logger.ts';
import { setupTelemetry } from '../../src/telemetry/telemetry.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { freePort, runScript, waitForHttp } from '../helpers/process.ts';
import { startPolicyApp, token } from './harness.ts';

const STAFF_LABEL_RULE = `
  - id: staff.dataset.label-added
    action: label
    subject: Dataset
    conditions: { ownerUnit: { $within: '\${principal.unit}' } }
    reason: Added by a reload.
`;
const BROKEN = `role: broken\nrules:\n  - { id: broken.rule, action: read, subject: Dataset, conditions: { ownerUnit: { $regex: '^32' } }, reason: bad }\n`;

function policyCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jaga-policies-'));
  cpSync('policies', dir, { recursive: true });
  return dir;
}

describe.each(databaseKinds())('policy hot reload on %s', (kind) => {
  let t: Awaited<ReturnType<typeof startPolicyApp>>;
  let dir: string;
  let staff: string, admin: string;
  beforeAll(async () => {
    dir = policyCopy();
    t = await startPolicyApp(kind, { POLICY_DIR: dir });
    staff = await token({ sub: 'staff-32', roles: ['staff'], unit: '32' });
    admin = await token({ sub: 'adm', roles: ['admin'], unit: 'RI' });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const label = () =>
    t.request('POST', '/v1/check', {
      token: staff,
      json: {
        action: 'label',
        resource: { type: 'Dataset', attributes: { ownerUnit: '32.01', classification: 'restricted' } },
      },
    });

  it('a good reload changes decisions; a bad one changes nothing, is refused with its problems, and /readyz says so', async () => {
    const before = await label();
    expect(before.body.allow).toBe(false);

    writeFileSync(join(dir, 'staff.yaml'), readFileSync(join(dir, 'staff.yaml'), 'utf8') + STAFF_LABEL_RULE);
    const good = await t.request('POST', '/v1/admin/policies/reload', { token: admin });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ ok: true, changed: true });
    expect(good.body.version).not.toBe(before.body.policyVersion);
    const after = await label();
    expect(after.body).toMatchObject({
      allow: true,
      ruleId: 'staff.dataset.label-added',
      policyVersion: good.body.version,
    });

    writeFileSync(join(dir, 'broken.yaml'), BROKEN);
    const bad = await t.request('POST', '/v1/admin/policies/reload', { token: admin });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('POLICY_INVALID');
    expect(bad.body.errors).toEqual([
      {
        path: 'broken.yaml#broken.rule:rules.0.conditions.ownerUnit.$regex',
        message: 'unknown operator $regex (expected one of $eq, $ne, $in, $nin, $within)',
      },
    ]);
    const still = await label();
    expect(still.body).toMatchObject({ allow: true, policyVersion: good.body.version });
    const ready = await t.request('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.policies.ok).toBe(false);
    expect(ready.body.checks.policies.detail).toContain('broken.yaml rule broken.rule: unknown operator $regex');

    rmSync(join(dir, 'broken.yaml'));
    const fixed = await t.request('POST', '/v1/admin/policies/reload', { token: admin });
    expect(fixed.body).toMatchObject({ ok: true, changed: false, version: good.body.version });
    expect((await t.request('GET', '/readyz')).status).toBe(200);
  });

  it('only administrators may reload', async () => {
    const r = await t.request('POST', '/v1/admin/policies/reload', { token: staff });
    expect(r.status).toBe(403);
    expect((await t.request('POST', '/v1/admin/policies/reload')).status).toBe(403);
  });
});

describe('policy service', () => {
  it('counts refused reloads in a metric', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const telemetry = await setupTelemetry(loadConfig({}).otel, { metricReaders: [reader] });
    const dir = policyCopy();
    try {
      const service = createPolicyService({
        read: policyFilesIn(dir),
        logger: createLogger('silent'),
        meter: telemetry.meter,
      });
      expect((await service.reload()).ok).toBe(true);
      writeFileSync(join(dir, 'broken.yaml'), BROKEN);
      expect((await service.reload()).ok).toBe(false);
      expect((await service.reload()).ok).toBe(false);
      await reader.forceFlush();
      const metrics = exporter.getMetrics().flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics));
      const failures = metrics.find((m) => m.descriptor.name === 'jaga.policy.reload.failures');
      expect(failures?.dataPoints[0]?.value).toBe(2);
    } finally {
      await telemetry.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SIGHUP', () => {
  // A whole server process: generous time limits for a busy machine (nothing asserts on time).
  it(
    'reloads the policies of a running server; a bad set leaves it serving the last good one, not ready',
    { timeout: 180_000 },
    async () => {
      const dir = policyCopy();
      const data = mkdtempSync(join(tmpdir(), 'jaga-data-'));
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const p = runScript('src/entry/node.ts', {
        PORT: String(port),
        HOST: '127.0.0.1',
        JAGA_DATA_DIR: data,
        POLICY_DIR: dir,
        LOG_LEVEL: 'info',
      });
      const version = async () =>
        ((await (await fetch(`${base}/readyz`)).json()) as { checks: { policies: { ok: boolean; detail: string } } })
          .checks.policies;
      const until = async (ok: (c: { ok: boolean; detail: string }) => boolean) => {
        for (let i = 0; i < 600; i++) {
          const c = await version();
          if (ok(c)) return c;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`no reload seen:\n${p.output()}`);
      };
      try {
        await waitForHttp(`${base}/readyz`, p, 120_000);
        const first = await version();
        writeFileSync(join(dir, 'staff.yaml'), readFileSync(join(dir, 'staff.yaml'), 'utf8') + STAFF_LABEL_RULE);
        p.child.kill('SIGHUP');
        const second = await until((c) => c.ok && c.detail !== first.detail);
        writeFileSync(join(dir, 'broken.yaml'), BROKEN);
        p.child.kill('SIGHUP');
        const refused = await until((c) => !c.ok);
        expect(refused.detail).toContain(`reload refused, ${second.detail.replace('version ', '')} stays in force`);
        expect(p.output()).toContain('policy reload refused');
      } finally {
        p.child.kill('SIGTERM');
        await p.exited;
        rmSync(dir, { recursive: true, force: true });
        rmSync(data, { recursive: true, force: true });
      }
    },
  );
});
