import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import postgres from 'postgres';
import { bundle } from '../../scripts/build.ts';
import { freePort, median } from '../lib/bench-kit.ts';
import { clusterCpuUs, cpuUs } from '../lib/proc-cpu.ts';
import { buildMix, seedCatalog } from './mix.ts';
import { printPerf, startPerf, threadsOf, type PerfPhase } from './perf-core.ts';

/**
 * `npm run bench:check`: /v1/check against Cerbos and a raw Hono ceiling, in one run.
 * Each server is pinned to core 0 and the load generator to core 1 (taskset). Phases: closed-loop
 * saturation, then a fixed-rate open loop. Prints req/s, p50/p99/p99.9 and the ratios.
 * Env: BENCH_DB (postgres | pglite, default postgres), BENCH_SECONDS (measured seconds per phase, default 8), BENCH_RATE (open-loop req/s, default 2000),
 * BENCH_CONNECTIONS (saturation connections, default 16), BENCH_CPU_ROUNDS (open-loop rounds alternating
 * logging on and off for the CPU comparison, default 3), BENCH_ONLY=by-id (only the checks by dataset
 * id: the catalog snapshot against reading the catalog per check; no Hono ceiling, no Cerbos),
 * BENCH_ONLY=jaga (every Jaga phase; no Hono ceiling, no Cerbos), BENCH_SERVER_FLAGS (node flags for
 * the Jaga servers), BENCH_BATCH=0 (no batch phase), BENCH_FLOOR=0 (no floor phases: floor-server.ts). Profiling mode: BENCH_SERVER_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof", then
 * `node bench/check/profile.ts /tmp/prof <requests answered>` (the bench prints each server's pid,
 * which names its profile, and its requests) for self time by area and by function, per request.
 * BENCH_PERF_DIR=/tmp/perf: Linux `perf` samples core 0 (server, PostgreSQL, kernel) during each
 * saturation phase and the bench prints µs per request by process and PostgreSQL's top functions
 * (perf-core.ts; needs perf, as root or with perf_event_paranoid ≤ 0).
 *
 * Request shapes: by attributes (the caller describes the dataset and its fields) and by id (the
 * dataset named, Jaga supplying its labels from the catalog: how services ask), single and as
 * /v1/check/batch of 100. Jaga runs as `npm start` runs it: the bundled entry, its node flags,
 * telemetry as configured by default. CPU per request is the server's (and PostgreSQL's) CPU time
 * over the whole open loop divided by the requests answered in it, warm-up included.
 */
const ROOT = join(import.meta.dirname, '../..');
const PEERS = join(ROOT, 'bench/.peers');
const CERBOS = join(PEERS, 'node_modules/@cerbos/cerbos-linux-x64/cerbos-linux-x64');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ONLY_BY_ID = process.env.BENCH_ONLY === 'by-id';
/** BENCH_ONLY=jaga: every Jaga phase, without the Hono ceiling and Cerbos. */
const NO_PEERS = ONLY_BY_ID || process.env.BENCH_ONLY === 'jaga';
/** BENCH_ONLY=cerbos: only the Cerbos phases, with its variants (why its figure differs between machines and runs). */
const ONLY_CERBOS = process.env.BENCH_ONLY === 'cerbos';
const BATCH = 100;
/** BENCH_BATCH=0: no /v1/check/batch phase (a profile of single checks only). */
const WITH_BATCH = process.env.BENCH_BATCH !== '0';
/** BENCH_FLOOR=0: no floor phases (floor-server.ts: Hono and one durable row per check, nothing of Jaga's). */
const WITH_FLOOR = process.env.BENCH_FLOOR !== '0';
// As package.json's `start`.
const START_FLAGS = ['--max-old-space-size=1024', '--max-semi-space-size=8'];
const SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const node = process.execPath;
const pin = (core: number, cmd: string, args: string[]) =>
  (existsSync('/usr/bin/taskset') ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]) as [
    string,
    string[],
  ];

