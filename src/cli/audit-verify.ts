import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UNKEYED_WARNING } from '../audit/audit.hash.ts';
import { verifyChain, type CheckpointInput, type VerifyOptions, type VerifyResult } from '../audit/audit.verify.ts';
import { verifyArchive } from '../audit/audit.archive.ts';
import { recordVerified } from '../audit/audit.repo.ts';
import { configFromProcess } from '../config/from-process.ts';
import { connectTimeoutS, openDatabase } from '../db/open.ts';
import { verifyInWorkers } from '../audit/audit.verify-workers.ts';
import { runningServer } from '../operator/operator.client.ts';

// `npm run audit:verify -- --archive DIR/audit_entry_yYYYYmMM.ndjson`: verifies a partition retention
// exported (AUDIT_ARCHIVE_DIR) from the file and its checkpoint alone, with AUDIT_HMAC_KEY.
// `npm run audit:verify [-- --checkpoint cp.json [--from-checkpoint]] [--parallel N]`: walks the audit chain of
// DATABASE_URL (or the embedded database). Exit 0 intact, 1 broken or checkpoint mismatch, 2 error.
// While `npm start` holds the embedded database, the running server walks it (with its own
// AUDIT_HMAC_KEY) and this prints what it found: PGlite serves one process at a time.
const { values } = parseArgs({
  options: {
    checkpoint: { type: 'string' },
    archive: { type: 'string' },
    'from-checkpoint': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    parallel: { type: 'string' },
  },
});
const config = configFromProcess();
// `--parallel N` overrides AUDIT_VERIFY_PARALLELISM for this walk (segments of the chain walked at
// once; with PostgreSQL each in a worker thread of its own).
const parallelism = values.parallel === undefined ? config.audit.verifyParallelism : Number(values.parallel);
if (!Number.isInteger(parallelism) || parallelism < 1) {
  process.stderr.write('jaga audit:verify: --parallel expects a positive whole number\n');
  process.exit(2);
}
const tty = process.stderr.isTTY && !values.quiet;
let started = performance.now();
const fmt = new Intl.NumberFormat('en');

function bar(checked: number, total: number): void {
  const secs = (performance.now() - started) / 1000;
  const rate = secs > 0 ? Math.round(checked / secs) : 0;
  const width = 30;
  const filled = total > 0 ? Math.min(width, Math.round((checked / total) * width)) : 0;
  process.stderr.write(
    `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${fmt.format(checked)}/${fmt.format(total)} entries  ${fmt.format(rate)} entries/s `,
  );
}

/** Walks the chain here (no server holds the folder, or the database is PostgreSQL). */
async function verifyHere(o: VerifyOptions): Promise<VerifyResult> {
  const db = await openDatabase(config, 'npm run audit:verify');
  try {
    started = performance.now(); // the walk's rate, not the database's opening
    // PostgreSQL: segments walked at once run in worker threads, each on a connection of its own.
    const workers = db.url ? verifyInWorkers({ url: db.url, connectTimeoutS: connectTimeoutS(config) }) : undefined;
    const { lastHash, ...result } = await verifyChain(db.sql, {
      ...o,
      hmacKey: config.audit.hmacKey,
      parallelism,
      ...(workers ? { workers } : {}),
    });
    // A whole walk that found the chain intact is where the server's incremental walks start.
    if (result.ok && !o.fromCheckpoint)
      await recordVerified(db.sql, { seq: result.lastSeq, hash: lastHash, fullWalk: true });
    return result;
  } finally {
    await db.close();
  }
}

async function verifyArchiveFile(file: string): Promise<void> {
  const r = await verifyArchive(file, config.audit.hmacKey);
  const keying = config.audit.hmacKey ? '' : `; UNKEYED: ${UNKEYED_WARNING}`;
  if (r.ok) {
    process.stdout.write(
      `audit archive ok: ${r.checked} entries of ${r.checkpoint.partition} verified (seq ${r.checkpoint.firstSeq}-${r.checkpoint.lastSeq}, last hash ${r.checkpoint.lastHash})${keying}\n`,
    );
    return;
  }
  const bad = r.firstBad;
  process.stdout.write(
    `audit archive BROKEN${bad ? ` at entry ${bad.seq}: ${bad.problem}: ${bad.detail}` : ''}${r.digestOk ? '' : '; the file does not match its checkpoint digest'}${keying}\n`,
  );
  process.exitCode = 1;
}

try {
  if (values.archive) {
    await verifyArchiveFile(values.archive);
    process.exit();
  }
  let checkpoint: CheckpointInput | undefined;
  if (values.checkpoint) checkpoint = JSON.parse(readFileSync(values.checkpoint, 'utf8')) as CheckpointInput;
  const options = {
    ...(checkpoint ? { checkpoint } : {}),
    fromCheckpoint: values['from-checkpoint'],
    ...(tty ? { onProgress: bar } : {}),
  };
  const server = await runningServer(config);
  const result = server ? await server.verify(options) : await verifyHere(options);
  if (tty) process.stderr.write('\n');
  if (server) process.stderr.write(`(walked by the running Jaga server, pid ${server.holder.pid})\n`);
  const secs = (performance.now() - started) / 1000;
  const rate = Math.round(result.checked / Math.max(secs, 1e-6));
  const timing = `in ${secs.toFixed(1)} s (${fmt.format(rate)} entries/s)`;
  // An unkeyed chain that verifies proves little: say so on the same final line.
  const keying = result.keyed ? '' : `; UNKEYED: ${UNKEYED_WARNING}`;
  if (result.ok) {
    const cp = result.checkpoint ? `; checkpoint ${result.checkpoint.seq} matches` : '';
    process.stdout.write(`audit chain ok: ${result.checked} entries verified ${timing}${cp}${keying}\n`);
  } else {
    const bad = result.firstBad;
    if (bad)
      process.stdout.write(
        `audit chain BROKEN at entry ${bad.seq}${bad.id ? ` (${bad.id})` : ''}: ${bad.problem}: ${bad.detail}; ${result.checked} entries verified before it${keying}\n`,
      );
    const cp = result.checkpoint;
    if (cp && !cp.ok)
      process.stdout.write(`audit checkpoint ${cp.seq} MISMATCH: ${cp.problem ?? 'signature not valid'}\n`);
    process.exitCode = 1;
  }
} catch (error) {
  process.stderr.write(`jaga audit:verify: ${(error as Error).message}\n`);
  process.exitCode = 2;
}
