import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, ROOT } from '../helpers/process.ts';

// The same app under workerd (wrangler's local runtime, from npm), offline.
describe('the Workers entry point', () => {
  it('serves /healthz and the error model under workerd', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort())],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          // Offline: no metrics, no fetch of the Request.cf object from Cloudflare.
          WRANGLER_SEND_METRICS: 'false',
          CLOUDFLARE_CF_FETCH_ENABLED: 'false',
          CI: 'true',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const deadline = Date.now() + 90_000;
      let res: Response | undefined;
      while (Date.now() < deadline && !res) {
        try {
          res = await fetch(`http://127.0.0.1:${port}/healthz`);
        } catch {
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      expect(res, out).toBeDefined();
      expect(res!.status).toBe(200);
      expect(await res!.json()).toEqual({ status: 'ok' });
      const missing = await fetch(`http://127.0.0.1:${port}/nope`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toBe('application/problem+json');
      expect(((await missing.json()) as { code: string }).code).toBe('ROUTE_NOT_FOUND');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
