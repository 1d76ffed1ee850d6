import http from 'node:http';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  p999: number;
}

export interface LoadOptions {
  url: string;
  method?: string;
  /** A body per request (called for each request, so a mix can rotate). */
  body?: () => string;
  headers?: Record<string, string>;
  concurrency: number;
  seconds: number;
  /** Open-loop: requests started per second regardless of answers (latency includes queueing). */
  rate?: number;
}

const pct = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

/**
 * A small HTTP load generator on keep-alive sockets: closed loop (N workers, next request when the
 * last answered) or open loop at a fixed rate. Latencies in milliseconds.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const target = new URL(o.url);
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + o.seconds * 1000;
  const once = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const body = o.body?.();
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: o.method ?? 'GET',
          headers: { ...o.headers, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) errors++;
            latencies.push(performance.now() - t0);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  if (o.rate) {
    const inflight = new Set<Promise<void>>();
    const interval = 1000 / o.rate;
    let next = performance.now();
    while (performance.now() < deadline) {
      const p = once().then(() => void inflight.delete(p));
      inflight.add(p);
      next += interval;
      const wait = next - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      else if (inflight.size % 64 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(inflight);
  } else {
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (performance.now() < deadline) await once();
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return { requests: latencies.length, errors, seconds, rps: latencies.length / seconds, p50: pct(sorted, 0.5), p99: pct(sorted, 0.99), p999: pct(sorted, 0.999) };
}

export const fmt = (r: LoadResult) =>
  `${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  p99.9 ${r.p999.toFixed(2)} ms  (${r.requests} requests, ${r.errors} errors)`;
