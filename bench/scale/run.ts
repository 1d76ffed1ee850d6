// `npm run bench:scale`: figures, not a test (issue 22). Starts a throwaway PostgreSQL 15, seeds the
// audit log through the writer's own statement (chain, hashes, minute map and rollups exactly as
// the writer writes them) with a realistic mix spread over 12 monthly partitions, and a dataset of
// records, then prints p50/p95 of the auditor's and PPID's queries (the SQL the service runs, built
// by the same functions), report times, verification rates, disk per million entries, and EXPLAIN
// for every query over its target.
//   BENCH_SCALE_ENTRIES (default 100000; the issue's sizes are 1000000 and 10000000)
//   BENCH_SCALE_RECORDS (default 100000; the issue's size is 1000000)
//   BENCH_SCALE_REPS    (default 15) runs per query
//   BENCH_SCALE_KEEP=1  leaves the database folder (its path is printed) and its server running
//   BENCH_SCALE_DIR     a folder kept by an earlier run: reuses its log (no seeding; pending migrations applied)
//   BENCH_SCALE_ONLY=reports  runs the report cases only (no paged queries, verification or records)
//   BENCH_SCALE_ONLY=verify  seeds the log and measures verification only (no rollups, queries, records)
// Run it under `nice -n 19` on a shared machine.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { AuditScope } from '../../src/audit/audit.access.ts';
import { chain, queued } from '../../src/audit/audit.append.ts';
import { toEntryRow } from '../../src/audit/audit.entry.ts';
import type { AuditEntryInput } from '../../src/audit/audit.port.ts';
import {
  deniedReport,
  deniedReportQuery,
  disclosureReport,
  disclosureKeyOf,
  disclosureReportQuery,
  planDisclosureReport,
  type DisclosureKey,
  findEntries,
  REPORT_ROWS,
  reportParts,
  rollupWhere,
  whereClause,
  withTailBound,
  type EntryFilter,
} from '../../src/audit/audit-query.repo.ts';
import { createPartition, insertEntriesGuarded, readHead, recordVerified } from '../../src/audit/audit.repo.ts';
import { catchUpRollups } from '../../src/audit/audit.rollup.ts';
import { verifyChain, type VerifyOptions } from '../../src/audit/audit.verify.ts';
import { verifyInWorkers } from '../../src/audit/audit.verify-workers.ts';
import { reportPeriod, RECENT_WINDOW_DAYS } from '../../src/audit/audit.service.ts';
import { migrate } from '../../src/db/migrate.ts';
import { readMigrationFiles } from '../../src/db/migration-files.ts';
import { connectNodePostgres } from '../../src/db/open.ts';

const ENTRIES = Number(process.env.BENCH_SCALE_ENTRIES ?? 100_000);
const VERIFY_ONLY = process.env.BENCH_SCALE_ONLY === 'verify';
const RECORDS = VERIFY_ONLY ? 0 : Number(process.env.BENCH_SCALE_RECORDS ?? 100_000);
const REPS = Number(process.env.BENCH_SCALE_REPS ?? 15);
const KEY = 'bench-scale-hmac-key-bench-scale-hmac-key';
// About the writer's batch size under load (AUDIT_FLUSH_MAX caps it).
const BATCH = 200;
const DAY = 86_400_000;
const fmt = new Intl.NumberFormat('en');
const out = (s: string) => process.stdout.write(s + '\n');

