import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { freePort, median } from '../lib/bench-kit.ts';
import { cpuUs, postgresPids } from '../lib/proc-cpu.ts';
import { buildMix } from './mix.ts';

/**
 * `npm run bench:check`: /v1/check against Cerbos and a raw Hono ceiling, in one run.
 * Each server is pinned to core 0 and the load generator to core 1 (taskset). Phases: closed-loop
 * saturation, then a fixed-rate open loop. Prints req/s, p50/p99/p99.9 and the ratios.
 * Env: BENCH_DB (postgres | pglite, default postgres), BENCH_SECONDS (measured seconds per phase, default 8), BENCH_RATE (open-loop req/s, default 2000),
 * BENCH_CONNECTIONS (saturation connections, default 16), BENCH_CPU_ROUNDS (open-loop rounds alternating
 * logging on and off for the CPU comparison, default 3).
 */
const ROOT = join(import.meta.dirname, '../..');
const PEERS = join(ROOT, 'bench/.peers');
const CERBOS = join(PEERS, 'node_modules/@cerbos/cerbos-linux-x64/cerbos-linux-x64');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const node = process.execPath;
const pin = (core: number, cmd: string, args: string[]) => (existsSync('/usr/bin/taskset') ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]) as [string, string[]];

function ensurePeers() {
  if (existsSync(CERBOS)) return;
  console.log('installing the Cerbos PDP into bench/.peers (once) ...');
  execFileSync('npm', ['install', '--prefix', PEERS, '--no-audit', '--no-fund', '--no-save', '@cerbos/cerbos-linux-x64@0.55.0'], { stdio: 'inherit' });
}


async function start(name: string, cmd: string, args: string[], env: Record<string, string>, ready: string): Promise<ChildProcess> {
  const [c, a] = pin(0, cmd, args);
  const child = spawn(c, a, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(ready);
      if (r.status < 500) return child;
    } catch {
      // not yet
    }
    if (child.exitCode !== null) throw new Error(`${name} exited:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not start:\n${out}`);
}

