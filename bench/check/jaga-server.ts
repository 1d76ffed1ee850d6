import { serve } from '@hono/node-server';
import { unrecordedAuditLog } from '../../src/audit/audit.port.ts';
import { boot } from '../../src/boot.ts';
import { configFromProcess } from '../../src/config/from-process.ts';
import { openDatabase } from '../../src/db/open.ts';
import { createLogger } from '../../src/system/logger.ts';

/**
 * Jaga for the bench: the same boot as src/entry/node.ts. With BENCH_AUDIT=off the decisions are
 * handed to a log that stores nothing (to measure what logging costs); otherwise every decision
 * goes to the real hash-chained audit log.
 */
const config = configFromProcess();
const db = await openDatabase(config);
const booted = await boot({
  config,
  db,
  logger: createLogger('warn'),
  ...(process.env.BENCH_AUDIT === 'off' ? { replace: { audit: () => unrecordedAuditLog } } : {}),
});
serve({ fetch: booted.app.fetch, port: config.port, hostname: '127.0.0.1' }, () =>
  console.log(`listening (audit ${process.env.BENCH_AUDIT === 'off' ? 'off' : 'on'})`),
);
process.on('SIGTERM', () => void booted.close().then(() => process.exit(0)));
