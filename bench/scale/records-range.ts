// `npm run bench:records-range`: figures, not a test (issue 22). Range filters on a dataset of
// BENCH_RANGE_RECORDS (default 1 000 000) records, read through the whole app in this process (a
// throwaway PostgreSQL 15; policies, the read's disclosure entry, JSON), before and after the fields
// are declared `filter: "range"`, with the p50/p95 of each query and EXPLAIN ANALYZE of the page's
// SQL (built by the same functions the read service uses).
//   BENCH_RANGE_RECORDS (default 1000000)
//   BENCH_RANGE_REPS    (default 15) runs per query
// Run it under `nice -n 19` on a shared machine.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import postgres from 'postgres';
import { boot } from '../../src/boot.ts';
import { loadConfig } from '../../src/config/config.ts';
import { connectNodePostgres } from '../../src/db/open.ts';
import { INDEX_FIRST_MAX } from '../../src/records/read.service.ts';
import { datasetPredicate, rangeExpression } from '../../src/records/range-filter.ts';
import { countUpTo, countUpToQuery, pageQuery } from '../../src/records/records.repo.ts';
import { createLogger } from '../../src/system/logger.ts';

const RECORDS = Number(process.env.BENCH_RANGE_RECORDS ?? 1_000_000);
const REPS = Number(process.env.BENCH_RANGE_REPS ?? 15);
const SECRET = 'bench-range-secret-bench-range-secret-0123456789';
const out = (s: string) => process.stdout.write(s + '\n');
const fmt = new Intl.NumberFormat('en');
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

const key = new TextEncoder().encode(SECRET);
const token = (claims: Record<string, unknown>) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(String(claims.sub))
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(key);

const script = join(import.meta.dirname, '../../scripts/pg-throwaway.sh');
const dir = mkdtempSync(join(tmpdir(), 'jaga-bench-range-'));
const adminUrl = execFileSync('bash', [script, 'start', dir], { encoding: 'utf8' }).trim();
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });

/** The queries: which rows they match is said beside each (amount and day are not correlated with ingest order; k is). */
const QUERIES = [
  {
    name: 'amount[gte] (0.01 %)',
    q: `amount[gte]=${RECORDS - RECORDS / 10_000}`,
    field: 'amount',
    op: '>=',
    v: String(RECORDS - RECORDS / 10_000),
  },
  {
    name: 'day one day (~0.03 %)',
    q: 'day[gte]=2024-03-01&day[lt]=2024-03-02',
    field: 'day',
    op: '>=',
    v: '2024-03-01',
    op2: '<',
    v2: '2024-03-02',
  },
  { name: 'amount[lt] (0.4 %)', q: `amount[lt]=${RECORDS / 250}`, field: 'amount', op: '<', v: String(RECORDS / 250) },
  { name: 'amount[lt] (5 %)', q: `amount[lt]=${RECORDS / 20}`, field: 'amount', op: '<', v: String(RECORDS / 20) },
  { name: 'amount[gte]=0 (all)', q: 'amount[gte]=0', field: 'amount', op: '>=', v: '0' },
  {
    name: 'k[gte] last 0.1 % (in ingest order)',
    q: `k[gte]=${RECORDS - RECORDS / 1000}`,
    field: 'k',
    op: '>=',
    v: String(RECORDS - RECORDS / 1000),
  },
  {
    name: 'k[gte] last 40 % (in ingest order)',
    q: `k[gte]=${(RECORDS * 6) / 10}`,
    field: 'k',
    op: '>=',
    v: String((RECORDS * 6) / 10),
  },
] as const;
const TYPES: Record<string, 'integer' | 'date'> = { amount: 'integer', k: 'integer', day: 'date' };

