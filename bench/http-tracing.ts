import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fmt, runLoad } from './lib/load.ts';

/**
 * The throughput cost of tracing: GET /healthz through the whole Jaga middleware stack, with the
 * telemetry off (no-op tracer) and on (SDK, every request sampled, spans batched and discarded).
 * Server pinned to core 0, load generator to core 1 (taskset), 64 keep-alive connections.
 *   npm run bench:tracing [-- SECONDS]
 */
const seconds = Number(process.argv[2] ?? 10);
const here = import.meta.dirname;

async function measure(mode: 'off' | 'on', port: number) {
  const server = spawn('taskset', ['-c', '0', process.execPath, join(here, 'lib/tracing-server.ts'), String(port), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => server.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
  await runLoad({ url: `http://127.0.0.1:${port}/healthz`, concurrency: 64, seconds: 2 }); // warm-up
  const r = await runLoad({ url: `http://127.0.0.1:${port}/healthz`, concurrency: 64, seconds });
  server.kill('SIGTERM');
  return r;
}

// Pin this process (the load generator) to core 1.
spawn('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
const off = await measure('off', 18901);
const on = await measure('on', 18902);
console.log(`tracing off: ${fmt(off)}`);
console.log(`tracing on:  ${fmt(on)}`);
console.log(`cost of tracing: ${(100 * (1 - on.rps / off.rps)).toFixed(1)}% of throughput, ${((1e6 / on.rps - 1e6 / off.rps)).toFixed(1)} µs per request`);