interface Result {
  requests: number;
  errors: number;
  non2xx: number;
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

function load(port: number, requests: unknown[], opts: { rate?: number; connections: number }): Result {
  const spec = { host: '127.0.0.1', port, requests, connections: opts.connections, durationMs: SECONDS * 1000, warmupMs: 2000, ...(opts.rate ? { rate: opts.rate } : {}) };
  const file = join(tmp, `load-${port}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const [c, a] = pin(1, node, [join(import.meta.dirname, 'load.ts'), file]);
  return JSON.parse(execFileSync(c, a, { encoding: 'utf8', maxBuffer: 1 << 26 }).trim().split('\n').at(-1)!) as Result;
}

async function stop(child: ChildProcess) {
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
}

ensurePeers();
const loadBefore = loadavg()[0]!;
const tmp = mkdtempSync(join(tmpdir(), 'jaga-bench-'));
const key = new TextEncoder().encode(SECRET);
const sign = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('2h').sign(key);
const caller = await sign({ sub: 'bench-svc', roles: ['service'], unit: 'RI', kind: 'service' });
const mix = buildMix(512);
const rows: { name: string; mode: string; r: Result; cpu?: { server: number; db: number } }[] = [];
const saturate = (name: string, port: number, reqs: unknown[]) =>
  rows.push({ name, mode: `saturation (${CONNECTIONS} conn)`, r: load(port, reqs, { connections: CONNECTIONS }) });
// The open loop sends RATE req/s through warm-up and measurement: CPU per request from that.
const openLoop = (name: string, port: number, reqs: unknown[], pid?: number) => {
  const pg = postgresPids();
  const before = pid ? { server: cpuUs([pid]), db: cpuUs(pg) } : undefined;
  const r = load(port, reqs, { rate: RATE, connections: 64 });
  const sent = RATE * (SECONDS + 2);
  const cpu = pid && before ? { server: (cpuUs([pid]) - before.server) / sent, db: (cpuUs(pg) - before.db) / sent } : undefined;
  rows.push({ name, mode: `open loop ${RATE}/s`, r, ...(cpu ? { cpu } : {}) });
};
const run = (name: string, port: number, reqs: unknown[], pid?: number) => {
  saturate(name, port, reqs);
  openLoop(name, port, reqs, pid);
};
// Open-loop rounds alternating logging on and off (both servers up, the idle one costs nothing),
// so that drift in what else runs on the machine falls on both alike; the median ratio is reported.
const CPU_ROUNDS = Math.max(1, Number(process.env.BENCH_CPU_ROUNDS ?? 3));

let databaseUrl: string | undefined;
try {
  // 1. The ceiling: raw Hono.
  const helloPort = await freePort();
  const hello = await start('hono', node, [join(import.meta.dirname, 'hello-server.ts')], { PORT: String(helloPort) }, `http://127.0.0.1:${helloPort}/`);
  const helloReqs = mix.map((m) => ({ method: 'POST', path: '/v1/check', body: JSON.stringify(m.jaga) }));
  rows.push({ name: 'hono hello', mode: `saturation (${CONNECTIONS} conn)`, r: load(helloPort, helloReqs, { connections: CONNECTIONS }) });
  await stop(hello);

  // 2. Jaga: /v1/check, a service asking about a mix of principals; every decision to the audit log
  //    (on PostgreSQL pinned to the server's core, or the embedded PGlite with BENCH_DB=pglite),
  //    then the same with logging off, to measure what logging costs.
  // Its own folder directly under the temp dir: the server runs as another user and must reach it.
  const pgDir = mkdtempSync(join(tmpdir(), 'jaga-bench-pg-'));
  if ((process.env.BENCH_DB ?? 'postgres') === 'postgres') {
    databaseUrl = execFileSync('bash', [join(ROOT, 'scripts/pg-throwaway.sh'), 'start', pgDir], { encoding: 'utf8' }).trim();
    const pid = readFileSync(join(pgDir, 'data/postmaster.pid'), 'utf8').split('\n')[0]!;
    if (existsSync('/usr/bin/taskset')) execFileSync('taskset', ['-a', '-cp', '0', pid], { stdio: 'ignore' });
  }
  const jagaReqs = mix.map((m) => ({ method: 'POST', path: '/v1/check', body: JSON.stringify(m.jaga), headers: { authorization: `Bearer ${caller}` } }));
  try {
    const servers: Record<'on' | 'off', { port: number; pid: number; child: ChildProcess }> = {} as never;
    for (const audit of ['on', 'off'] as const) {
      const jagaPort = await freePort();
      const jaga = await start(
        'jaga',
        node,
        [...(process.env.BENCH_SERVER_FLAGS?.split(' ').filter(Boolean) ?? []), join(import.meta.dirname, 'jaga-server.ts')], // e.g. --cpu-prof
        {
          PORT: String(jagaPort),
          JWT_SECRET: SECRET,
          ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { JAGA_DATA_DIR: join(tmp, `data-${audit}`) }),
          POLICY_DIR: join(ROOT, 'policies'),
          LOG_LEVEL: 'warn',
          BENCH_AUDIT: audit,
          // AUDIT_* settings pass through (e.g. AUDIT_FLUSH_LINGER_MS), to measure their effect.
          ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('AUDIT_'))),
        },
        `http://127.0.0.1:${jagaPort}/healthz`,
      );
      servers[audit] = { port: jagaPort, pid: jaga.pid!, child: jaga };
    }
    const label = { on: 'jaga /v1/check', off: 'jaga, audit off' } as const;
    for (const audit of ['on', 'off'] as const) saturate(label[audit], servers[audit].port, jagaReqs);
    for (let round = 0; round < CPU_ROUNDS; round++) {
      for (const audit of ['on', 'off'] as const) openLoop(label[audit], servers[audit].port, jagaReqs, servers[audit].pid);
    }
    for (const audit of ['on', 'off'] as const) await stop(servers[audit].child);
  } finally {
    if (databaseUrl) execFileSync('bash', [join(ROOT, 'scripts/pg-throwaway.sh'), 'stop', pgDir]);
    rmSync(pgDir, { recursive: true, force: true });
  }

  // 3. Cerbos PDP, the equivalent policy, CheckResources over HTTP.
  const cerbosPort = await freePort();
  const grpcPort = await freePort();
  const config = join(tmp, 'cerbos.yaml');
  writeFileSync(
    config,
    `server:\n  httpListenAddr: "127.0.0.1:${cerbosPort}"\n  grpcListenAddr: "127.0.0.1:${grpcPort}"\nstorage:\n  driver: disk\n  disk:\n    directory: ${join(import.meta.dirname, 'cerbos/policies')}\n    watchForChanges: false\naudit:\n  enabled: false\ntelemetry:\n  disabled: true\n`,
  );
  const cerbos = await start('cerbos', CERBOS, ['server', `--config=${config}`, '--log-level=error'], { GOMAXPROCS: '1' }, `http://127.0.0.1:${cerbosPort}/_cerbos/health`);
  const cerbosReqs = mix.map((m) => ({ method: 'POST', path: '/api/check/resources', body: JSON.stringify(m.cerbos) }));
  run('cerbos', cerbosPort, cerbosReqs);
  await stop(cerbos);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-');
