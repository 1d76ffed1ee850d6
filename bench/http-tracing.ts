import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The throughput cost of tracing: GET /healthz through the whole Jaga middleware stack, with the
 * telemetry off (no-op tracer) and on (SDK, every request sampled, spans batched and discarded).
 * Server pinned to core 0, the load generator (bench/check/load.ts) to core 1, 64 connections.
 *   npm run bench:tracing [-- SECONDS]
 */
const seconds = Number(process.argv[2] ?? 10);
const here = import.meta.dirname;
const tmp = mkdtempSync(join(tmpdir(), 'jaga-tracing-'));

interface Result {
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  requests: number;
  errors: number;
}

async function measure(mode: 'off' | 'on', port: number): Promise<Result> {
  const server = spawn(
    'taskset',
    ['-c', '0', process.execPath, join(here, 'lib/tracing-server.ts'), String(port), mode],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) =>
    server.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()),
  );
  const spec = join(tmp, `${mode}.json`);
  writeFileSync(
    spec,
    JSON.stringify({
      host: '127.0.0.1',
      port,
      requests: [{ method: 'GET', path: '/healthz' }],
      connections: 64,
      durationMs: seconds * 1000,
      warmupMs: 2000,
    }),
  );
  const out = execFileSync('taskset', ['-c', '1', process.execPath, join(here, 'check/load.ts'), spec], {
    encoding: 'utf8',
  });
  server.kill('SIGTERM');
  return JSON.parse(out.trim().split('\n').at(-1)!) as Result;
}

const fmt = (r: Result) =>
  `${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  p99.9 ${r.p999.toFixed(2)} ms  (${r.requests} requests, ${r.errors} errors)`;
try {
  const off = await measure('off', 18901);
  const on = await measure('on', 18902);
  console.log(`tracing off: ${fmt(off)}`);
  console.log(`tracing on:  ${fmt(on)}`);
  console.log(
    `cost of tracing: ${(100 * (1 - on.rps / off.rps)).toFixed(1)}% of throughput, ${(1e6 / on.rps - 1e6 / off.rps).toFixed(1)} µs per request`,
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
