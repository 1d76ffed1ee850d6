import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot } from '../../src/boot.ts';
import { loadConfig } from '../../src/config/config.ts';
import { sealSession, sessionKey } from '../../src/console/session.ts';
import { connectNodePostgres } from '../../src/db/open.ts';
import { mintToken } from '../../src/identity/mint.ts';
import type { Principal } from '../../src/identity/principal.ts';
import { createLogger } from '../../src/system/logger.ts';

/**
 * npm run bench:console — the console's dataset list against the API's, on a throwaway
 * PostgreSQL 15 (scripts/pg-throwaway.sh) with BENCH_DATASETS (default 10 000) datasets of six
 * fields in one unit. A steward walks every page of 50 (`/console/datasets`, rendered HTML, and
 * `GET /v1/datasets?limit=50`, JSON, the peer), page by page in turn so that drift of the shared
 * machine falls on both alike, BENCH_ROUNDS times (default 3). Times are the in-process request
 * (`app.request`: routing, session or token, the SQL page and its fields, rendering), no network.
 */
const ROOT = join(import.meta.dirname, '../..');
const DATASETS = Number(process.env.BENCH_DATASETS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PAGE = 50;
const SECRET = 'bench-console-secret-bench-console-secret-0123';
const dir = mkdtempSync(join(tmpdir(), 'jaga-bench-console-'));
const say = (s: string) => process.stdout.write(s + '\n');
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

const url = execFileSync('bash', [join(ROOT, 'scripts/pg-throwaway.sh'), 'start', dir], { encoding: 'utf8' }).trim();
try {
  say(`PostgreSQL: ${url}  datasets: ${DATASETS.toLocaleString('en')}  node ${process.version}  load ${load()}`);
  const db = connectNodePostgres(url, { max: 10 });
  const app = await boot({
    config: loadConfig({ LOG_LEVEL: 'error', DATABASE_URL: url, JWT_SECRET: SECRET, SESSION_SECRET: SECRET }),
    db,
    logger: createLogger('error'),
  });
  try {
    const steward: Principal = { sub: 'bench-steward', kind: 'user', roles: ['steward'], unit: '32', purposes: [] };
    // One dataset made by the service, then copied in SQL (the service's path is not what is measured).
    await app.deps.services.catalog.createDataset(
      steward,
      {
        id: 'ds-00000',
        title: 'Laporan dugaan pelanggaran 00000',
        summary: 'Laporan dugaan pelanggaran pemilu per kecamatan',
        ownerUnit: '32',
        fields: [
          { name: 'kecamatan', type: 'string' },
          { name: 'tanggal', type: 'date' },
          { name: 'jumlah', type: 'integer' },
          { name: 'pelapor', type: 'string', personalData: 'name' },
          { name: 'nik_pelapor', type: 'string', personalData: 'nik' },
          { name: 'uraian', type: 'string' },
        ],
      },
      { requestId: 'bench', traceId: null },
    );
    const t0 = performance.now();
    const sql = db.sql;
    // Every stored column (generated ones are computed again), the copies differing in id and title.
    const copy = async (table: string, replace: string, where: string) => {
      const cols = (
        await sql<{ column_name: string }[]>`
          select column_name from information_schema.columns
          where table_schema = current_schema() and table_name = ${table} and is_generated = 'NEVER'
          order by ordinal_position`
      ).map((r) => r.column_name);
      await sql.unsafe(
        `insert into ${table} (${cols.map((c) => `"${c}"`).join(', ')})
         select ${cols.map((c) => `r."${c}"`).join(', ')}
         from ${table} t, generate_series(1, ${DATASETS - 1}) i,
           jsonb_populate_record(t, ${replace}) r
         where ${where}`,
      );
    };
    await copy(
      'datasets',
      `jsonb_build_object('id', 'ds-' || lpad(i::text, 5, '0'), 'title', 'Laporan dugaan pelanggaran ' || lpad(i::text, 5, '0'), 'register_no', null)`,
      `t.id = 'ds-00000'`,
    );
    await copy(
      'fields',
      `jsonb_build_object('dataset_id', 'ds-' || lpad(i::text, 5, '0'))`,
      `t.dataset_id = 'ds-00000'`,
    );
    await sql`analyze datasets`;
    await sql`analyze fields`;
    say(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const key = await sessionKey(SECRET);
    const cookie = `jaga_session=${await sealSession(key, { principal: steward, csrf: 'c'.repeat(32), via: 'development' }, 3600)}`;
    const token = await mintToken({
      secret: SECRET,
      claims: { sub: steward.sub!, roles: ['steward'], unit: '32', purposes: [], kind: 'user' },
      ttlSeconds: 3600,
    });

    // The cursors of every page, from the API (the console's links carry the same ones).
    const cursors: (string | null)[] = [null];
    for (;;) {
      const c = cursors.at(-1);
      const r = await app.app.request(`/v1/datasets?limit=${PAGE}${c ? `&cursor=${encodeURIComponent(c)}` : ''}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const next = ((await r.json()) as { nextCursor: string | null }).nextCursor;
      if (!next) break;
      cursors.push(next);
    }
    say(`pages of ${PAGE}: ${cursors.length}`);

    const timed = async (path: string, headers: Record<string, string>) => {
      const start = performance.now();
      const r = await app.app.request(path, { headers });
      const body = await r.text();
      const ms = performance.now() - start;
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${body.slice(0, 200)}`);
      return { ms, bytes: body.length };
    };
    const consolePage = (c: string | null) =>
      timed(`/console/datasets${c ? `?cursor=${encodeURIComponent(c)}` : ''}`, { cookie });
    const apiPage = (c: string | null) =>
      timed(`/v1/datasets?limit=${PAGE}${c ? `&cursor=${encodeURIComponent(c)}` : ''}`, {
        authorization: `Bearer ${token}`,
      });

    // The console's page lists the same 50 datasets as the API's.
    const first = await (await app.app.request('/console/datasets', { headers: { cookie } })).text();
    const rows = first.match(/href="\/console\/datasets\/ds-\d+"/g)?.length ?? 0;
    if (rows !== PAGE) throw new Error(`the console's first page lists ${rows} datasets, not ${PAGE}`);

    // Warm-up: JIT, the policy's plan cache, PostgreSQL's buffers.
    for (const c of cursors.slice(0, 20)) {
      await consolePage(c);
      await apiPage(c);
    }
    const html: number[] = [];
    const json: number[] = [];
    let htmlBytes = 0;
    let jsonBytes = 0;
    say(`load before: ${load()}`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, c] of cursors.entries()) {
        // Alternate which goes first, so neither always meets a warmer cache.
        const pair = i % 2 === 0 ? [consolePage, apiPage] : [apiPage, consolePage];
        for (const run of pair) {
          const { ms, bytes } = await run(c);
          if (run === consolePage) {
            html.push(ms);
            htmlBytes = bytes;
          } else {
            json.push(ms);
            jsonBytes = bytes;
          }
        }
      }
    }
    say(`load after: ${load()}`);
    const row = (name: string, xs: number[], bytes: number) =>
      `| ${name} | ${xs.length} | ${quantile(xs, 0.5).toFixed(1)} | ${quantile(xs, 0.95).toFixed(1)} | ${Math.max(...xs).toFixed(1)} | ${(bytes / 1024).toFixed(0)} KiB |`;
    say('');
    say(
      `| page of ${PAGE} datasets (of ${DATASETS.toLocaleString('en')}) | requests | p50 ms | p95 ms | max ms | size |`,
    );
    say('|---|---|---|---|---|---|');
    say(row('console `/console/datasets` (HTML)', html, htmlBytes));
    say(row('API `GET /v1/datasets` (JSON)', json, jsonBytes));
    say('');
    say(`console p95 ${quantile(html, 0.95) <= 50 ? 'within' : 'OVER'} the 50 ms target`);
  } finally {
    await app.close();
  }
} finally {
  execFileSync('bash', [join(ROOT, 'scripts/pg-throwaway.sh'), 'stop', dir]);
  rmSync(dir, { recursive: true, force: true });
}
