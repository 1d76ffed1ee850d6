import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../scripts/build.ts';
import { verifyWorkerScript } from '../../src/audit/audit.verify-workers.ts';
import { freePort, ROOT, runScript, waitForHttp } from '../helpers/process.ts';

// No Docker daemon here: the runtime stage of the Dockerfile is laid out by hand from its own COPY
// lines (so a file the bundle needs and the image lacks fails here), then started as the image's
// CMD would, and probed with the image's HEALTHCHECK command.
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

/** `[from, to]` for each COPY of the runtime stage; `--from=build` sources are the build stage's /app. */
function copies(): [string, string][] {
  return [...runtimeStage.matchAll(/^COPY (--from=build )?(\S+) (\S+)$/gm)].map((m) => {
    const source = m[1] ? m[2]!.replace(/^\/app\//, '') : m[2]!;
    return [source, m[3]!.replace(/^\.\//, '')];
  });
}

describe('the container image (runtime stage laid out without Docker)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jaga-image-'));
  const app = join(dir, 'app');
  beforeAll(async () => {
    // Bundled apart from dist/node, which test/foundation/process.test.ts may be writing meanwhile.
    await bundle('src/entry/node.ts', 'dist/image-test/jaga.mjs');
    for (const [from, to] of copies()) {
      mkdirSync(join(app, to, '..'), { recursive: true });
      cpSync(join(ROOT, from === 'dist/node' ? 'dist/image-test' : from), join(app, to), { recursive: true });
    }
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs as an unprivileged user, from the bundle only, with a healthcheck on /readyz', () => {
    expect(runtimeStage).toMatch(/^USER node$/m);
    expect(runtimeStage).not.toMatch(/^COPY (--from=build )?(\/app\/)?src\b/m);
    expect(runtimeStage).toMatch(/^HEALTHCHECK .*\n?.*\/readyz/m);
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(copies().map(([from]) => from)).toEqual(
      expect.arrayContaining([
        'dist/node',
        'node_modules/@electric-sql',
        'node_modules/swagger-ui-dist',
        'migrations',
        'policies',
      ]),
    );
    // The audit verifier's worker threads (with PostgreSQL) load their module from beside the bundle.
    const entry = JSON.parse(/^CMD (\[.*\])$/m.exec(runtimeStage)![1]!).at(-1) as string;
    expect(existsSync(verifyWorkerScript(pathToFileURL(join(app, entry)).href))).toBe(true);
  });

  it('starts from that layout as CMD does, and the HEALTHCHECK command passes once ready', async () => {
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(runtimeStage)![1]!) as string[];
    const health = JSON.parse(/^\s+CMD (\[.*\])$/m.exec(runtimeStage)![1]!) as string[];
    const env = Object.fromEntries(
      [...runtimeStage.matchAll(/^\s*(?:ENV )?([A-Z_]+)=(\S+?)\s*\\?$/gm)].map((m) => [m[1]!, m[2]!]),
    );
    expect(env).toMatchObject({ NODE_ENV: 'production', JAGA_DATA_DIR: '/data', POLICY_DIR: '/app/policies' });
    const port = await freePort();
    const script = relative(ROOT, join(app, cmd.at(-1)!)); // runScript resolves from the root
    const p = runScript(script, {
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      JAGA_DATA_DIR: join(dir, 'data'),
      POLICY_DIR: join(app, 'policies'),
      JWT_SECRET: 'container-secret-container-secret-012345',
      AUDIT_HMAC_KEY: 'container-audit-key-container-audit-0123',
    });
    try {
      mkdirSync(join(dir, 'data'), { recursive: true });
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, p);
      // The API reference's files come from a package the image must carry.
      const asset = await fetch(`http://127.0.0.1:${port}/docs/assets/swagger-ui-bundle.js`);
      expect(asset.status, 'swagger-ui-dist is in the image').toBe(200);
      // The image's own probe, as Docker runs it.
      expect(() =>
        execFileSync(process.execPath, health.slice(1), { env: { PORT: String(port) }, stdio: 'pipe' }),
      ).not.toThrow();
    } finally {
      p.child.kill('SIGTERM');
      expect(await p.exited, p.output()).toBe(0);
    }
  }, 90_000);
});