function ensurePeers() {
  if (existsSync(CERBOS)) return;
  console.log('installing the Cerbos PDP into bench/.peers (once) ...');
  execFileSync(
    'npm',
    ['install', '--prefix', PEERS, '--no-audit', '--no-fund', '--no-save', '@cerbos/cerbos-linux-x64@0.55.0'],
    { stdio: 'inherit' },
  );
}

async function start(
  name: string,
  cmd: string,
  args: string[],
  env: Record<string, string>,
  ready: string,
  pinned = true,
): Promise<ChildProcess> {
  const [c, a] = pinned ? pin(0, cmd, args) : [cmd, args];
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
  answered: number;
  errors: number;
  non2xx: number;
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** A load target: HTTP requests (load.ts) or CheckResources bodies sent over Cerbos's gRPC API (cerbos-grpc-load.ts). */
type Target = { port: number; requests: unknown[] } | { port: number; grpcBodies: unknown[] };

function load(target: Target, opts: { rate?: number; connections: number }): Result {
  const port = target.port;
  const grpc = 'grpcBodies' in target;
  const spec = {
    host: '127.0.0.1',
    port,
    ...(grpc ? { bodies: target.grpcBodies, peers: PEERS } : { requests: target.requests }),
    connections: opts.connections,
    durationMs: SECONDS * 1000,
    warmupMs: 2000,
    ...(opts.rate ? { rate: opts.rate } : {}),
  };
  const file = join(tmp, `load-${port}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const [c, a] = pin(1, node, [join(import.meta.dirname, grpc ? 'cerbos-grpc-load.ts' : 'load.ts'), file]);
  const r = JSON.parse(
    execFileSync(c, a, { encoding: 'utf8', maxBuffer: 1 << 26 })
      .trim()
      .split('\n')
      .at(-1)!,
  ) as Result;
  answeredBy.set(port, (answeredBy.get(port) ?? 0) + r.answered);
  return r;
}
/** Requests each port answered over the whole run (for dividing a CPU profile of its server). */
const answeredBy = new Map<number, number>();

async function stop(child: ChildProcess) {
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
}

if (!NO_PEERS) ensurePeers();
const loadBefore = loadavg()[0]!;
const tmp = mkdtempSync(join(tmpdir(), 'jaga-bench-'));
const key = new TextEncoder().encode(SECRET);
const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('2h').sign(key);
const caller = await sign({ sub: 'bench-svc', roles: ['service'], unit: 'RI', kind: 'service' });
const mix = buildMix(512);
const rows: { name: string; mode: string; r: Result; perCall?: number; cpu?: { server: number; db: number } }[] = [];
/** BENCH_PERF_DIR: `perf record` of core 0 during each saturation phase (perf-core.ts), summarised at the end. */
const PERF_DIR = process.env.BENCH_PERF_DIR;
const perfPhases: PerfPhase[] = [];
const saturate = (
  name: string,
  port: number | Target,
  reqs: unknown[],
  { perCall, pid }: { perCall?: number; pid?: number } = {},
) => {
  const perf = PERF_DIR ? startPerf(PERF_DIR, name, SECONDS + 2) : undefined;
  const r = load(typeof port === 'number' ? { port, requests: reqs } : port, { connections: CONNECTIONS });
  if (perf) perfPhases.push({ ...perf, answered: r.answered, ...threadsOf(pid, postmaster) });
  rows.push({ name, mode: `saturation (${CONNECTIONS} conn)`, r, ...(perCall ? { perCall } : {}) });
};
// The open loop sends RATE req/s through warm-up and measurement: CPU per request answered in that time.
// The database's CPU is its own cluster's only (the machine may run other PostgreSQL servers); 0 for PGlite, inside the server.
let postmaster: number | undefined;
const dbCpuUs = () => (postmaster ? clusterCpuUs(postmaster) : 0);
const openLoop = (name: string, port: number | Target, reqs: unknown[], pid?: number) => {
  const before = pid ? { server: cpuUs([pid]), db: dbCpuUs() } : undefined;
  const r = load(typeof port === 'number' ? { port, requests: reqs } : port, { rate: RATE, connections: 64 });
  const n = Math.max(1, r.answered);
  const cpu =
    pid && before ? { server: (cpuUs([pid]) - before.server) / n, db: (dbCpuUs() - before.db) / n } : undefined;
  rows.push({ name, mode: `open loop ${RATE}/s`, r, ...(cpu ? { cpu } : {}) });
};
const run = (name: string, port: number | Target, reqs: unknown[], pid?: number) => {
  saturate(name, port, reqs, { pid });
  openLoop(name, port, reqs, pid);
};
// Open-loop rounds alternating logging on and off (both servers up, the idle one costs nothing),
// so that drift in what else runs on the machine falls on both alike; the median ratio is reported.
const CPU_ROUNDS = Math.max(1, Number(process.env.BENCH_CPU_ROUNDS ?? 3));

let databaseUrl: string | undefined;
try {
  // 1. The ceiling: raw Hono.
  if (!NO_PEERS && !ONLY_CERBOS) {
    const helloPort = await freePort();
    const hello = await start(
      'hono',
      node,
      [join(import.meta.dirname, 'hello-server.ts')],
      { PORT: String(helloPort) },
      `http://127.0.0.1:${helloPort}/`,
    );
    const helloReqs = mix.map((m) => ({ method: 'POST', path: '/v1/check', body: JSON.stringify(m.jaga) }));
    rows.push({
      name: 'hono hello',
      mode: `saturation (${CONNECTIONS} conn)`,
      r: load({ port: helloPort, requests: helloReqs }, { connections: CONNECTIONS }),
    });
    await stop(hello);
  }

  // 2. Jaga, bundled and started as `npm start` starts it; every decision to the audit log (on
  //    PostgreSQL pinned to the server's core, or the embedded PGlite with BENCH_DB=pglite). Beside
  //    it: logging off (the bench wrapper, BENCH_AUDIT=off) to measure what logging costs, and the
  //    catalog snapshot off (CATALOG_SNAPSHOT_MAX_STALE_MS=0: the catalog read per check by id).
  // Its own folder directly under the temp dir: the server runs as another user and must reach it.
  if (!ONLY_CERBOS) {
    const pgDir = mkdtempSync(join(tmpdir(), 'jaga-bench-pg-'));
    if ((process.env.BENCH_DB ?? 'postgres') === 'postgres') {
      databaseUrl = execFileSync('bash', [join(ROOT, 'scripts/pg-throwaway.sh'), 'start', pgDir], {
        encoding: 'utf8',
      }).trim();
      const pid = readFileSync(join(pgDir, 'data/postmaster.pid'), 'utf8').split('\n')[0]!;
      postmaster = Number(pid);
      if (existsSync('/usr/bin/taskset')) execFileSync('taskset', ['-a', '-cp', '0', pid], { stdio: 'ignore' });
    }
    const JAGA = 'dist/bench/jaga.mjs';
    const JAGA_AUDIT_OFF = 'dist/bench/jaga-audit-off.mjs';
    await bundle('src/entry/node.ts', JAGA);
    if (!ONLY_BY_ID) await bundle('bench/check/jaga-server.ts', JAGA_AUDIT_OFF);
    const auth = { authorization: `Bearer ${caller}` };
    const check = (body: unknown) => ({ method: 'POST', path: '/v1/check', body: JSON.stringify(body), headers: auth });
    const byAttributes = mix.map((m) => check(m.jaga));
    const byId = mix.map((m) => check(m.byId));
    const batches = Array.from({ length: mix.length / 8 }, (_, i) => ({
      method: 'POST',
      path: '/v1/check/batch',
      body: JSON.stringify({ checks: Array.from({ length: BATCH }, (_, k) => mix[(i * 8 + k) % mix.length]!.byId) }),
      headers: auth,
    }));
    try {
      type Kind = 'on' | 'off' | 'nosnap';
      const kinds: Kind[] = ONLY_BY_ID ? ['on', 'nosnap'] : databaseUrl ? ['on', 'off', 'nosnap'] : ['on', 'off'];
      const servers = {} as Record<Kind, { port: number; pid: number; child: ChildProcess }>;
      for (const kind of kinds) {
        const jagaPort = await freePort();
        const flags = process.env.BENCH_SERVER_FLAGS?.split(' ').filter(Boolean) ?? []; // e.g. --cpu-prof
        const jaga = await start(
          'jaga',
          node,
          [...START_FLAGS, ...flags, join(ROOT, kind === 'off' ? JAGA_AUDIT_OFF : JAGA)],
          {
            PORT: String(jagaPort),
            HOST: '127.0.0.1',
            JWT_SECRET: SECRET,
            ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { JAGA_DATA_DIR: join(tmp, `data-${kind}`) }),
            POLICY_DIR: join(ROOT, 'policies'),
            LOG_LEVEL: 'warn',
            ...(kind === 'off' ? { BENCH_AUDIT: 'off' } : {}),
            ...(kind === 'nosnap' ? { CATALOG_SNAPSHOT_MAX_STALE_MS: '0' } : {}),
            // AUDIT_* settings pass through (e.g. AUDIT_FLUSH_LINGER_MS), to measure their effect.
            ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('AUDIT_'))),
          },
          `http://127.0.0.1:${jagaPort}/healthz`,
        );
        servers[kind] = { port: jagaPort, pid: jaga.pid!, child: jaga };
      }
      if (databaseUrl) {
        const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
        await seedCatalog(
          sql,
          mix.map((m) => m.dataset),
        );
        await sql.end();
        await new Promise((r) => setTimeout(r, 1000)); // the snapshots reload on the notification
      }
      const name = { on: 'jaga', off: 'jaga, audit off', nosnap: 'jaga, no snapshot' } as const;
      if (!ONLY_BY_ID) {
        saturate(`${name.on} by attrs`, servers.on.port, byAttributes, { pid: servers.on.pid });
        saturate(`${name.off} by attrs`, servers.off.port, byAttributes, { pid: servers.off.pid });
      }
      if (databaseUrl) {
        saturate(`${name.on} by id`, servers.on.port, byId, { pid: servers.on.pid });
        saturate(`${name.nosnap} by id`, servers.nosnap.port, byId, { pid: servers.nosnap.pid });
        if (WITH_BATCH)
          saturate(`${name.on} batch ${BATCH}`, servers.on.port, batches, { perCall: BATCH, pid: servers.on.pid });
        if (ONLY_BY_ID && WITH_BATCH)
          saturate(`${name.nosnap} batch ${BATCH}`, servers.nosnap.port, batches, {
            perCall: BATCH,
            pid: servers.nosnap.pid,
          });
      }
      for (let round = 0; round < CPU_ROUNDS; round++) {
        if (!ONLY_BY_ID) {
          openLoop(`${name.on} by attrs`, servers.on.port, byAttributes, servers.on.pid);
          openLoop(`${name.off} by attrs`, servers.off.port, byAttributes, servers.off.pid);
        }
        if (databaseUrl) {
          openLoop(`${name.on} by id`, servers.on.port, byId, servers.on.pid);
          openLoop(`${name.nosnap} by id`, servers.nosnap.port, byId, servers.nosnap.pid);
        }
      }
      // The floor (floor-server.ts): Hono + one HMAC'd row per check, group-committed into a copy of
      // the audit table, answered once durable. Nothing of Jaga's; what stands below any logged check.
      if (databaseUrl && WITH_FLOOR) {
        for (const indexes of ['1', '0']) {
          const floorPort = await freePort();
          const floor = await start(
            'floor',
            node,
            [
              ...START_FLAGS,
              ...(process.env.BENCH_SERVER_FLAGS?.split(' ').filter(Boolean) ?? []),
              join(import.meta.dirname, 'floor-server.ts'),
            ],
            { PORT: String(floorPort), DATABASE_URL: databaseUrl, FLOOR_INDEXES: indexes },
            `http://127.0.0.1:${floorPort}/healthz`,
          );
          const label = indexes === '1' ? 'floor' : 'floor, primary key only';
          run(label, floorPort, byId, floor.pid);
          await stop(floor);
          console.log(`server ${label}: pid ${floor.pid}, ${answeredBy.get(floorPort) ?? 0} requests answered`);
        }
      }
      for (const kind of kinds) await stop(servers[kind].child);
      // With BENCH_SERVER_FLAGS="--cpu-prof --cpu-prof-dir=DIR": what to divide each profile by.
      for (const kind of kinds)
        console.log(
          `server ${kind}: pid ${servers[kind].pid}, ${answeredBy.get(servers[kind].port) ?? 0} requests answered`,
        );
    } finally {
      if (databaseUrl) execFileSync('bash', [join(ROOT, 'scripts/pg-throwaway.sh'), 'stop', pgDir]);
      postmaster = undefined; // the peers after this use no database
      rmSync(pgDir, { recursive: true, force: true });
    }
  }

  // 3. Cerbos PDP, the equivalent policy, CheckResources over HTTP; its configuration is bench/check/cerbos/config.yaml.
  const cerbosPort = await freePort();
  const grpcPort = await freePort();
  const config = join(import.meta.dirname, 'cerbos/config.yaml');
  const cerbosEnv = {
    CERBOS_HTTP_ADDR: `127.0.0.1:${cerbosPort}`,
    CERBOS_GRPC_ADDR: `127.0.0.1:${grpcPort}`,
    CERBOS_POLICY_DIR: join(import.meta.dirname, 'cerbos/policies'),
  };
  if (!NO_PEERS || ONLY_CERBOS) {
    const asRequests = (bodies: unknown[]) =>
      bodies.map((body) => ({ method: 'POST', path: '/api/check/resources', body: JSON.stringify(body) }));
    const bodies = mix.map((m) => m.cerbos as { resources: unknown[] });
    // As compared: one core (GOMAXPROCS=1, pinned to core 0 like Jaga), the dataset and its fields in one request.
    const variants: {
      name: string;
      env: Record<string, string>;
      pinned: boolean;
      bodies: unknown[];
      grpc?: boolean;
    }[] = [
      { name: 'cerbos', env: { GOMAXPROCS: '1' }, pinned: true, bodies },
      // Its gRPC API, which Cerbos's documentation and SDKs recommend for throughput, through its Node SDK.
      { name: 'cerbos gRPC', env: { GOMAXPROCS: '1' }, pinned: true, bodies, grpc: true },
    ];
    if (ONLY_CERBOS) {
      variants.push(
        // The dataset resource only: what a check without field lists costs it.
        {
          name: 'cerbos 1 resource/req',
          env: { GOMAXPROCS: '1' },
          pinned: true,
          bodies: bodies.map((b) => ({ ...b, resources: b.resources.slice(0, 1) })),
        },
        // As Cerbos runs by default: every core, not pinned (it then shares core 1 with the load generator).
        { name: 'cerbos unpinned GOMAXPROCS=2', env: { GOMAXPROCS: '2' }, pinned: false, bodies },
      );
    }
    for (const variant of variants) {
      const cerbos = await start(
        variant.name,
        CERBOS,
        ['server', `--config=${config}`, '--log-level=error'],
        { ...cerbosEnv, ...variant.env },
        `http://127.0.0.1:${cerbosPort}/_cerbos/health`,
        variant.pinned,
      );
      const target: Target = variant.grpc
        ? { port: grpcPort, grpcBodies: variant.bodies }
        : { port: cerbosPort, requests: asRequests(variant.bodies) };
      run(variant.name, target, [], cerbos.pid);
      await stop(cerbos);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-');
console.log(
  `\n/v1/check bench — server on core 0, load on core 1, ${SECONDS}s measured per phase, ${mix.length} distinct requests`,
);
console.log(
  `machine load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadavg()[0]!.toFixed(2)} — above ~2 on 2 cores, other processes share the pinned cores and the figures are not comparable across runs`,
);
console.log(
  [
    'target'.padEnd(26),
    'mode'.padEnd(22),
    'req/s'.padStart(9),
    'checks/s'.padStart(9),
    'p50 ms'.padStart(8),
    'p99 ms'.padStart(8),
    'p99.9 ms'.padStart(9),
    'non-2xx'.padStart(8),
    'errors'.padStart(7),
    'CPU µs/req server+db'.padStart(21),
  ].join(' '),
);
for (const { name, mode, r, cpu, perCall } of rows) {
  const cpuCol = cpu ? `${f(cpu.server, 0)} + ${f(cpu.db, 0)}` : '';
  console.log(
    [
      name.padEnd(26),
      mode.padEnd(22),
      f(r.rps, 0).padStart(9),
      f(r.rps * (perCall ?? 1), 0).padStart(9),
      f(r.p50).padStart(8),
      f(r.p99).padStart(8),
      f(r.p999).padStart(9),
      String(r.non2xx).padStart(8),
      String(r.errors).padStart(7),
      cpuCol.padStart(21),
    ].join(' '),
  );
}
const sat = (name: string) => rows.find((x) => x.name === name && x.mode.startsWith('saturation'))?.r;
const cpuOf = (name: string) => rows.filter((x) => x.name === name && x.cpu).map((x) => x.cpu!.server + x.cpu!.db);
function pairs(a: string, b: string, what: string) {
  const x = cpuOf(a);
  const y = cpuOf(b);
  if (!x.length || x.length !== y.length) return;
  for (let i = 0; i < x.length; i++)
    console.log(
      `CPU per request at ${RATE}/s, round ${i + 1} (server + database): ${a} ${f(x[i]!, 0)} µs, ${b} ${f(y[i]!, 0)} µs; ${what} ${f(y[i]! - x[i]!, 0)} µs`,
    );
  console.log(`  median: ${a} ${f(median(x), 0)} µs, ${b} ${f(median(y), 0)} µs`);
}
pairs('jaga, audit off by attrs', 'jaga by attrs', 'logging costs');
pairs('jaga by id', 'jaga, no snapshot by id', 'the catalog read per check costs');
const j = sat('jaga by attrs') ?? sat('jaga by id');
const c = sat('cerbos');
const cg = sat('cerbos gRPC');
const h = sat('hono hello');
const off = sat('jaga, audit off by attrs');
const id = sat('jaga by id');
const floor = sat('floor');
const floorBare = sat('floor, primary key only');
const batch = rows.find((x) => x.name === `jaga batch ${BATCH}` && x.mode.startsWith('saturation'))?.r;
const parts = [
  j && c ? `jaga by attrs / cerbos = ${f(j.rps / c.rps)}x` : null,
  id && c ? `jaga by id / cerbos = ${f(id.rps / c.rps)}x` : null,
  id && cg ? `jaga by id / cerbos gRPC = ${f(id.rps / cg.rps)}x` : null,
  j && h ? `jaga by attrs / hono ceiling = ${f((100 * j.rps) / h.rps, 1)}%` : null,
  id && h ? `jaga by id / hono ceiling = ${f((100 * id.rps) / h.rps, 1)}%` : null,
  j && off ? `with logging / without = ${f((100 * j.rps) / off.rps, 1)}%` : null,
  batch ? `batch of ${BATCH}: ${f(batch.rps * BATCH, 0)} logged decisions/s` : null,
  id && floor ? `jaga by id / floor = ${f((100 * id.rps) / floor.rps, 1)}%` : null,
  floor && c ? `floor / cerbos = ${f(floor.rps / c.rps)}x` : null,
  floorBare && c ? `floor, primary key only / cerbos = ${f(floorBare.rps / c.rps)}x` : null,
].filter(Boolean);
console.log(
  `\nat saturation: ${parts.join('; ')}; database: ${databaseUrl ? 'PostgreSQL 15' : 'PGlite (no checks by id: the catalog is seeded through PostgreSQL)'}`,
);
await printPerf(perfPhases);
