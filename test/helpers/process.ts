import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs a Jaga entry script (`src/...ts`, or a bundle in `dist/`) as a child process with the given environment. */
export function runScript(script: string, env: Record<string, string>, args: string[] = []): Started {
  const child = spawn(process.execPath, [join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Runs `jaga <command> [args]` (src/cli/jaga.ts, the package's `bin` and what the npm scripts run). */
export function runJaga(command: string, env: Record<string, string>, args: string[] = []): Started {
  return runScript('src/cli/jaga.ts', env, [command, ...args]);
}

/** Polls `url` until it answers 200 or the child exits. */
export async function waitForHttp(url: string, started: Started, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void started.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`process exited before serving:\n${started.output()}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${url}:\n${started.output()}`);
}

/**
 * A Jaga server process (`src/entry/node.ts`) that a fault test starts, kills with SIGKILL and
 * starts again on the same database: `env()` is read at each start (the database's URL is known
 * only once the suite's database exists). `start` resolves with the base URL once `/readyz` is 200.
 */
export function killableJaga(env: () => Record<string, string>) {
  let current: Started | undefined;
  return {
    async start(): Promise<string> {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      current = runScript('src/entry/node.ts', {
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        ...env(),
      });
      await waitForHttp(`${base}/readyz`, current);
      return base;
    },
    async kill9(): Promise<void> {
      current?.child.kill('SIGKILL');
      await current?.exited;
    },
    running: () => !!current && current.child.exitCode === null && current.child.signalCode === null,
    output: () => current?.output() ?? '',
  };
}
