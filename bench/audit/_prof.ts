import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePartitions } from '../../src/audit/audit.partitions.ts';
import { GroupCommitLog } from '../../src/audit/audit.writer.ts';
import { migrate } from '../../src/db/migrate.ts';
import { readMigrationFiles } from '../../src/db/migration-files.ts';
import { connectNodePostgres } from '../../src/db/open.ts';
const sample = {
  event: 'disclosure' as const, principal: { sub: 'user-0001', kind: 'user', roles: ['staff'], unit: '32.01' }, action: 'read',
  resource: { type: 'Dataset', id: 'voters-2024', classification: 'restricted', labelVersion: 3, unit: '32' },
  effect: 'allow' as const, ruleId: 'staff.read.restricted', reason: 'staff may read restricted data of their unit', policyVersion: 'sha256:0123456789abcdef', fields: { whole: ['kecamatan', 'tps'], masked: ['nik'], omitted: ['alamat'] }, purpose: 'supervision', rowCount: 100, requestId: 'bench-request', traceId: null,
};
const dir = mkdtempSync(join(tmpdir(), 'jaga-exp-'));
const url = execFileSync('bash', ['scripts/pg-throwaway.sh', 'start', dir], { encoding: 'utf8' }).trim();
const db = connectNodePostgres(url, { max: 4 });
await migrate(db.sql, readMigrationFiles());
await ensurePartitions(db.sql, new Date());
const P = Number(process.env.P ?? 256);
const log = new GroupCommitLog(db.sql, { hmacKey: 'k'.repeat(40), queueMax: 10_000, flushMax: 500, pipeline: !process.env.NOPIPE });
let done = 0; const until = performance.now() + 5000; const t0 = performance.now();
const c0 = process.cpuUsage();
await Promise.all(Array.from({ length: P }, async () => { while (performance.now() < until) { await log.appendDurable(sample); done++; } }));
const ms = performance.now() - t0; const c = process.cpuUsage(c0);
console.log(P, 'producers', Math.round(done / ms * 1000), '/s; client cpu', Math.round((c.user + c.system) / 10 / ms), '%');
await log.close(5000); await db.close();
execFileSync('bash', ['scripts/pg-throwaway.sh', 'stop', dir]);
