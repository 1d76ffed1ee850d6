// `node bench/export/inprocess.ts`: the enforced export without HTTP — Jaga's read service
// streaming BENCH_ROWS (default 200 000) violation reports as CSV and NDJSON from a throwaway
// PostgreSQL, in this process. Prints rows/s and this process's CPU per row: the Node-side cost
// of an export (query decoding, masks, rendering), apart from HTTP and a client sharing the cores.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { boot } from '../../src/boot.ts';
import { loadConfig } from '../../src/config/config.ts';
import { connectNodePostgres } from '../../src/db/open.ts';
import type { Principal } from '../../src/identity/principal.ts';
import { createLogger } from '../../src/system/logger.ts';
import { DATASET_ID, FIELDS, report } from './data.ts';

const ROOT = join(import.meta.dirname, '../..');
const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
const dir = mkdtempSync(join(tmpdir(), 'jaga-bench-inproc-'));
const url = execFileSync('bash', [join(ROOT, 'scripts/pg-throwaway.sh'), 'start', dir], { encoding: 'utf8' }).trim();
try {
  const db = connectNodePostgres(url, { max: 4 });
  const app = await boot({
    config: loadConfig({
      LOG_LEVEL: 'error',
      DATABASE_URL: url,
      ...(process.env.RECORDS_STREAM_PAGE ? { RECORDS_STREAM_PAGE: process.env.RECORDS_STREAM_PAGE } : {}),
    }),
    db,
    logger: createLogger('error'),
  });
  const { services } = app.deps;
  const steward: Principal = { sub: 'bench-steward', kind: 'user', roles: ['steward'], unit: '32', purposes: [] };
  await services.catalog.createDataset(
    steward,
    {
      id: DATASET_ID,
      title: 'bench',
      ownerUnit: '32',
      sourceSystem: 'SIGAPLAPOR',
      fields: FIELDS.map((f) => ({ ...f })),
    } as never,
    {},
  );
  await services.catalog.labelDataset(steward, DATASET_ID, { classification: 'restricted' } as never, undefined, {});
  async function* ndjson() {
    for (let i = 0; i < ROWS; i += 1000) {
      let s = '';
      for (let j = i; j < Math.min(ROWS, i + 1000); j++) s += JSON.stringify(report(j)) + '\n';
      yield new TextEncoder().encode(s);
    }
  }
  await services.ingest.ingest(steward, DATASET_ID, 'ndjson', ndjson(), { requestId: null, traceId: null } as never);
  await db.sql`vacuum analyze records`;
  const staff: Principal = {
    sub: 'bench-staff',
    kind: 'user',
    roles: ['staff'],
    unit: '32',
    purposes: ['penanganan-pelanggaran'],
  };
  let gcMs = 0; // main-thread pauses for garbage collection, per format run
  new PerformanceObserver((list) => list.getEntries().forEach((e) => (gcMs += e.duration))).observe({
    entryTypes: ['gc'],
  });
  for (const format of ['csv', 'ndjson', 'csv', 'ndjson'] as const) {
    gcMs = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const res = await services.reads.read(staff, {
      datasetId: DATASET_ID,
      format,
      purpose: 'penanganan-pelanggaran',
      cursor: undefined,
      limit: undefined,
      filters: [],
      requestId: null,
      traceId: null,
    });
    let rows = 0;
    for await (const chunk of res.body as ReadableStream<Uint8Array>)
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) rows++;
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    console.log(
      `${format.padEnd(7)} ${rows} rows  ${Math.round(rows / (ms / 1000)).toLocaleString('en')} rows/s  node CPU ${((c.user + c.system) / rows).toFixed(2)} µs/row  GC pauses ${((gcMs * 1000) / rows).toFixed(2)} µs/row  ${mem()}`,
    );
  }
  await app.close();
} finally {
  execFileSync('bash', [join(ROOT, 'scripts/pg-throwaway.sh'), 'stop', dir]);
  rmSync(dir, { recursive: true, force: true });
}

function mem(): string {
  const m = process.memoryUsage();
  const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
  return `heap ${mb(m.heapUsed)}/${mb(m.heapTotal)}  external ${mb(m.external)}  rss ${mb(m.rss)}`;
}
