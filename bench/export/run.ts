import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import postgres from 'postgres';
import { boot } from '../../src/boot.ts';
import { loadConfig } from '../../src/config/config.ts';
import { connectNodePostgres } from '../../src/db/open.ts';
import type { Principal } from '../../src/identity/principal.ts';
import { createLogger } from '../../src/system/logger.ts';
import { csvLine } from '../../src/shared/csv.ts';
import { bundle } from '../../scripts/build.ts';
import { median, scriptFlags, vm } from '../lib/bench-kit.ts';
import { cpuUs, postgresPids } from '../lib/proc-cpu.ts';
import { DATASET_ID, FIELDS, report } from './data.ts';

/**
 * npm run bench:export — on a throwaway PostgreSQL 15 (scripts/pg-throwaway.sh):
 *  1. CSV import of BENCH_ROWS (default 1 000 000) violation reports through `npm run import`;
 *  2. the enforced read with masking over HTTP, as CSV and as NDJSON (each on a fresh server
 *     process, bundled as `npm start` bundles Jaga, whose peak RSS is read from /proc/<pid>/status VmHWM);
 *  3. PostgreSQL's own COPY (SELECT …) TO STDOUT of the same rows as the ceiling, run just before
 *     each export: the machine's speed drifts within minutes, so a share is taken from one pair.
 * BENCH_ROUNDS (default 3) pairs per format; the summary gives the median share and the highest RSS.
 */
const ROOT = join(import.meta.dirname, '../..');
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'jaga-bench-export-'));
const say = (s: string) => process.stdout.write(s + '\n');

// CPU time for the server, every `postgres` process and this process (the HTTP or COPY client):
// where a row's time goes, whatever else shares the two cores.
interface Cpu {
  server: number;
  db: number;
  client: number;
}
function cpuMeter(serverPid?: number): () => Cpu {
  const s0 = serverPid ? cpuUs([serverPid]) : 0;
  const d0 = cpuUs(postgresPids());
  const c0 = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(c0);
    return {
      server: serverPid ? cpuUs([serverPid]) - s0 : 0,
      db: cpuUs(postgresPids()) - d0,
      client: c.user + c.system,
    };
  };
}
const perRow = (cpu: Cpu, rows: number) =>
  `CPU µs/row: server ${(cpu.server / rows).toFixed(1)}, postgres ${(cpu.db / rows).toFixed(1)}, client ${(cpu.client / rows).toFixed(1)}`;

/** Polls a child's peak RSS until it exits (VmHWM is gone once it has). */
function watchPeak(child: ChildProcess): () => number {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, vm(child.pid!, 'VmHWM'))), 100);
  child.once('exit', () => clearInterval(timer));
  return () => Math.max(peak, vm(child.pid!, 'VmHWM'));
}

