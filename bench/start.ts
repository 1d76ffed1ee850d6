// `npm run bench:start`: how fast Jaga starts and how much memory it holds idle, run as `npm start`
// runs it (the esbuild bundle, scripts/build.ts) against run from its TypeScript sources (Node
// strips the types at start-up). Each start is a fresh process with `npm start`'s node flags, on a
// throwaway PostgreSQL 15 and on the embedded PGlite; prints the time until /readyz answers 200
// and the resident memory (VmRSS) a second later, BENCH_ROUNDS times (default 3), medians last.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundle } from '../scripts/build.ts';
import { freePort, median, scriptFlags, vm } from './lib/bench-kit.ts';

const ROOT = join(import.meta.dirname, '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BUNDLE = 'dist/node/jaga.mjs';
const flags = scriptFlags('start');

/** One start: milliseconds until /readyz answers 200, and RSS in MB a second later. */
async function start(entry: string, env: Record<string, string>): Promise<{ ms: number; mb: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [...flags, join(ROOT, entry)], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JWT_SECRET: 'b'.repeat(48),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1000));
    return { ms, mb: vm(child.pid!, 'VmRSS') };
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  }
}

await bundle('src/entry/node.ts', BUNDLE);
const dir = mkdtempSync(join(tmpdir(), 'jaga-bench-start-'));
chmodSync(dir, 0o755); // the server runs as another user when this runs as root
const url = execFileSync('bash', [join(ROOT, 'scripts/pg-throwaway.sh'), 'start', join(dir, 'pg')], {
  encoding: 'utf8',
}).trim();
try {
  console.log(
    `node ${process.version}, flags ${flags.join(' ')}, ${ROUNDS} rounds; first start of each PGlite folder (migrations) not counted`,
  );
  const results: Record<string, { ms: number; mb: number }[]> = {};
  for (const db of ['postgres', 'pglite'] as const) {
    for (const entry of ['src/entry/node.ts', BUNDLE]) {
      const env: Record<string, string> =
        db === 'postgres' ? { DATABASE_URL: url } : { JAGA_DATA_DIR: join(dir, `data-${entry.replaceAll('/', '_')}`) };
      if (db === 'pglite') await start(entry, env); // creates and migrates the folder
      const key = `${db.padEnd(9)} ${entry === BUNDLE ? 'bundle (npm start)' : 'TypeScript sources'}`;
      results[key] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const x = await start(entry, env);
        results[key].push(x);
        console.log(`${key}  ready in ${x.ms.toFixed(0).padStart(5)} ms  idle RSS ${x.mb.toFixed(0).padStart(4)} MB`);
      }
    }
  }
  console.log('\nmedians');
  for (const [key, xs] of Object.entries(results)) {
    console.log(
      `${key}  ready in ${median(xs.map((x) => x.ms))
        .toFixed(0)
        .padStart(5)} ms  idle RSS ${median(xs.map((x) => x.mb))
        .toFixed(0)
        .padStart(4)} MB`,
    );
  }
} finally {
  execFileSync('bash', [join(ROOT, 'scripts/pg-throwaway.sh'), 'stop', join(dir, 'pg')]);
  rmSync(dir, { recursive: true, force: true });
}