/** A small deterministic generator (mulberry32): every run seeds the same log. */
let state = 22;
const rnd = () => {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;

// 500 units in the region-code hierarchy: 10 provinces, 5 regencies each, 9 districts each.
const provinces = ['11', '12', '13', '31', '32', '33', '34', '35', '36', '51'];
const regencies = provinces.flatMap((p) => [1, 2, 3, 4, 5].map((r) => `${p}.0${r}`));
const districts = regencies.flatMap((r) => [1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => `${r}.0${d}`));
const units = [...provinces, ...regencies, ...districts]; // 10 + 50 + 450 = 510
const principals = Array.from({ length: 5000 }, (_, i) => ({
  sub: `user-${String(i).padStart(4, '0')}`,
  unit: i % 50 === 0 ? 'RI' : pick(units),
}));
const datasets = Array.from({ length: 10_000 }, (_, i) => ({ id: `ds-${i}`, unit: pick(units) }));
const SMALL_UNIT = districts[17]!;

/** The realistic mix: decisions in requests of 1-5, disclosures, catalog and label changes, audit reads. */
function* mix(): Generator<AuditEntryInput> {
  let request = 0;
  for (;;) {
    const p = pick(principals);
    const requestId = `req-${request++}`;
    const r = rnd();
    if (r < 0.2) {
      const d = pick(datasets);
      const whole = pick([[], ['kecamatan'], ['nama', 'kecamatan']]);
      yield {
        event: 'disclosure',
        principal: { sub: p.sub, kind: 'user', roles: ['staff'], unit: p.unit },
        action: 'read',
        resource: { type: 'Dataset', id: d.id, classification: pick(['public', 'restricted', 'exempt']), unit: d.unit },
        effect: 'allow',
        ruleId: 'staff.record.read-unit',
        reason: 'staff read the records of their unit',
        policyVersion: 'sha256:bench',
        fields: { whole, masked: pick([[], ['nik']]), omitted: ['alamat'] },
        purpose: rnd() < 0.3 ? pick(['supervision', 'statistik', 'penanganan-pelanggaran']) : null,
        rowCount: Math.floor(rnd() * 100),
        requestId,
        details: { personal: ['nama', 'nik'] },
      };
    } else if (r < 0.23) {
      const d = pick(datasets);
      yield {
        event: pick(['label_change', 'catalog_change']),
        principal: { sub: p.sub, kind: 'user', roles: ['steward'], unit: p.unit },
        action: pick(['label', 'update']),
        resource: { type: 'Dataset', id: d.id, unit: d.unit },
        effect: 'allow',
        ruleId: 'steward.dataset.label',
        reason: 'the steward labels the datasets of the unit',
        policyVersion: 'sha256:bench',
        requestId,
      };
    } else if (r < 0.25) {
      yield {
        event: 'audit_read',
        principal: { sub: p.sub, kind: 'user', roles: ['auditor'], unit: p.unit },
        action: 'audit',
        resource: { type: 'AuditEntry', id: 'decisions' },
        effect: 'allow',
        ruleId: 'auditor.audit.read',
        reason: 'may audit every entry',
        policyVersion: 'sha256:bench',
        requestId,
      };
    } else {
      const n = 1 + Math.floor(rnd() * 5);
      for (let k = 0; k < n; k++) {
        const d = pick(datasets);
        const deny = rnd() < 0.1;
        yield {
          event: 'decision',
          principal: { sub: p.sub, kind: 'user', roles: ['staff'], unit: p.unit },
          action: pick(['read', 'read', 'read', 'label', 'export']),
          resource: { type: 'Field', id: `${d.id}/f${k}`, datasetId: d.id, classification: 'restricted', unit: d.unit },
          effect: deny ? 'deny' : 'allow',
          ruleId: deny ? null : 'staff.field.read-unit',
          reason: deny ? 'no rule allows it' : 'staff read the fields of their unit',
          policyVersion: 'sha256:bench',
          requestId,
        };
      }
    }
  }
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

const script = join(import.meta.dirname, '../../scripts/pg-throwaway.sh');
const reuse = process.env.BENCH_SCALE_DIR;
const ONLY_REPORTS = process.env.BENCH_SCALE_ONLY === 'reports';
const dir = reuse ?? mkdtempSync(join(tmpdir(), 'jaga-bench-scale-'));
if (reuse && !existsSync(join(dir, 'data', 'postmaster.pid'))) execFileSync('bash', [script, 'resume', dir]);
const adminUrl = reuse
  ? `postgres://jaga@127.0.0.1:${readFileSync(join(dir, 'port'), 'utf8').trim()}/postgres`
  : execFileSync('bash', [script, 'start', dir], { encoding: 'utf8' }).trim();
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });

