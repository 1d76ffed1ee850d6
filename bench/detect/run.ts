import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot } from '../../src/boot.ts';
import { loadConfig } from '../../src/config/config.ts';
import { openDatabase } from '../../src/db/open.ts';
import { classifyField } from '../../src/detection/classify.ts';
import { isEmail, isLandline, isMobile } from '../../src/detection/contact.ts';
import { isNik } from '../../src/detection/identity-numbers.ts';
import { isNip } from '../../src/detection/nip.ts';
import { isLegacyNpwp } from '../../src/detection/tax.ts';
import type { Principal } from '../../src/identity/principal.ts';
import { createLogger } from '../../src/system/logger.ts';
import { median } from '../lib/bench-kit.ts';
import { DATASETS, generate, type Column } from './corpus.ts';

/**
 * npm run bench:detect — the detectors against a labelled corpus of their own (bench/detect/corpus.ts):
 *  1. per-detector precision and recall over every whole value of the corpus (valid values and near misses);
 *  2. field-level classification accuracy: each column classified from a sample, against its label;
 *  3. values classified per second of CPU on one core (the structured columns, through classifyField);
 *  4. a scan of a BENCH_SCAN_ROWS-row dataset (default 1 000 000) on embedded PGlite in this process:
 *     CPU and wall time of POST /v1/datasets/:id/scan's service call (sample taken in SQL, then classified).
 * BENCH_ROWS (default 5000) rows per corpus dataset; BENCH_SEED (default 18).
 */
const ROWS = Number(process.env.BENCH_ROWS ?? 5000);
const SEED = Number(process.env.BENCH_SEED ?? 18);
const SCAN_ROWS = Number(process.env.BENCH_SCAN_ROWS ?? 1_000_000);
const SAMPLE = 1000;
const now = new Date();
const say = (s: string) => process.stdout.write(s + '\n');
const cpuMs = (from: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1000;
};

const corpus = DATASETS.map((d, i) => ({ d, data: generate(d, ROWS, SEED + i) }));

// 1. Value level.
const VALUE_DETECTORS: Record<string, (v: string) => boolean> = {
  nik: isNik,
  nip: (v) => isNip(v, now),
  phone: (v) => isMobile(v) || isLandline(v, false),
  email: isEmail,
  npwp: (v) => isLegacyNpwp(v, false),
};
say(`# bench:detect — corpus of ${DATASETS.length} datasets × ${ROWS} rows, seed ${SEED}`);
say('\n## Per detector, over every whole value (valid values and near misses)');
say('detector | values | TP | FP | FN | precision | recall');
say('---|---|---|---|---|---|---');
for (const [det, fn] of Object.entries(VALUE_DETECTORS)) {
  let tp = 0;
  let fp = 0;
  let fnn = 0;
  let n = 0;
  for (const { data } of corpus) {
    for (const [col, values] of data) {
      // A family-card number and a man's NIK share one structure: KK columns are told apart by name, not value.
      if (det === 'nik' && col.valid === 'kk') continue;
      for (const v of values) {
        if (typeof v !== 'string') continue;
        n++;
        const hit = fn(v);
        if (col.valid === det) {
          if (hit) tp++;
          else fnn++;
        } else if (hit) fp++;
      }
    }
  }
  const p = tp + fp ? tp / (tp + fp) : 1;
  const r = tp + fnn ? tp / (tp + fnn) : 1;
  say(`${det} | ${n} | ${tp} | ${fp} | ${fnn} | ${p.toFixed(4)} | ${r.toFixed(4)}`);
}

// 2. Field level.
say(`\n## Field level: each column classified from its first ${SAMPLE} values`);
let right = 0;
let total = 0;
const wrong: string[] = [];
for (const { d, data } of corpus) {
  for (const [col, values] of data) {
    const v = classifyField({ name: col.name, type: col.type, values: values.slice(0, SAMPLE) }, now);
    total++;
    if (v.category === col.expected) right++;
    else wrong.push(`${d.id}.${col.name}: expected ${col.expected}, got ${v.category} (${v.evidence.detector})`);
  }
}
say(`accuracy ${right}/${total} = ${(right / total).toFixed(4)}`);
for (const w of wrong) say(`  miss: ${w}`);

// 3. Throughput (one core: this thread).
const STRUCTURED = new Set(['nik', 'kk', 'nip', 'phone', 'email', 'npwp']);
const structured: { col: Column; values: (string | number | null)[] }[] = [];
for (const { data } of corpus)
  for (const [col, values] of data)
    if (col.valid || /nomor|kode|id_transaksi/.test(col.name)) structured.push({ col, values });
