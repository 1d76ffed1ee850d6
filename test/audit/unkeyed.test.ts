import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { freePort, runScript, waitForHttp } from '../helpers/process.ts';
import { entry, getAs, tokenFor } from './helpers.ts';

// Without AUDIT_HMAC_KEY the chain is plain SHA-256: whoever can write to the database can rewrite
// it consistently. That must never be silent.
const UNKEYED = /^unkeyed: AUDIT_HMAC_KEY is not set: the audit chain is plain SHA-256/;
const KEY = 'audit-hmac-key-audit-hmac-key-0123456789';

describe.each(databaseKinds())('an unkeyed audit chain on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(kind);
    for (let i = 0; i < 3; i++) await t.deps.services.audit.appendDurable(entry({ requestId: `u${i}` }));
  });
  afterAll(() => t.close());

  it('is reported by /readyz, which stays ready', async () => {
    const ready = await t.request('GET', '/readyz');
    expect(ready.status, ready.text).toBe(200);
    expect(ready.body.status).toBe('ready');
    expect(ready.body.checks.audit_key.ok).toBe(true);
    expect(ready.body.checks.audit_key.detail).toMatch(UNKEYED);
  });

  it('is reported by GET /v1/audit/verify as keyed: false', async () => {
    const res = await getAs(t, await tokenFor('aud-1', ['auditor']), '/v1/audit/verify');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ ok: true, keyed: false });
    expect(res.body.checked).toBeGreaterThanOrEqual(3);
  });
});

describe('starting the server without AUDIT_HMAC_KEY', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jaga-unkeyed-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function serve(
    env: Record<string, string>,
  ): Promise<{ ready: { checks: Record<string, { ok: boolean; detail?: string }> }; output: string }> {
    const port = await freePort();
    const p = runScript('src/entry/node.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      JAGA_DATA_DIR: join(dir, `data-${port}`),
      ...env,
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, p);
      const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as {
        checks: Record<string, { ok: boolean; detail?: string }>;
      };
      return { ready, output: p.output() };
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  }

  it('warns at start-up and serves (the README first start: no NODE_ENV)', async () => {
    const { ready, output } = await serve({});
    expect(output).toMatch(/"level":"warn","msg":"audit chain unkeyed","detail":"AUDIT_HMAC_KEY is not set/);
    expect(ready.checks.audit_key?.detail).toMatch(UNKEYED);
  }, 60_000);

  it('refuses to start in NODE_ENV=production, naming the variable', async () => {
    const p = runScript('src/entry/node.ts', {
      NODE_ENV: 'production',
      PORT: String(await freePort()),
      JAGA_DATA_DIR: join(dir, 'never'),
    });
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain('AUDIT_HMAC_KEY: required when NODE_ENV=production');
  }, 60_000);

  it('starts in NODE_ENV=production with the key, without the warning', async () => {
    const { ready, output } = await serve({ NODE_ENV: 'production', AUDIT_HMAC_KEY: KEY });
    expect(output).not.toContain('audit chain unkeyed');
    expect(ready.checks.audit_key?.detail).toBe('keyed: HMAC-SHA-256 with AUDIT_HMAC_KEY');
  }, 60_000);
});