try {
  await admin.unsafe('create database range');
  const db = connectNodePostgres(adminUrl.replace(/\/[^/]*$/, '/range'), { max: 6 });
  const config = loadConfig({ LOG_LEVEL: 'silent', JWT_SECRET: SECRET, DATABASE_DEADLINE_MS: '60000' });
  const app = await boot({ config, db, logger: createLogger('silent') });
  const steward = await token({ sub: 'steward-32', roles: ['steward'], unit: '32' });
  const staff = await token({ sub: 'staff-32', roles: ['staff'], unit: '32' });
  const request = async (method: string, path: string, who: string, json?: unknown) => {
    const res = await app.app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${who}`,
        ...(json ? { 'content-type': 'application/json', 'if-match': '*' } : {}),
      },
      ...(json ? { body: JSON.stringify(json) } : {}),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  const fields = [
    { name: 'k', type: 'integer' },
    { name: 'amount', type: 'integer' },
    { name: 'day', type: 'date' },
    { name: 'note', type: 'string' },
  ];
  await request('POST', '/v1/datasets', steward, { id: 'bench-range', title: 'Bench range', ownerUnit: '32', fields });
  await request('PUT', '/v1/datasets/bench-range/label', steward, { classification: 'public' });
  const t0 = performance.now();
  // amount: a permutation of 0..N-1 (prime stride), day: spread over ten years, neither in ingest order.
  for (let done = 0; done < RECORDS; done += 50_000) {
    const n = Math.min(50_000, RECORDS - done);
    await db.sql`insert into records (dataset_id, unit, data)
      select 'bench-range', '32', jsonb_build_object('k', i, 'amount', (i::bigint * 7919) % ${RECORDS}::bigint,
        'day', to_char(date '2020-01-01' + ((i::bigint * 104729) % 3653)::int, 'YYYY-MM-DD'), 'note', 'catatan ' || i)
      from generate_series(${done}::int, ${done + n - 1}::int) as i`;
  }
  await db.sql`vacuum analyze records`;
  out(
    `bench:records-range: ${fmt.format(RECORDS)} records loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${REPS} runs per query; load average ${load()}`,
  );

  const measure = async (label: string) => {
    out('');
    out(`${label} (load average ${load()})`);
    for (const q of QUERIES) {
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < REPS; i++) {
        const s = performance.now();
        const page = await request('GET', `/v1/datasets/bench-range/records?${q.q}&limit=100`, staff);
        times.push(performance.now() - s);
        rows = page.items.length;
      }
      out(
        `  ${q.name.padEnd(38)} p50 ${quantile(times, 0.5).toFixed(1).padStart(7)} ms  p95 ${quantile(times, 0.95).toFixed(1).padStart(7)} ms  (${rows} rows on the page)`,
      );
    }
  };
  const explainAll = async (indexed: boolean) => {
    const { sql } = db;
    for (const q of QUERIES) {
      const expr = sql`${sql.unsafe(rangeExpression(q.field, TYPES[q.field]!, 'r.data'))}`;
      const value = (v: string) => (TYPES[q.field] === 'date' ? sql`${v}::text` : sql`${v}::numeric`);
      let cmp = sql`${sql.unsafe(datasetPredicate('bench-range', 'r.dataset_id'))} and ${expr} ${sql.unsafe(q.op)} ${value(q.v)}`;
      if ('op2' in q) cmp = sql`${cmp} and ${expr} ${sql.unsafe(q.op2)} ${value(q.v2)}`;
      const p0 = performance.now();
      const indexFirst = indexed && (await countUpTo(sql, 'bench-range', cmp, INDEX_FIRST_MAX, expr)) < INDEX_FIRST_MAX;
      const probeMs = performance.now() - p0;
      const page = pageQuery(sql, {
        datasetId: 'bench-range',
        afterSeq: 0n,
        where: cmp,
        limit: 101,
        columns: fields.map((f) => ({ name: f.name, type: f.type as 'integer' })),
        indexFirst,
      });
      const plan = await sql<{ 'QUERY PLAN': string }[]>`explain (analyze, buffers) ${page}`;
      out('');
      out(
        `  EXPLAIN ANALYZE ${q.name} (${indexed ? `${indexFirst ? 'index first' : 'walk in order, index ready'}; the count through the index took ${probeMs.toFixed(1)} ms` : 'no index'})`,
      );
      for (const line of plan) out('    ' + line['QUERY PLAN']);
      if (!indexed) continue;
      out(`  EXPLAIN ANALYZE of its count through the index`);
      const probe = countUpToQuery(sql, 'bench-range', cmp, INDEX_FIRST_MAX, expr);
      for (const line of await sql<{ 'QUERY PLAN': string }[]>`explain (analyze, buffers) ${probe}`)
        out('    ' + line['QUERY PLAN']);
    }
  };

  await measure('before: no field declared range-filterable');
  await explainAll(false);
  const b0 = performance.now();
  await request('PATCH', '/v1/datasets/bench-range', steward, {
    fields: fields.map((f) => (f.type === 'string' ? f : { ...f, filter: 'range' })),
  });
  for (;;) {
    const d = await request('GET', '/v1/datasets/bench-range', steward);
    const states = d.fields.filter((f: any) => f.rangeIndex).map((f: any) => f.rangeIndex.status);
    if (states.includes('failed')) throw new Error(`a build failed: ${JSON.stringify(d.fields)}`);
    if (states.every((s: string) => s === 'ready')) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const [size] = await db.sql<{ mb: string }[]>`
    select round(sum(pg_relation_size(c.oid)) / 1048576.0, 1)::text as mb from pg_class c where c.relname like 'records_range_%'`;
  out('');
  out(
    `indexes for k, amount and day built concurrently in ${((performance.now() - b0) / 1000).toFixed(1)} s; ${size!.mb} MB together`,
  );
  await measure('after: k, amount and day declared range-filterable');
  await explainAll(true);

  // What the indexes cost each ingest: the same 100 000 records into this dataset (three range
  // indexes) and into one without declarations, alternately, three rounds.
  await request('POST', '/v1/datasets', steward, { id: 'bench-plain', title: 'Bench plain', ownerUnit: '32', fields });
  const insert = (id: string, from: number) => db.sql`insert into records (dataset_id, unit, data)
    select ${id}, '32', jsonb_build_object('k', i, 'amount', (i::bigint * 7919) % ${RECORDS}::bigint,
      'day', to_char(date '2020-01-01' + ((i::bigint * 104729) % 3653)::int, 'YYYY-MM-DD'), 'note', 'catatan ' || i)
    from generate_series(${from}::int, ${from + 99_999}::int) as i`;
  const ingest: Record<string, number[]> = { 'bench-range': [], 'bench-plain': [] };
  for (let round = 0; round < 3; round++) {
    for (const id of round % 2 ? ['bench-plain', 'bench-range'] : ['bench-range', 'bench-plain']) {
      const s = performance.now();
      await insert(id, RECORDS + round * 100_000);
      ingest[id]!.push(performance.now() - s);
    }
  }
  out('');
  out(
    `ingest of 100 000 records (one INSERT … SELECT, load average ${load()}): with three range indexes ${ingest['bench-range']!.map((x) => x.toFixed(0)).join(', ')} ms; without ${ingest['bench-plain']!.map((x) => x.toFixed(0)).join(', ')} ms`,
  );
  await app.close();
} finally {
  await admin.end();
  execFileSync('bash', [script, 'stop', dir]);
  rmSync(dir, { recursive: true, force: true });
}