for (let round = 0; round < 2; round++) {
  // round 0 warms the JIT
  const c0 = process.cpuUsage();
  let values = 0;
  for (let rep = 0; rep < 5; rep++) {
    for (const { col, values: vs } of structured) {
      for (let at = 0; at < vs.length; at += SAMPLE) {
        classifyField({ name: col.name, type: col.type, values: vs.slice(at, at + SAMPLE) }, now);
        values += Math.min(SAMPLE, vs.length - at);
      }
    }
  }
  if (round === 1) {
    const ms = cpuMs(c0);
    say(`\n## Throughput (structured columns: ${[...STRUCTURED].join(', ')} and their near misses)`);
    say(
      `classifyField: ${values} values in ${ms.toFixed(0)} ms CPU = ${Math.round((values / ms) * 1000).toLocaleString('en')} values/s per core`,
    );
  }
}
{
  const niks = structured.filter((s) => s.col.valid === 'nik').flatMap((s) => s.values as string[]);
  const c0 = process.cpuUsage();
  let hits = 0;
  for (let rep = 0; rep < 20; rep++) for (const v of niks) if (isNik(v)) hits++;
  const ms = cpuMs(c0);
  say(
    `isNik alone: ${Math.round(((niks.length * 20) / ms) * 1000).toLocaleString('en')} values/s per core (${hits} hits)`,
  );
}

// 4. A scan of a large dataset's sample.
if (SCAN_ROWS > 0) {
  const dir = mkdtempSync(join(tmpdir(), 'jaga-bench-detect-'));
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
    JAGA_DATA_DIR: dir,
  });
  const db = await openDatabase(config, 'bench:detect');
  const app = await boot({ config, db, logger: createLogger('silent') });
  try {
    const admin: Principal = { sub: 'bench', kind: 'user', roles: ['admin'], unit: 'RI', purposes: [] };
    const ctx = { requestId: null, traceId: null };
    await app.deps.services.catalog.createDataset(
      admin,
      {
        id: 'laporan-besar',
        title: 'Laporan pelanggaran (bench)',
        ownerUnit: '32',
        fields: [
          { name: 'no_laporan', type: 'string' },
          { name: 'nama_pelapor', type: 'string' },
          { name: 'nik_pelapor', type: 'string' },
          { name: 'no_hp', type: 'string' },
          { name: 'uraian', type: 'string' },
          { name: 'tanggal', type: 'date' },
        ],
      },
      ctx,
    );
    const t0 = performance.now();
    const CHUNK = 100_000;
    for (let from = 1; from <= SCAN_ROWS; from += CHUNK) {
      const to = Math.min(SCAN_ROWS, from + CHUNK - 1);
      await db.sql`
        insert into records (dataset_id, unit, data)
        select 'laporan-besar', '32', jsonb_build_object(
          'no_laporan', 'LP-' || g,
          'nama_pelapor', (array['Siti Rahmawati','Budi Santoso','Dewi Lestari','Agus Saputra'])[1 + g % 4],
          'nik_pelapor', '3201' || lpad((1 + g % 40)::text, 2, '0') || lpad((1 + g % 28)::text, 2, '0') || '0390' || lpad((1 + g % 9999)::text, 4, '0'),
          'no_hp', '0812' || lpad((g % 100000000)::text, 8, '0'),
          'uraian', case when g % 10 = 0 then 'Hubungi 0813' || lpad((g % 10000000)::text, 7, '0') || ' untuk klarifikasi.'
                         else 'Laporan diteruskan ke sentra gakkumdu.' end,
          'tanggal', '2024-02-14')
        from generate_series(${from}::int, ${to}::int) g`;
    }
    say(`\n## Scan of a ${SCAN_ROWS.toLocaleString('en')}-row dataset (embedded PGlite, in this process)`);
    say(`loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const cpu: number[] = [];
    const wall: number[] = [];
    let sampled = 0;
    for (let i = 0; i < 5; i++) {
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      const r = await app.deps.services.detection.scan(admin, 'laporan-besar', ctx);
      wall.push(performance.now() - w0);
      cpu.push(cpuMs(c0));
      sampled = r.suggestions[0]?.evidence.sampled ?? 0;
      if (i === 0)
        say(
          `suggestions: ${r.suggestions.map((s) => `${s.field}=${s.personalData}${s.spans ? '(spans)' : ''}`).join(', ')}`,
        );
    }
    say(
      `sample ${sampled} records (DETECTION_SAMPLE_SIZE ${config.detection.sampleSize}); 5 scans: median CPU ${median(cpu).toFixed(0)} ms (database and service, one process), median wall ${median(wall).toFixed(0)} ms`,
    );
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