console.log(`\n/v1/check bench — server on core 0, load on core 1, ${SECONDS}s measured per phase, ${mix.length} distinct requests`);
console.log(`machine load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadavg()[0]!.toFixed(2)} — above ~2 on 2 cores, other processes share the pinned cores and the figures are not comparable across runs`);
console.log(['target'.padEnd(16), 'mode'.padEnd(22), 'req/s'.padStart(9), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'p99.9 ms'.padStart(9), 'non-2xx'.padStart(8), 'errors'.padStart(7), 'CPU µs/req server+db'.padStart(21)].join(' '));
for (const { name, mode, r, cpu } of rows) {
  const cpuCol = cpu ? `${f(cpu.server, 0)} + ${f(cpu.db, 0)}` : '';
  console.log([name.padEnd(16), mode.padEnd(22), f(r.rps, 0).padStart(9), f(r.p50).padStart(8), f(r.p99).padStart(8), f(r.p999).padStart(9), String(r.non2xx).padStart(8), String(r.errors).padStart(7), cpuCol.padStart(21)].join(' '));
}
const sat = (name: string) => rows.find((x) => x.name === name && x.mode.startsWith('saturation'))!.r;
const j = sat('jaga /v1/check');
const c = sat('cerbos');
const h = sat('hono hello');
const off = sat('jaga, audit off');
const cpuOf = (name: string) => rows.filter((x) => x.name === name && x.cpu).map((x) => x.cpu!.server + x.cpu!.db);
const onCpu = cpuOf('jaga /v1/check');
const offCpu = cpuOf('jaga, audit off');
if (onCpu.length && onCpu.length === offCpu.length) {
  const ratios = onCpu.map((on, i) => (100 * offCpu[i]!) / on);
  for (let i = 0; i < ratios.length; i++) {
    console.log(`CPU per check at ${RATE}/s, round ${i + 1} (server + database): logging on ${f(onCpu[i]!, 0)} µs, off ${f(offCpu[i]!, 0)} µs; logging costs ${f(onCpu[i]! - offCpu[i]!, 0)} µs; capacity with logging = ${f(ratios[i]!, 1)}%`);
  }
  console.log(`capacity with logging, median of ${ratios.length} alternating rounds = ${f(median(ratios), 1)}% of without (target ≥ 85%)`);
}
console.log(`\nratios at saturation: jaga / cerbos = ${f(j.rps / c.rps)}x (target ≥ 8x); jaga / hono ceiling = ${f((100 * j.rps) / h.rps, 1)}% (target ≥ 45%); jaga p99 = ${f(j.p99)} ms (target ≤ 5 ms); with logging / without = ${f((100 * j.rps) / off.rps, 1)}% (target ≥ 85%); database: ${databaseUrl ? 'PostgreSQL 15' : 'PGlite'}`);
