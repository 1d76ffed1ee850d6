import { readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * A small HTTP/1.1 load generator on raw keep-alive sockets (pre-serialised requests, a minimal
 * response parser), so the generator costs little next to the server it measures.
 * - closed loop (saturation): `connections` sockets each send the next request when the last answers;
 * - open loop (fixed rate): requests are due at fixed times whether or not earlier ones answered;
 *   latency counts from the time a request was due (no coordinated omission).
 * Input: the path of a JSON spec file; output: one JSON line.
 */
interface Spec {
  host: string;
  port: number;
  requests: { method: string; path: string; body?: string; headers?: Record<string, string> }[];
  connections: number;
  durationMs: number;
  warmupMs?: number;
  rate?: number;
}

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Spec;
const payloads = spec.requests.map((r) => {
  const body = r.body ?? '';
  const headers = Object.entries({
    host: `${spec.host}:${spec.port}`,
    'content-type': 'application/json',
    ...r.headers,
  })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return Buffer.from(
    `${r.method} ${r.path} HTTP/1.1\r\n${headers}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
});

const latencies: number[] = [];
let done = 0;
/** Every response, warm-up included: CPU measured over the whole run is divided by this. */
let answered = 0;
let errors = 0;
let non2xx = 0;
let next = 0;
let measuring = false;
let stopped = false;
const now = () => Number(process.hrtime.bigint()) / 1e3; // µs

class Connection {
  socket: net.Socket;
  buf: Buffer = Buffer.alloc(0);
  started = 0;
  busy = false;
  onIdle: () => void;
  constructor(onIdle: () => void) {
    this.onIdle = onIdle;
    this.socket = net.connect({ host: spec.host, port: spec.port, noDelay: true });
    this.socket.on('data', (d) => this.data(d));
    this.socket.on('error', () => {
      errors++;
    });
  }
  send(startedAt: number) {
    this.busy = true;
    this.started = startedAt;
    this.socket.write(payloads[next++ % payloads.length]!);
  }
  data(d: Buffer) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buf.subarray(0, end).toString('latin1');
    const m = /content-length:\s*(\d+)/i.exec(head);
    let total: number;
    if (m) {
      total = end + 4 + Number(m[1]);
      if (this.buf.length < total) return;
    } else {
      const fin = this.buf.indexOf('\r\n0\r\n\r\n', end);
      if (fin < 0) return;
      total = fin + 7;
    }
    const status = Number(head.slice(9, 12));
    this.buf = this.buf.subarray(total);
    this.busy = false;
    answered++;
    if (measuring) {
      latencies.push(now() - this.started);
      done++;
      if (status < 200 || status > 299) non2xx++;
    }
    this.onIdle();
  }
}

const conns: Connection[] = [];
const queue: number[] = []; // due times of open-loop requests waiting for a connection
const idle = (c: Connection) => () => {
  if (stopped) return;
  if (spec.rate) {
    const due = queue.shift();
    if (due !== undefined) c.send(due);
  } else c.send(now());
};
for (let i = 0; i < spec.connections; i++) {
  const c: Connection = new Connection(() => idle(c)());
  conns.push(c);
}
await Promise.all(conns.map((c) => new Promise((r) => c.socket.once('connect', r))));

const warmup = spec.warmupMs ?? 0;
let t0 = now();
if (!spec.rate) {
  for (const c of conns) c.send(now());
  await new Promise((r) => setTimeout(r, warmup));
  measuring = true;
  t0 = now();
  await new Promise((r) => setTimeout(r, spec.durationMs));
  stopped = true;
} else {
  const interval = 1e6 / spec.rate;
  let issued = 0;
  let start = now();
  let warm = warmup > 0;
  if (!warm) measuring = true;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const t = now();
      if (warm && t - start >= warmup * 1000) {
        warm = false;
        measuring = true;
        start = t;
        t0 = t;
        issued = 0;
        latencies.length = 0;
        done = 0;
      }
      if (!warm && t - start >= spec.durationMs * 1000) return resolve();
      while (start + issued * interval <= t) {
        const due = start + issued * interval;
        issued++;
        const free = conns.find((c) => !c.busy);
        if (free) free.send(due);
        else queue.push(due);
      }
      setImmediate(tick);
    };
    tick();
  });
  stopped = true;
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
    non2xx,
    rps: done / elapsed,
    p50: pct(50),
    p99: pct(99),
    p999: pct(99.9),
    max: latencies.length ? latencies.at(-1)! / 1000 : NaN,
    backlog: queue.length,
  }),
);
for (const c of conns) c.socket.destroy();
process.exit(0);
