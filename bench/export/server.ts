import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { loadConfig } from '../../src/config/config.ts';
import { boot } from '../../src/boot.ts';
import { connectNodePostgres } from '../../src/db/open.ts';
import type { AppEnv } from '../../src/http/context.ts';
import { onError } from '../../src/http/on-error.ts';
import { requestId } from '../../src/http/request-id.ts';
import type { Principal } from '../../src/identity/principal.ts';
import { recordsRoutes } from '../../src/records/records.routes.ts';
import { createLogger } from '../../src/system/logger.ts';

/**
 * The export side of the bench: Jaga's records routes over real HTTP on a port, reading as a
 * staff member of unit 32 with a declared purpose (general personal data partially masked,
 * specific data pseudonymised). The principal is fixed here so the bench does not depend on
 * token verification; everything after identity (policies, SQL, masks, audit, streaming) is the
 * real path.
 */
const url = process.argv[2]!;
const port = Number(process.argv[3]);
const db = connectNodePostgres(url, { max: 4 });
// RECORDS_* settings pass through from the bench's variants (run.ts BENCH_VARIANTS).
const records = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('RECORDS_')));
const config = loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: url, ...records });
const { deps, close } = await boot({ config, db, logger: createLogger('error') });
const staff: Principal = {
  sub: 'bench-staff',
  kind: 'user',
  roles: ['staff'],
  unit: '32',
  purposes: ['penanganan-pelanggaran'],
};

const app = new Hono<AppEnv>();
app.use('*', requestId);
app.use('*', async (c, next) => {
  c.set('principal', staff);
  c.set('traceId', undefined);
  await next();
});
app.route('/', recordsRoutes({ ...deps.services, uploadMaxBytes: config.recordsUploadMaxBytes }));
app.onError(onError(createLogger('error')));
const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => {
  server.close();
  void close().then(() => process.exit(0));
});
