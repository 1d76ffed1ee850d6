import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * Load on Cerbos's gRPC API, which its documentation recommends for throughput (its HTTP API is a
 * gateway in front of the same service), through Cerbos's own Node SDK (@cerbos/grpc, installed in
 * bench/.peers). Same spec and output as load.ts: closed loop with `connections` calls in flight,
 * or an open loop at `rate` (latency counted from when a call was due). Input: a JSON spec file.
 */
interface Spec {
  host: string;
  port: number;
  bodies: { principal: unknown; resources: unknown[]; requestId?: string }[];
  connections: number;
  durationMs: number;
  warmupMs?: number;
  rate?: number;
  peers: string;
}

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Spec;
const { GRPC } = createRequire(join(spec.peers, 'package.json'))('@cerbos/grpc') as {
  GRPC: new (target: string, options: { tls: boolean }) => { checkResources(r: unknown): Promise<unknown> };
};
const cerbos = new GRPC(`${spec.host}:${spec.port}`, { tls: false });
const now = () => Number(process.hrtime.bigint()) / 1e3; // µs
const latencies: number[] = [];
let answered = 0;
let errors = 0;
let done = 0;
let measuring = false;
let next = 0;

async function call(due: number): Promise<void> {
  const body = spec.bodies[next++ % spec.bodies.length]!;
  try {
    await cerbos.checkResources(body);
    answered++;
    if (measuring) {
      done++;
      latencies.push(now() - due);
    }
  } catch {
    errors++;
  }
}

const warmup = spec.warmupMs ?? 0;
const end = now() + (warmup + spec.durationMs) * 1000;
setTimeout(() => (measuring = true), warmup);
let t0 = now() + warmup * 1000;
if (!spec.rate) {
  await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      while (now() < end) await call(now());
    }),
  );
} else {
  const interval = 1e6 / spec.rate;
  const inFlight = new Set<Promise<void>>();
  let due = now();
  t0 = due + warmup * 1000;
  while (due < end) {
    while (now() < due) await new Promise((r) => setImmediate(r));
    const p = call(due);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    due += interval;
  }
  await Promise.all(inFlight);
}
const elapsed = (now() - t0) / 1e6;
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]! / 1000 : NaN;
console.log(
  JSON.stringify({
    requests: done,
    answered,
    errors,
    non2xx: 0,
    rps: done / elapsed,
    p50: pct(50),
    p99: pct(99),
    p999: pct(99.9),
    max: latencies.length ? latencies.at(-1)! / 1000 : NaN,
  }),
);
process.exit(0);