try {
  if (!reuse) await admin.unsafe('create database scale');
  const db = connectNodePostgres(adminUrl.replace(/\/[^/]*$/, '/scale'), { max: 4 });
  const sql = db.sql;
  await migrate(sql, readMigrationFiles());
  const now = new Date();
  const start = new Date(now.getTime() - 365 * DAY);
  for (let i = -12; i <= 2 && !reuse; i++) {
    const m = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + i, 1));
    await createPartition(sql, m.getUTCFullYear(), m.getUTCMonth() + 1);
  }
  out(
    `bench:scale: ${fmt.format(ENTRIES)} entries over 12 months, ${fmt.format(RECORDS)} records; ${REPS} runs per query${reuse ? ` (reusing ${dir})` : ''}`,
  );

  // ---- seed the log -------------------------------------------------------------------------
  const gen = mix();
  let head = await readHead(sql);
  const seedStart = performance.now();
  for (let done = 0; done < (reuse ? 0 : ENTRIES); done += BATCH) {
    const n = Math.min(BATCH, ENTRIES - done);
    const inputs = Array.from({ length: n }, () => gen.next().value as AuditEntryInput);
    const at = new Date(start.getTime() + ((now.getTime() - start.getTime() - 60_000) * (done + n)) / ENTRIES);
    const rows = chain(
      inputs.map((e) => queued(toEntryRow(e))),
      head,
      at,
      KEY,
    );
    await insertEntriesGuarded(sql, rows, head);
    const last = rows.at(-1)!;
    head = { seq: last.seq, hash: last.hash, at: last.at };
    if (done % 100_000 === 0 && done) out(`  seeded ${fmt.format(done)}`);
  }
  const seedSecs = (performance.now() - seedStart) / 1000;
  if (!reuse)
    out(
      `seeded ${fmt.format(ENTRIES)} entries in ${seedSecs.toFixed(1)} s (${fmt.format(Math.round(ENTRIES / seedSecs))} entries/s, batches of ${BATCH})`,
    );
  // The catch-up job's work for the whole log at once (in production it follows the writer).
  const foldStart = performance.now();
  const folded = VERIFY_ONLY ? 0 : await catchUpRollups(sql, { budgetMs: Infinity });
  const foldSecs = (performance.now() - foldStart) / 1000;
  out(
    `rollups caught up: ${fmt.format(folded)} entries in ${foldSecs.toFixed(1)} s (${fmt.format(Math.round(folded / foldSecs))} entries/s)`,
  );
  await sql`vacuum analyze audit_entry`.catch(() => sql.unsafe('analyze audit_entry'));
  await sql.unsafe('analyze audit_rollup; analyze audit_rollup_month; analyze audit_minute');
  const [levels] = await sql<{ day: string; month: string; denied: string }[]>`
    select (select count(*) from audit_rollup) as day, (select count(*) from audit_rollup_month) as month,
      (select count(*) from audit_denied_month) as denied`;
  out(
    `rollup rows: ${fmt.format(Number(levels!.day))} daily, ${fmt.format(Number(levels!.month))} monthly, ${fmt.format(Number(levels!.denied))} denied per principal and month`,
  );

  // ---- disk ------------------------------------------------------------------------------------
  const [disk] = await sql<{ heap: string; idx: string; rollup: string; minute: string }[]>`
    select sum(pg_table_size(c.oid)) as heap, sum(pg_indexes_size(c.oid)) as idx,
      pg_total_relation_size('audit_rollup') as rollup, pg_total_relation_size('audit_minute') as minute
    from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'audit_entry'::regclass`;
  const perM = (b: string) => ((Number(b) / ENTRIES) * 1e6) / 1024 ** 3;
  out(
    `disk per million entries: ${perM(disk!.heap).toFixed(2)} GB table + ${perM(disk!.idx).toFixed(2)} GB indexes; rollup ${(Number(disk!.rollup) / 1024 ** 2).toFixed(1)} MB, minute map ${(Number(disk!.minute) / 1024 ** 2).toFixed(1)} MB in all`,
  );
  const indexSizes = await sql<{ name: string; size: string }[]>`
    select regexp_replace(ci.relname, '^audit_entry_(y\\d{4}m\\d{2}|default)_', '') as name, sum(pg_relation_size(ci.oid)) as size
    from pg_inherits i join pg_index x on x.indrelid = i.inhrelid join pg_class ci on ci.oid = x.indexrelid
    where i.inhparent = 'audit_entry'::regclass group by 1 order by 2 desc`;
  out(
    '  per index (all partitions): ' +
      indexSizes.map((r) => `${r.name} ${(Number(r.size) / 1024 ** 2).toFixed(0)} MB`).join(', '),
  );

  // ---- queries -------------------------------------------------------------------------------
  const within = (unit: string): AuditScope => ({
    kind: 'where',
    condition: { op: 'within', field: 'unit', value: unit },
  });
  const all: AuditScope = { kind: 'all' };
  const windowFrom = new Date(now.getTime() - RECENT_WINDOW_DAYS * DAY).toISOString();
  const yearFrom = new Date(now.getTime() - 364 * DAY).toISOString();
  const someone = principals[123]!.sub;
  const [mid] = await sql<
    { seq: string }[]
  >`select seq from audit_entry where at >= ${new Date(now.getTime() - 30 * DAY)} order by seq limit 1`;
  const deepCursor = Number(mid?.seq ?? 0);
  const day0 = new Date(now.getTime() - 40 * DAY);
  const dayRange = { from: day0.toISOString(), to: new Date(day0.getTime() + DAY).toISOString() };

  type Case = { name: string; target: number; run: () => Promise<unknown>; explain?: () => Promise<string[]> };
  const page =
    (scope: AuditScope, f: EntryFilter, after = 0): Case['run'] =>
    () =>
      findEntries(sql, whereClause(sql, scope, f), after, 101);
  const explainPage =
    (scope: AuditScope, f: EntryFilter, after = 0) =>
    async () =>
      (
        await sql<
          { 'QUERY PLAN': string }[]
        >`explain (analyze, buffers) select * from audit_entry where ${whereClause(sql, scope, f)} and seq > ${after} order by seq limit 101`
      ).map((r) => r['QUERY PLAN']);
  const paged = (name: string, scope: AuditScope, f: EntryFilter, after = 0): Case => ({
    name,
    target: 50,
    run: page(scope, f, after),
    explain: explainPage(scope, f, after),
  });
  const month = reportPeriod({}, now);
  const year = reportPeriod(
    { from: new Date(Date.UTC(now.getUTCFullYear() - 1, now.getUTCMonth() + 1, 1)).toISOString().slice(0, 10) },
    now,
  );
  const report = (
    name: string,
    target: number,
    kind: 'disclosures' | 'denied',
    scope: AuditScope,
    period: typeof month,
    by: 'day' | 'month' | 'year' = 'month',
    page = 1,
  ): Case => {
    // A later page starts after the last group of the page before it (read once, before timing).
    let after: DisclosureKey | undefined;
    const cursor = async () => {
      for (let p = 1; p < page && (p === 1 || after); p++) {
        const rows = await disclosureReport(sql, rollupWhere(sql, scope, {}, period), by, REPORT_ROWS, after);
        after = rows.length === REPORT_ROWS ? disclosureKeyOf(rows.at(-1)!) : undefined;
      }
      return after;
    };
    return {
      name,
      target,
      run: async () =>
        kind === 'disclosures'
          ? disclosureReport(sql, rollupWhere(sql, scope, {}, period), by, REPORT_ROWS + 1, after ?? (await cursor()))
          : deniedReport(sql, rollupWhere(sql, scope, {}, period)),
      explain: async () => {
        const sel = await withTailBound(sql, rollupWhere(sql, scope, {}, period));
        if (kind === 'denied')
          return (await sql<{ 'QUERY PLAN': string }[]>`explain (analyze, buffers) ${deniedReportQuery(sql, sel)}`).map(
            (r) => r['QUERY PLAN'],
          );
        // The disclosures report reads part after part (a month, a calendar year) until it is full:
        // the part its page starts in, planned as the report plans it (streamedPlan).
        const k = after ?? (await cursor());
        const parts = reportParts(period, by);
        const part =
          (k && by !== 'day' && parts.find((x) => x.to > k.period && x.from <= new Date(k.period.getTime()))) ||
          parts[0]!;
        return sql.begin(async (tx) => {
          await planDisclosureReport(tx, sel);
          const q = disclosureReportQuery(tx, { ...sel, period: part }, by, REPORT_ROWS + 1, k);
          return (await tx<{ 'QUERY PLAN': string }[]>`explain (analyze, buffers) ${q}`).map((r) => r['QUERY PLAN']);
        });
      },
    };
  };
  const cases: Case[] = [
    paged(`PPID of a small unit (${SMALL_UNIT}), first page, default window`, within(SMALL_UNIT), { from: windowFrom }),
    paged(`PPID of a small unit (${SMALL_UNIT}), first page, a year back`, within(SMALL_UNIT), { from: yearFrom }),
    paged('PPID of a province (32), first page, default window', within('32'), { from: windowFrom }),
    paged(`unit=${SMALL_UNIT} (auditor), a year back`, all, { unit: SMALL_UNIT, from: yearFrom }),
    paged('event=label_change, a year back', all, { event: 'label_change', from: yearFrom }),
    paged('purpose= no match, a year back', all, { purpose: 'no-such-purpose', from: yearFrom }),
    paged('effect=deny, default window', all, { effect: 'deny', from: windowFrom }),
    paged('classification=exempt, a year back', all, { classification: 'exempt', from: yearFrom }),
    paged('action=export, default window', all, { action: 'export', from: windowFrom }),
    paged('from/to one day, first page', all, dayRange),
    paged('from/to one day, PPID of 32', within('32'), dayRange),
    paged('dataset=, first page', all, { dataset: datasets[42]!.id }),
    paged('principal=, first page', all, { principal: someone }),
    paged('requestId=', all, { requestId: 'req-4242' }),
    paged('no filter, deep page (30 days back)', all, { from: yearFrom }, deepCursor),
    paged(`PPID of ${SMALL_UNIT}, deep page`, within(SMALL_UNIT), { from: yearFrom }, deepCursor),
    report('reports/disclosures, a month', 200, 'disclosures', all, month),
    report('reports/denied, a month', 200, 'denied', all, month),
    report('reports/disclosures, a year', 1000, 'disclosures', all, year),
    report('reports/disclosures, a year, period=year', 1000, 'disclosures', all, year, 'year'),
    report('reports/disclosures, a year, period=year, page 2', 1000, 'disclosures', all, year, 'year', 2),
    report('reports/disclosures, a year, period=year, page 5', 1000, 'disclosures', all, year, 'year', 5),
    report('reports/disclosures, a year, period=year, PPID of 32', 1000, 'disclosures', within('32'), year, 'year'),
    report(
      `reports/disclosures, a year, period=year, PPID of ${SMALL_UNIT}`,
      1000,
      'disclosures',
      within(SMALL_UNIT),
      year,
      'year',
    ),
    report('reports/disclosures, a year, period=day', 1000, 'disclosures', all, year, 'day'),
    report('reports/denied, a year', 1000, 'denied', all, year),
    report('reports/denied, a year, PPID of 32', 1000, 'denied', within('32'), year),
  ];
  out('');
  out('| query | target ms | p50 ms | p95 ms | rows |');
  out('|---|---|---|---|---|');
  const slow: Case[] = [];
  for (const c of VERIFY_ONLY ? [] : ONLY_REPORTS ? cases.filter((x) => x.name.startsWith('reports/')) : cases) {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < REPS; i++) {
      const t0 = performance.now();
      const r = (await c.run()) as unknown[];
      times.push(performance.now() - t0);
      rows = r.length;
    }
    const p50 = quantile(times, 0.5);
    out(
      `| ${c.name} | ${c.target} | ${p50.toFixed(1)} | ${quantile(times, 0.95).toFixed(1)} | ${rows} | load ${loadavg()[0]!.toFixed(2)}`,
    );
    if (p50 > c.target || (c.name.includes('a year') && c.name.startsWith('reports/') && !c.name.includes('PPID')))
      slow.push(c);
  }

  // ---- verification ------------------------------------------------------------------------
  if (!ONLY_REPORTS) {
    // Paired, twice: in order; BENCH_SCALE_VERIFY_PARALLELISM segments at once (AUDIT_VERIFY_PARALLELISM)
    // in this thread; the same in worker threads, each on a connection of its own (as the server and
    // the CLI walk PostgreSQL).
    const parallelism = Number(process.env.BENCH_SCALE_VERIFY_PARALLELISM ?? 2);
    const workers = verifyInWorkers({ url: db.url!, connectTimeoutS: 5 });
    const ways: [string, VerifyOptions][] = [
      ['in order', { parallelism: 1 }],
      [`parallelism ${parallelism} in this thread`, { parallelism }],
      [`parallelism ${parallelism} in worker threads`, { parallelism, workers }],
    ];
    out('');
    let full = await verifyChain(sql, { hmacKey: KEY, parallelism: 1 });
    for (const [name, o] of [...ways, ...ways]) {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      full = await verifyChain(sql, { hmacKey: KEY, ...o });
      const fullSecs = (performance.now() - t0) / 1000;
      // CPU of this process, all its threads: above the wall time, the walk used more than one core.
      const cpu = process.cpuUsage(cpu0);
      const cpuSecs = (cpu.user + cpu.system) / 1e6;
      out(
        `full verification, ${name}: ${fmt.format(full.checked)} entries in ${fullSecs.toFixed(1)} s (${fmt.format(Math.round(full.checked / fullSecs))} entries/s), ok=${full.ok}, load average ${loadavg()[0]!.toFixed(2)}; Node CPU ${cpuSecs.toFixed(1)} s (${Math.round((cpuSecs / fullSecs) * 100)} % of the wall time, ${((cpuSecs / full.checked) * 1e6).toFixed(1)} µs an entry)`,
      );
    }
    await recordVerified(sql, { seq: full.lastSeq, hash: full.lastHash, fullWalk: true });
    // A day's entries at the issue's national rate (100 M a year: ~274 000 a day), scaled to this log.
    const dayEntries = Math.max(1000, Math.round(ENTRIES / 365));
    head = await readHead(sql);
    for (let done = 0; done < dayEntries; done += BATCH) {
      const inputs = Array.from(
        { length: Math.min(BATCH, dayEntries - done) },
        () => gen.next().value as AuditEntryInput,
      );
      const rows = chain(
        inputs.map((e) => queued(toEntryRow(e))),
        head,
        new Date(),
        KEY,
      );
      await insertEntriesGuarded(sql, rows, head);
      const last = rows.at(-1)!;
      head = { seq: last.seq, hash: last.hash, at: last.at };
    }
    // Three walks of the same day (the first also reads it from disk): the median is printed.
    const incTimes: number[] = [];
    let inc = full;
    for (let i = 0; i < 3; i++) {
      const t1 = performance.now();
      inc = await verifyChain(sql, { hmacKey: KEY, start: { seq: full.lastSeq, hash: full.lastHash } });
      incTimes.push(performance.now() - t1);
    }
    const incMs = quantile(incTimes, 0.5);
    out(
      `incremental verification of a day (${fmt.format(inc.checked)} entries): ${incMs.toFixed(0)} ms median of 3 (${incTimes.map((x) => x.toFixed(0)).join(', ')}; ${fmt.format(Math.round(inc.checked / (incMs / 1000)))} entries/s), ok=${inc.ok}`,
    );

    // ---- records -----------------------------------------------------------------------------
    const [unit] = await sql<{ code: string }[]>`select code from units where code <> 'RI' order by code limit 1`;
    await sql`insert into datasets (id, title, owner_unit) values ('bench-records', 'Bench records', ${unit!.code})`;
    const r0 = performance.now();
    for (let done = 0; done < RECORDS; done += 50_000) {
      const n = Math.min(50_000, RECORDS - done);
      await sql`insert into records (dataset_id, unit, data)
      select 'bench-records', ${unit!.code}, jsonb_build_object('report_no', 'LP-' || lpad(i::text, 8, '0'), 'region', ${unit!.code}::text,
        'amount', i % 1000, 'category', (array['politik uang', 'netralitas ASN', 'kampanye'])[1 + i % 3])
      from generate_series(${done}::int, ${done + n - 1}::int) as i`;
    }
    await sql`analyze records`;
    out('');
    out(`records: ${fmt.format(RECORDS)} rows loaded in ${((performance.now() - r0) / 1000).toFixed(1)} s`);
    const wanted = `LP-${String(Math.floor(RECORDS / 2)).padStart(8, '0')}`;
    const recordQuery = () => sql`select seq, data from records r where r.dataset_id = 'bench-records' and r.seq > 0
    and r.data @> ${sql.json({ report_no: wanted })} and (r.data->>'report_no') = ${wanted}::text
    order by r.seq limit 101`;
    const rt: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const s = performance.now();
      await recordQuery();
      rt.push(performance.now() - s);
    }
    out(
      `records ?report_no= (one match): p50 ${quantile(rt, 0.5).toFixed(1)} ms, p95 ${quantile(rt, 0.95).toFixed(1)} ms (target 20)`,
    );
  }

  for (const c of slow) {
    out('');
    out(`EXPLAIN (over target, or a year's report): ${c.name}`);
    for (const line of (await c.explain?.()) ?? []) out('    ' + line);
  }
  await db.close();
} finally {
  await admin.end();
  // A reused log is never removed: seeding it again takes long (BENCH_SCALE_KEEP is implied).
  if (process.env.BENCH_SCALE_KEEP === '1' || reuse) out(`database folder kept: ${dir}`);
  else {
    execFileSync('bash', [script, 'stop', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}
