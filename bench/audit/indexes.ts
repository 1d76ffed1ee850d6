// `node bench/audit/indexes.ts`: figures, not a test. What each index of audit_entry and the batch
// size cost PostgreSQL per entry. Throwaway PostgreSQL 15 (synchronous_commit on, fsync on); for
// each variant a fresh database, then batches appended as the writer's careful path does (chain
// lock, head, guarded unnest INSERT, commit), and the cluster's CPU time (/proc) per entry.
// BENCH_ENTRIES (default 20000) per variant and batch size.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { appendChained } from '../../src/audit/audit.append.ts';
import { toEntryRow } from '../../src/audit/audit.entry.ts';
import { ensurePartitions } from '../../src/audit/audit.partitions.ts';
import { migrate } from '../../src/db/migrate.ts';
import { readMigrationFiles } from '../../src/db/migration-files.ts';
import { connectNodePostgres } from '../../src/db/open.ts';
import { catchUpRollups } from '../../src/audit/audit.rollup.ts';
import { clusterCpuUs } from '../lib/proc-cpu.ts';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 20_000);
const KEY = 'bench-audit-hmac-key-bench-audit-hmac-key';
const INDEXES = [
  'audit_entry_principal',
  'audit_entry_dataset',
  'audit_entry_request',
  'audit_entry_at',
  // Migration 0011 (national scale): unit scope, and the rare filters' partial indexes.
  'audit_entry_principal_unit',
  'audit_entry_resource_unit',
  'audit_entry_event_rare',
  'audit_entry_denied',
  'audit_entry_purpose',
  'audit_entry_exempt',
];
const variants: [string, string[]][] = [
  ['every index (as migrated)', []],
  ...INDEXES.map((i): [string, string[]] => [`without ${i}`, [i]]),
  ['no secondary index (primary key only)', INDEXES],
];

const entry = (i: number) =>
  toEntryRow({
    event: 'decision',
    principal: { sub: `user-${i % 50}`, kind: 'user', roles: ['staff'], unit: '32.01' },
    action: 'read',
    resource: { type: 'Dataset', id: `ds-${i % 512}`, classification: 'restricted', labelVersion: 1 },
    effect: i % 3 ? 'allow' : 'deny',
    ruleId: 'staff.read.restricted',
    reason: 'staff may read restricted data of their unit',
    policyVersion: 'sha256:0123456789abcdef',
    fields: { whole: ['kecamatan', 'tps'], masked: ['nik'], omitted: [] },
    purpose: 'pengawasan',
    requestId: crypto.randomUUID(),
    traceId: null,
  });

const script = join(import.meta.dirname, '../../scripts/pg-throwaway.sh');
const dir = mkdtempSync(join(tmpdir(), 'jaga-bench-'));
const adminUrl = execFileSync('bash', [script, 'start', dir], { encoding: 'utf8' }).trim();
const postmaster = Number(readFileSync(join(dir, 'data/postmaster.pid'), 'utf8').split('\n')[0]);
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
try {
  console.log(
    `PostgreSQL CPU per audit entry (µs), ${ENTRIES} entries per cell, load average ${(await import('node:os')).loadavg()[0]!.toFixed(2)}`,
  );
  console.log(
    ['variant'.padEnd(42), 'batch 10'.padStart(9), 'batch 100'.padStart(10), 'catch-up job'.padStart(13)].join(' '),
  );
  let n = 0;
  for (const [name, drop] of variants) {
    const cells: string[] = [];
    let fold = '';
    for (const size of [10, 100]) {
      const db_ = `bench_idx_${n++}`;
      await admin.unsafe(`create database ${db_}`);
      const db = connectNodePostgres(adminUrl.replace(/\/[^/]*$/, `/${db_}`), { max: 1 });
      await migrate(db.sql, readMigrationFiles());
      await ensurePartitions(db.sql, new Date());
      for (const i of drop) await db.sql.unsafe(`drop index ${i}`);
      // Warm-up: plans, caches.
      for (let b = 0; b < 20; b++)
        await db.sql.begin((tx) =>
          appendChained(
            tx,
            Array.from({ length: size }, (_, k) => entry(b * size + k)),
            KEY,
          ),
        );
      const before = clusterCpuUs(postmaster);
      for (let b = 0; b < ENTRIES / size; b++)
        await db.sql.begin((tx) =>
          appendChained(
            tx,
            Array.from({ length: size }, (_, k) => entry(b * size + k)),
            KEY,
          ),
        );
      cells.push(((clusterCpuUs(postmaster) - before) / ENTRIES).toFixed(1));
      // The reports' rollups and minute map, folded afterwards by the catch-up job (migration 0012;
      // in production every AUDIT_ROLLUP_INTERVAL_MS): its CPU per entry, warm-up entries included.
      if (size === 100) {
        const start = clusterCpuUs(postmaster);
        await catchUpRollups(db.sql, { budgetMs: Infinity });
        fold = ((clusterCpuUs(postmaster) - start) / (ENTRIES + 20 * size)).toFixed(1);
      }
      await db.close();
    }
    console.log([name.padEnd(42), cells[0]!.padStart(9), cells[1]!.padStart(10), fold.padStart(13)].join(' '));
  }
} finally {
  await admin.end();
  execFileSync('bash', [script, 'stop', dir]);
  rmSync(dir, { recursive: true, force: true });
}
