import { spawn } from 'node:child_process';
import { SignJWT } from 'jose';
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
    const body = (await json.json()) as { links: Record<string, { href: string }> };
    expect(Object.values(body.links).map((l) => l.href)).toEqual(
      expect.arrayContaining(['/console', '/docs', '/openapi.json', '/healthz', '/readyz']),
    );
    expect((await fetch(`${url}/console`)).status).toBe(200);
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
  it('the audit follower (docs/examples/jaga-follow.sh) ships every entry once, and resumes where it stopped', async () => {
    const auditor = await new SignJWT({ sub: 'siem', roles: ['auditor'], unit: 'RI' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(SECRET));
    const state = join(dir, 'follow.seq');
    /** Runs the follower until its output has been quiet for a while; returns the seqs it printed. */
    async function follow(): Promise<number[]> {
      const child = spawn('sh', [join(ROOT, 'docs/examples/jaga-follow.sh')], {
        env: { PATH: process.env.PATH ?? '', JAGA_URL: url, JAGA_TOKEN: auditor, STATE: state },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // its own process group: the script and its curl stop together
      });
      let out = '';
      let last = Date.now();
      child.stdout.on('data', (d: Buffer) => ((out += d.toString()), (last = Date.now())));
      const started = Date.now();
      while (Date.now() - last < 1500 || Date.now() - started < 2000) await new Promise((r) => setTimeout(r, 100));
      process.kill(-child.pid!, 'SIGTERM');
      await new Promise((r) => child.once('exit', r));
      return out
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { seq: number }).seq);
    }
    const first = await follow();
    expect(first.length).toBeGreaterThan(10);
    expect(first[0]).toBe(1);
    expect(first).toEqual(first.map((_, i) => i + 1)); // the whole log, in order, once
    expect(Number(readFileSync(state, 'utf8'))).toBe(first.at(-1));
    // More entries while it is stopped (each audit read is one).
    for (let i = 0; i < 3; i++)
      expect(
        (await fetch(`${url}/v1/audit/decisions?limit=1`, { headers: { authorization: `Bearer ${auditor}` } })).status,
      ).toBe(200);
    const second = await follow();
    expect(second[0]).toBe(first.at(-1)! + 1);
    expect(second).toEqual(second.map((_, i) => second[0]! + i));
    expect(second.length).toBeGreaterThanOrEqual(4); // three reads and the stream's own open
  }, 60_000);
});
