import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UNKEYED_WARNING } from '../audit/audit.hash.ts';
import { verifyChain, type CheckpointInput } from '../audit/audit.verify.ts';
import { configFromProcess } from '../config/from-process.ts';
import { openDatabase } from '../db/open.ts';

// `npm run audit:verify [-- --checkpoint cp.json [--from-checkpoint]]`: walks the audit chain of
// DATABASE_URL (or the embedded database). Exit 0 intact, 1 broken or checkpoint mismatch, 2 error.
const { values } = parseArgs({
  options: {
    checkpoint: { type: 'string' },
    'from-checkpoint': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});
const config = configFromProcess();
const db = await openDatabase(config);
const tty = process.stderr.isTTY && !values.quiet;
const started = performance.now();
const fmt = new Intl.NumberFormat('en');

function bar(checked: number, total: number): void {
  const secs = (performance.now() - started) / 1000;
  const rate = secs > 0 ? Math.round(checked / secs) : 0;
  const width = 30;
  const filled = total > 0 ? Math.min(width, Math.round((checked / total) * width)) : 0;
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${fmt.format(checked)}/${fmt.format(total)} entries  ${fmt.format(rate)} entries/s `);
}

try {
  let checkpoint: CheckpointInput | undefined;
  if (values.checkpoint) checkpoint = JSON.parse(readFileSync(values.checkpoint, 'utf8')) as CheckpointInput;
  const result = await verifyChain(db.sql, {
    hmacKey: config.audit.hmacKey,
    ...(checkpoint ? { checkpoint } : {}),
    fromCheckpoint: values['from-checkpoint'],
    ...(tty ? { onProgress: bar } : {}),
  });
  if (tty) process.stderr.write('\n');
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
    if (bad) process.stdout.write(`audit chain BROKEN at entry ${bad.seq}${bad.id ? ` (${bad.id})` : ''}: ${bad.problem}: ${bad.detail}; ${result.checked} entries verified before it${keying}\n`);
    const cp = result.checkpoint;
    if (cp && !cp.ok) process.stdout.write(`audit checkpoint ${cp.seq} MISMATCH: ${cp.problem ?? 'signature not valid'}\n`);
    process.exitCode = 1;
  }
} catch (error) {
  process.stderr.write(`jaga audit:verify: ${(error as Error).message}\n`);
  process.exitCode = 2;
} finally {
  await db.close();
}
