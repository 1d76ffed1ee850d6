// `npm run bench:audit`: figures, not a test. Starts a throwaway PostgreSQL 15 (synchronous_commit
// on, fsync on), then measures:
//   1. durable decisions/s through the group-commit writer (appendDurable) at 1, 16, 64, 256 producers;
//   2. the ceilings of a raw 500-row multi-row INSERT and of COPY of identical rows, same process;
//   3. chain verification (what `npm run audit:verify` runs) over 1,000,000 entries.
// BENCH_SECONDS (default 5) per producer level; BENCH_VERIFY_ENTRIES (default 1000000).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { toEntryRow, type ChainedRow } from '../../src/audit/audit.entry.ts';
import { GENESIS_HASH } from '../../src/audit/audit.hash.ts';
import { ensurePartitions } from '../../src/audit/audit.partitions.ts';
import type { AuditEntryInput } from '../../src/audit/audit.port.ts';
import { toDb } from '../../src/audit/audit.repo.ts';
import { rollupLag, startRollupJob } from '../../src/audit/audit.rollup.ts';
import { verifyChain } from '../../src/audit/audit.verify.ts';
import { GroupCommitLog } from '../../src/audit/audit.writer.ts';
import { migrate } from '../../src/db/migrate.ts';
import { readMigrationFiles } from '../../src/db/migration-files.ts';
import { connectNodePostgres } from '../../src/db/open.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const VERIFY_ENTRIES = Number(process.env.BENCH_VERIFY_ENTRIES ?? 1_000_000);
const KEY = 'bench-audit-hmac-key-bench-audit-hmac-key';
const fmt = new Intl.NumberFormat('en');
const out = (s: string) => process.stdout.write(s + '\n');

const sample: AuditEntryInput = {
  event: 'disclosure',
  principal: { sub: 'user-0001', kind: 'user', roles: ['staff'], unit: '32.01' },
  action: 'read',
  resource: { type: 'Dataset', id: 'voters-2024', classification: 'restricted', labelVersion: 3, unit: '32' },
  effect: 'allow',
  ruleId: 'staff.read.restricted',
  reason: 'staff may read restricted data of their unit',
  policyVersion: 'sha256:0123456789abcdef',
  fields: { whole: ['kecamatan', 'tps'], masked: ['nik'], omitted: ['alamat'] },
  purpose: 'supervision',
  rowCount: 100,
  requestId: 'bench-request',
  traceId: null,
};

const script = join(import.meta.dirname, '../../scripts/pg-throwaway.sh');
const dir = mkdtempSync(join(tmpdir(), 'jaga-bench-'));
const adminUrl = execFileSync('bash', [script, 'start', dir], { encoding: 'utf8' }).trim();
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });

async function freshDb(name: string) {
  await admin.unsafe(`create database ${name}`);
  const db = connectNodePostgres(adminUrl.replace(/\/[^/]*$/, `/${name}`), { max: 4 });
  await migrate(db.sql, readMigrationFiles());
  await ensurePartitions(db.sql, new Date());
  return db;
}

