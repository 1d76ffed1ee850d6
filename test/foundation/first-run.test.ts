import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { unsetSettings } from '../../src/system/first-run.ts';
import { freePort, ROOT, runScript, waitForHttp, type Started } from '../helpers/process.ts';

const SECRET = 'walkthrough-secret-walkthrough-secret-0123';

/** Runs docs/walkthrough.sh against `url`; resolves with its exit code and output. */
function walkthrough(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn('bash', [join(ROOT, 'docs/walkthrough.sh')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('unset secrets', () => {
  it('names each one unset and what follows, and none that is set', () => {
    const none = unsetSettings(loadConfig({ METRICS_ENABLED: 'true' })).map((s) => s.variable);
    expect(none).toEqual(['JWT_SECRET', 'AUDIT_HMAC_KEY', 'PSEUDONYM_KEY', 'METRICS_TOKEN']);
    const all = unsetSettings(
      loadConfig({
        JWT_SECRET: SECRET,
        AUDIT_HMAC_KEY: SECRET,
        PSEUDONYM_KEY: SECRET,
        METRICS_ENABLED: 'true',
        METRICS_TOKEN: SECRET,
      }),
    );
    expect(all).toEqual([]);
    for (const s of unsetSettings(loadConfig({}))) expect(s.detail).toContain(s.variable);
  });
});

describe('the first run, against a started server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jaga-first-run-'));
  const dataDir = join(dir, 'data');
  let server: Started;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = runScript('src/entry/node.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      JAGA_DATA_DIR: dataDir,
      JWT_SECRET: SECRET,
    });
    await waitForHttp(`${url}/readyz`, server);
  }, 60_000);
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('warns once for each unset secret, plainly, and not for the one set', () => {
    const warnings = server
      .output()
      .split('\n')
      .filter((l) => l.includes('"level":"warn"'));
    const count = (msg: string) => warnings.filter((l) => l.includes(`"msg":"${msg}"`)).length;
    expect(count('audit chain unkeyed')).toBe(1);
    expect(count('pseudonym key unset')).toBe(1);
    expect(count('no token keys')).toBe(0);
    expect(warnings.find((l) => l.includes('pseudonym key unset'))).toMatch(/"variable":"PSEUDONYM_KEY"/);
  });

  it('GET / points the way, as JSON or HTML', async () => {
    const json = await fetch(`${url}/`);
    expect(json.status).toBe(200);
    const body = (await json.json()) as { links: Record<string, { href: string }>; notYet: string[] };
    expect(Object.values(body.links).map((l) => l.href)).toEqual(
      expect.arrayContaining(['/docs', '/openapi.json', '/healthz', '/readyz']),
    );
    expect(body.notYet.join(' ')).toMatch(/\/console.*not built yet/);
    const html = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await html.text()).toContain('<a href="/docs">');
  });

  it('runs the README walkthrough twice in a row, writing its files to a temporary folder only', async () => {
    const env = { J: url, JWT_SECRET: SECRET, JAGA_DATA_DIR: dataDir };
    const rootFiles = ['checkpoint.json', 'disclosures.csv'].map((f) => join(ROOT, f));
    const before = rootFiles.map(existsSync);
    for (const round of [1, 2]) {
      const out = join(dir, `out-${round}`);
      const run = await walkthrough({ ...env, OUT: out });
      expect(run.code, run.output).toBe(0);
      expect(run.output).toContain('walkthrough done');
      expect(run.output).toMatch(/audit chain ok/);
      expect(JSON.parse(readFileSync(join(out, 'checkpoint.json'), 'utf8'))).toHaveProperty('seq');
      expect(readFileSync(join(out, 'disclosures.csv'), 'utf8').split('\n').length).toBeGreaterThan(4);
    }
    expect(rootFiles.map(existsSync)).toEqual(before);
  }, 120_000);

  it('stops loudly on the first answer that is not 2xx', async () => {
    // Tokens signed with another secret: the first call answers 401.
    const run = await walkthrough({
      J: url,
      JWT_SECRET: SECRET.replace('0123', '9999'),
      JAGA_DATA_DIR: dataDir,
      OUT: join(dir, 'out-bad'),
    });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/FAILED: GET \/v1\/me answered 401/);
    expect(run.output).toContain('"code":"TOKEN_SIGNATURE_INVALID"');
  }, 60_000);
});
