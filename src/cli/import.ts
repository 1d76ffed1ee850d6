import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { boot } from '../boot.ts';
import { UNIT_CODE } from '../shared/unit-code.ts';
import { configFromProcess } from '../config/from-process.ts';
import { openDatabase } from '../db/open.ts';
import { DomainError } from '../shared/errors.ts';
import type { Principal } from '../identity/principal.ts';
import { OperatorError, runningServer, type OperatorClient } from '../operator/operator.client.ts';
import type { UploadFormat } from '../records/ingest.parse.ts';
import { isName, NAME_MAX, nameMessage } from '../shared/text.ts';
import { createLogger } from '../system/logger.ts';

/**
 * `npm run import -- --dataset ID FILE.csv`: streams a local file through the same ingest
 * service as POST /v1/datasets/:id/records (same validation, all or nothing, same audit entry).
 * The operator acts as a steward of the dataset's owner unit (`--unit` to name another one):
 * whoever holds DATABASE_URL (or can read the embedded data folder) could write the tables
 * anyway; the entry names them (`--sub`).
 *
 * On the embedded database while `npm start` runs, the file goes to that server through its
 * operator channel (src/operator): PGlite serves one process at a time.
 */
const USAGE = 'usage: npm run import -- --dataset ID [--format csv|ndjson|json] [--sub NAME] [--unit CODE] FILE';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dataset: { type: 'string' },
    format: { type: 'string' },
    sub: { type: 'string' },
    unit: { type: 'string' },
  },
});
const file = positionals[0];
if (!values.dataset || !file || positionals.length > 1) {
  process.stderr.write(USAGE + '\n');
  process.exit(2);
}
// The import's audit entry names the operator: a name the log can hold (src/shared/text.ts), checked before any row is read.
if (values.sub !== undefined && (values.sub === '' || !isName(values.sub))) {
  process.stderr.write(`jaga import: --sub ${nameMessage(NAME_MAX)}\n`);
  process.exit(2);
}
if (values.unit !== undefined && !UNIT_CODE.test(values.unit)) {
  process.stderr.write('jaga import: --unit must be a unit code such as RI, 32 or 32.01\n');
  process.exit(2);
}
const byExtension: Record<string, UploadFormat> = {
  '.csv': 'csv',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'json',
};
const format = (values.format ?? byExtension[extname(file).toLowerCase()]) as UploadFormat | undefined;
if (!format || !['csv', 'ndjson', 'json'].includes(format)) {
  process.stderr.write(`jaga import: cannot tell the format of ${file}; pass --format csv|ndjson|json\n`);
  process.exit(2);
}

const config = configFromProcess();
const dataset = values.dataset;
const source: { path: string; format: UploadFormat } = { path: file, format };
const sub = values.sub ?? `cli:${userInfo().username}`;
const size = (await stat(file)).size;
const tty = process.stderr.isTTY === true;
let bytes = 0;
let lastPaint = 0;
const started = performance.now();

/** Progress from the bytes read (and the rows stored, when this process stores them). */
function paint(rows?: number): void {
  if (!tty || performance.now() - lastPaint < 200) return;
  lastPaint = performance.now();
  const s = (performance.now() - started) / 1000;
  const left = bytes > 0 ? (s * (size - bytes)) / bytes : NaN;
  const pct = size ? ((100 * bytes) / size).toFixed(1) : '100';
  const stored =
    rows === undefined
      ? ''
      : `${rows.toLocaleString('en')} rows  ${Math.round(rows / Math.max(s, 1e-3)).toLocaleString('en')} rows/s  `;
  process.stderr.write(`\r\x1b[K${stored}${pct}%  ETA ${Number.isFinite(left) ? left.toFixed(0) + 's' : '?'}`);
}

/** A JSON log line on stderr starts on a line of its own, never after a half-drawn progress bar. */
function logLine(line: string): void {
  if (tty) process.stderr.write('\r\x1b[K');
  process.stderr.write(line + '\n');
  lastPaint = 0;
}

async function* counted(path: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>) {
    bytes += chunk.byteLength;
    if (server) paint();
    yield chunk;
  }
}

/** No server holds the folder (or the database is PostgreSQL): ingest in this process. */
async function importHere(): Promise<number> {
  const db = await openDatabase(config, 'npm run import');
  const { deps, close } = await boot({ config, db, logger: createLogger(config.logLevel, logLine) });
  try {
    const read = await deps.services.catalog.getFieldsForRead(dataset);
    if (!read) throw new DomainError('NOT_FOUND', `There is no dataset ${dataset}.`);
    const principal: Principal = {
      sub,
      kind: 'user',
      roles: ['steward'],
      unit: values.unit ?? read.dataset.ownerUnit,
      purposes: [],
    };
    const { inserted } = await deps.services.ingest.ingest(principal, dataset, source.format, counted(source.path), {
      requestId: `cli-${crypto.randomUUID()}`,
      traceId: null,
      onProgress: (rows) => paint(rows),
    });
    return inserted;
  } finally {
    await close();
  }
}

async function importThrough(s: OperatorClient): Promise<number> {
  const { inserted } = await s.importRecords({
    dataset,
    format: source.format,
    sub,
    unit: values.unit,
    body: Readable.from(counted(source.path)),
  });
  return inserted;
}

let server: OperatorClient | null = null;
try {
  server = await runningServer(config);
  const inserted = server ? await importThrough(server) : await importHere();
  const s = (performance.now() - started) / 1000;
  if (tty) process.stderr.write('\r\x1b[K');
  process.stdout.write(
    `imported ${inserted} records into ${dataset} in ${s.toFixed(1)} s (${Math.round(inserted / Math.max(s, 1e-3))} rows/s)\n`,
  );
  if (server) process.stderr.write(`(through the running Jaga server, pid ${server.holder.pid})\n`);
} catch (error) {
  if (tty) process.stderr.write('\n');
  if (error instanceof DomainError || error instanceof OperatorError) {
    process.stderr.write(`jaga import: ${error.code}: ${error.message}\n`);
    for (const e of error.errors ?? []) process.stderr.write(`  ${e.path}: ${e.message}\n`);
  } else {
    process.stderr.write(`jaga import: ${(error as Error).message}\n`);
  }
  process.exitCode = 1;
}