try {
  const [settings] = await admin<{ sc: string; fsync: string; v: string }[]>`
    select current_setting('synchronous_commit') as sc, current_setting('fsync') as fsync, current_setting('server_version') as v`;
  out(
    `PostgreSQL ${settings!.v}, synchronous_commit=${settings!.sc}, fsync=${settings!.fsync}; ${SECONDS}s per level; Node ${process.version}`,
  );

  // 1. Group commit: each producer awaits its decision's commit before making the next.
  const db = await freshDb('bench_writer');
  out(
    '\ndurable decisions/s via group commit (appendDurable, AUDIT_FLUSH_MAX=500, HMAC chain, pipelined as wired for PostgreSQL):',
  );
  // The reports' rollups follow the log as in production (the catch-up job at its default interval), so
  // their cost is in the figures.
  const rollups = startRollupJob(db.sql, { intervalMs: 1000 });
  for (const producers of [1, 16, 64, 256]) {
    const log = new GroupCommitLog(db.sql, { hmacKey: KEY, queueMax: 10_000, flushMax: 500, pipeline: db.single() });
    let batches = 0;
    log.onFlushed(() => (batches += 1));
    let done = 0;
    const until = performance.now() + SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: producers }, async () => {
        while (performance.now() < until) {
          await log.appendDurable(sample);
          done += 1;
        }
      }),
    );
    const secs = (performance.now() - started) / 1000;
    await log.close(10_000);
    out(
      `  ${String(producers).padStart(3)} producers: ${fmt.format(Math.round(done / secs)).padStart(7)} decisions/s  (mean batch ${(done / Math.max(batches, 1)).toFixed(1)})`,
    );
  }
  const lag = await rollupLag(db.sql);
  await rollups.stop();
  const t1 = performance.now();
  await rollups.now();
  out(
    `  rollups: ${fmt.format(lag)} entries behind at the end, caught up in ${(performance.now() - t1).toFixed(0)} ms`,
  );
  const check = await verifyChain(db.sql, { hmacKey: KEY });
  out(`  chain after the runs: ok=${check.ok}, ${fmt.format(check.checked)} entries`);
  await db.close();

  // 2. Ceilings: identical pre-hashed rows, no chain lock, same table shape (partitions and indexes).
  const raw = await freshDb('bench_raw');
  const row = toDb({
    ...toEntryRow(sample),
    seq: 0,
    at: new Date(),
    prevHash: GENESIS_HASH,
    hash: GENESIS_HASH,
  } as ChainedRow);
  const N = 200_000;
  let seq = 0;
  const batch = () => Array.from({ length: 500 }, () => ({ ...row, seq: ++seq, id: crypto.randomUUID() }));
  let t0 = performance.now();
  for (let i = 0; i < N / 500; i++) await raw.sql`insert into audit_entry ${raw.sql(batch())}`;
  out(
    `\nceiling, raw 500-row INSERT (one at a time): ${fmt.format(Math.round(N / ((performance.now() - t0) / 1000)))} rows/s`,
  );

  const cols = Object.keys(row);
  const text = (v: unknown): string => {
    if (v === null || v === undefined) return '\\N';
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v)) return '{' + v.map((x) => `"${String(x)}"`).join(',') + '}';
    if (typeof v === 'object') return JSON.stringify(v).replaceAll('\\', '\\\\');
    return String(v).replaceAll('\\', '\\\\').replaceAll('\t', '\\t').replaceAll('\n', '\\n');
  };
  t0 = performance.now();
  const writable = await raw.sql`copy audit_entry (${raw.sql(cols)}) from stdin`.writable();
  await new Promise<void>((resolve, reject) => {
    writable.on('error', reject);
    writable.on('finish', resolve);
    let i = 0;
    const pump = () => {
      while (i < N) {
        const r = { ...row, seq: ++seq, id: crypto.randomUUID() } as Record<string, unknown>;
        i += 1;
        if (!writable.write(cols.map((c) => text(r[c])).join('\t') + '\n')) return void writable.once('drain', pump);
      }
      writable.end();
    };
    pump();
  });
  out(
    `ceiling, COPY (one statement):                ${fmt.format(Math.round(N / ((performance.now() - t0) / 1000)))} rows/s`,
  );
  await raw.close();

  // 3. Verification over VERIFY_ENTRIES entries written through the writer.
  const vdb = await freshDb('bench_verify');
  const log = new GroupCommitLog(vdb.sql, { hmacKey: KEY, queueMax: 20_000, flushMax: 2000, pipeline: vdb.single() });
  t0 = performance.now();
  let queued = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (queued < VERIFY_ENTRIES) {
        queued += 1;
        await log.append(sample);
      }
    }),
  );
  await log.close(600_000);
  out(
    `\nwrote ${fmt.format(queued)} chained entries in ${((performance.now() - t0) / 1000).toFixed(1)} s (queued appends, flush 2000)`,
  );
  t0 = performance.now();
  const v = await verifyChain(vdb.sql, { hmacKey: KEY });
  const secs = (performance.now() - t0) / 1000;
  out(
    `audit:verify: ok=${v.ok}, ${fmt.format(v.checked)} entries in ${secs.toFixed(1)} s = ${fmt.format(Math.round(v.checked / secs))} entries/s`,
  );
  await vdb.close();
} finally {
  await admin.end();
  execFileSync('bash', [script, 'stop', dir]);
  rmSync(dir, { recursive: true, force: true });
}