const url = execFileSync('bash', [join(ROOT, 'scripts/pg-throwaway.sh'), 'start', dir], { encoding: 'utf8' }).trim();
try {
  say(`PostgreSQL: ${url}  rows: ${ROWS.toLocaleString('en')}  node ${process.version}`);

  // Schema and the dataset (restricted, owned by West Java).
  {
    const db = connectNodePostgres(url, { max: 2 });
    const app = await boot({
      config: loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: url }),
      db,
      logger: createLogger('error'),
    });
    const steward: Principal = { sub: 'bench-steward', kind: 'user', roles: ['steward'], unit: '32', purposes: [] };
    await app.deps.services.catalog.createDataset(
      steward,
      {
        id: DATASET_ID,
        title: 'Laporan pelanggaran Pemilu 2024 (bench)',
        ownerUnit: '32',
        sourceSystem: 'SIGAPLAPOR',
        fields: FIELDS.map((f) => ({ ...f })),
      } as never,
      {},
    );
    await app.deps.services.catalog.labelDataset(
      steward,
      DATASET_ID,
      { classification: 'restricted' } as never,
      undefined,
      {},
    );
    await app.close();
  }

  // 1. CSV file and import.
  const file = join(dir, 'reports.csv');
  {
    const out = createWriteStream(file);
    const names = [...FIELDS.map((f) => f.name), '_unit'];
    out.write(csvLine(names));
    let buf = '';
    for (let i = 0; i < ROWS; i++) {
      const r = report(i);
      buf += csvLine(names.map((n) => r[n] ?? null));
      if (buf.length > 1 << 20) {
        if (!out.write(buf)) await once(out, 'drain');
        buf = '';
      }
    }
    out.end(buf);
    await once(out, 'finish');
  }
  const fileMb = statSync(file).size / 1048576;
  const importer = spawn(
    process.execPath,
    [...scriptFlags('import'), join(ROOT, 'src/cli/import.ts'), '--dataset', DATASET_ID, file],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const importPeak = watchPeak(importer);
  let importOut = '';
  importer.stdout!.on('data', (d: Buffer) => (importOut += d.toString()));
  const t0 = performance.now();
  const [code] = (await once(importer, 'exit')) as [number];
  const importS = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`import failed: ${importOut}`);
  say(
    `import (npm run import, CSV ${fileMb.toFixed(0)} MB): ${ROWS.toLocaleString('en')} rows in ${importS.toFixed(1)} s = ${Math.round(ROWS / importS).toLocaleString('en')} rows/s (process incl. boot), peak RSS ${importPeak().toFixed(0)} MB`,
  );
  say(`  ${importOut.trim()}`);

  const sql = postgres(url, { max: 1, onnotice: () => {} });
  await sql`vacuum analyze records`;

  // 2. COPY ceiling (warm once, then measure).
  const cols = FIELDS.map((f) => `data->>'${f.name}'`).join(', ');
  async function copy(what: 'csv' | 'jsonb'): Promise<{ rows: number; s: number; mb: number; cpu: Cpu }> {
    const q =
      what === 'csv'
        ? `copy (select ${cols} from records where dataset_id = '${DATASET_ID}' order by seq) to stdout with (format csv)`
        : `copy (select data from records where dataset_id = '${DATASET_ID}' order by seq) to stdout`;
    const t = performance.now();
    const cpu = cpuMeter();
    let bytes = 0;
    let rows = 0;
    const stream = await sql.unsafe(q).readable();
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) rows++;
    }
    return { rows, s: (performance.now() - t) / 1000, mb: bytes / 1048576, cpu: cpu() };
  }
  await copy('csv'); // warm

  // 3. Enforced reads over HTTP, each on a fresh server process, bundled like npm start's (scripts/build.ts).
  const SERVER = 'dist/bench/export-server.mjs';
  await bundle('bench/export/server.ts', SERVER);
  async function jagaExport(
    accept: string,
    nodeFlags: string[] = [],
    env: Record<string, string> = {},
  ): Promise<{ rows: number; s: number; mb: number; peak: number; base: number; masked: string; cpu: Cpu }> {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const extra = process.env.BENCH_SERVER_FLAGS?.split(' ').filter(Boolean) ?? []; // e.g. --cpu-prof
    const server = spawn(process.execPath, [...extra, ...nodeFlags, join(ROOT, SERVER), url, String(port)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const peak = watchPeak(server);
    await new Promise<void>((resolve, reject) => {
      server.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      server.once('exit', () => reject(new Error('server exited')));
    });
    const base = vm(server.pid!, 'VmRSS');
    const t = performance.now();
    const cpu = cpuMeter(server.pid!);
    const res = await fetch(`http://127.0.0.1:${port}/v1/datasets/${DATASET_ID}/records`, {
      headers: { accept, 'x-purpose': 'penanganan-pelanggaran' },
    });
    if (res.status !== 200) throw new Error(`export ${accept}: ${res.status} ${await res.text()}`);
    let bytes = 0;
    let rows = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) rows++;
    }
    const s = (performance.now() - t) / 1000;
    const result = {
      rows: accept === 'text/csv' ? rows - 1 : rows,
      s,
      mb: bytes / 1048576,
      peak: peak(),
      base,
      masked: res.headers.get('x-jaga-fields-masked') ?? '',
      cpu: cpu(),
    };
    server.kill('SIGTERM');
    await once(server, 'exit');
    return result;
  }
  type Export = Awaited<ReturnType<typeof jagaExport>>;
  type Copy = Awaited<ReturnType<typeof copy>>;
  // One pair: COPY of the format's ceiling, then Jaga's export of the same rows.
  const pair = async (format: 'csv' | 'ndjson', flags: string[], env: Record<string, string> = {}) => {
    const ceiling = await copy(format === 'csv' ? 'csv' : 'jsonb');
    return { ceiling, jaga: await jagaExport(format === 'csv' ? 'text/csv' : 'application/x-ndjson', flags, env) };
  };
  const rate = (r: { rows: number; s: number }) => Math.round(r.rows / r.s);
  const share = (p: { ceiling: Copy; jaga: Export }) => (100 * rate(p.jaga)) / rate(p.ceiling);
  const line = (name: string, r: { rows: number; s: number; mb: number }, extra = '') =>
    say(
      `${name.padEnd(44)} ${String(r.rows).padStart(9)} rows ${r.s.toFixed(2).padStart(7)} s ${rate(r).toLocaleString('en').padStart(10)} rows/s ${r.mb.toFixed(0).padStart(5)} MB${extra}`,
    );
  const show = (label: string, p: { ceiling: Copy; jaga: Export }) => {
    const c = label.startsWith('CSV') ? 'COPY (select columns) CSV' : 'COPY (select data) jsonb text';
    line(`  ${c}`, p.ceiling, `  ${perRow(p.ceiling.cpu, p.ceiling.rows)}`);
    line(`  Jaga ${label} (HTTP)`, p.jaga, `  ${perRow(p.jaga.cpu, p.jaga.rows)}`);
    say(
      `${''.padEnd(46)}peak RSS ${p.jaga.peak.toFixed(0)} MB (idle ${p.jaga.base.toFixed(0)} MB)  ${share(p).toFixed(0)}% of COPY`,
    );
  };

  // The server runs with the node flags of `npm start` (package.json), as deployed.
  const startFlags = scriptFlags('start');
  say(`server node flags (npm start): ${startFlags.join(' ') || 'none'}; ${ROUNDS} rounds`);
  const pairs: { csv: Awaited<ReturnType<typeof pair>>; nd: Awaited<ReturnType<typeof pair>> }[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const round = { csv: await pair('csv', startFlags), nd: await pair('ndjson', startFlags) };
    pairs.push(round);
    say(`\nround ${r} (CPU per row: the two cores are shared by server, PostgreSQL and client)`);
    if (r === 1) say(`  masked fields: ${round.csv.jaga.masked}`);
    show('CSV, masked', round.csv);
    show('NDJSON, masked', round.nd);
  }
  const summary = (name: string, ps: { ceiling: Copy; jaga: Export }[]) =>
    say(
      `${name}: ${ps.map((p) => share(p).toFixed(0) + '%').join(' ')} of COPY, median ${median(ps.map(share)).toFixed(0)}%; ` +
        `median ${median(ps.map((p) => rate(p.jaga))).toLocaleString('en')} rows/s; highest peak RSS ${Math.max(...ps.map((p) => p.jaga.peak)).toFixed(0)} MB`,
    );
  say('');
  summary(
    'Jaga CSV   ',
    pairs.map((p) => p.csv),
  );
  summary(
    'Jaga NDJSON',
    pairs.map((p) => p.nd),
  );

  // Variants (BENCH_VARIANTS, `;`-separated): node flags and RECORDS_* settings of the server instead
  // of npm start's, e.g. "--max-semi-space-size=4;RECORDS_STREAM_PAGE=500"; "defaults" is V8's own
  // heap sizing (no flags), the default variant. One round each.
  const variants = (process.env.BENCH_VARIANTS ?? 'defaults').split(';').filter((v) => v.trim());
  const counts = pairs.flatMap((p) => [p.csv.jaga.rows, p.nd.jaga.rows]);
  for (const v of variants) {
    const words = v.trim() === 'defaults' ? [] : v.trim().split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    const env = Object.fromEntries(
      words.filter((w) => !w.startsWith('--')).map((w) => w.split('=') as [string, string]),
    );
    say(`\nvariant: ${v.trim()}`);
    for (const format of ['csv', 'ndjson'] as const) {
      const p = await pair(format, flags, env);
      show(format === 'csv' ? 'CSV, masked' : 'NDJSON, masked', p);
      counts.push(p.jaga.rows);
    }
  }
  await sql.end();
  if (counts.some((n) => n !== ROWS)) throw new Error(`row counts differ: ${counts.join(', ')}, expected ${ROWS}`);
} finally {
  execFileSync('bash', [join(ROOT, 'scripts/pg-throwaway.sh'), 'stop', dir]);
  rmSync(dir, { recursive: true, force: true });
}
