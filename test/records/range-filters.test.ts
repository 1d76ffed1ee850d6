import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetPredicate, rangeExpression, rangeIndexName } from '../../src/records/range-filter.ts';
import { countUpTo, pageQuery } from '../../src/records/records.repo.ts';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { principals, startRecordsApp } from './records-app.ts';

type Who = Awaited<ReturnType<typeof principals>>;

/** A dataset of typed fields; `ranged` declares every typed field range-filterable. */
function typedDataset(id: string, ranged: boolean) {
  const filter = ranged ? { filter: 'range' } : {};
  return {
    id,
    title: `Typed ${id}`,
    ownerUnit: '32',
    fields: [
      { name: 'k', type: 'integer' },
      { name: 'amount', type: 'integer', ...filter },
      { name: 'score', type: 'number', ...filter },
      { name: 'day', type: 'date', ...filter },
      { name: 'at', type: 'datetime', ...filter },
      { name: 'note', type: 'string' },
    ],
  };
}

async function create(
  t: TestApp,
  who: Who,
  body: object,
  label: 'public' | 'restricted' | null = 'public',
): Promise<void> {
  const made = await t.request('POST', '/v1/datasets', { token: who.steward32, json: body });
  expect(made.status, made.text).toBe(201);
  if (!label) return;
  const id = (body as { id: string }).id;
  const labelled = await t.request('PUT', `/v1/datasets/${id}/label`, {
    token: who.steward32,
    json: { classification: label },
  });
  expect(labelled.status, labelled.text).toBe(200);
}

const field = (view: any, name: string) => view.fields.find((f: any) => f.name === name);

/** Waits until the field's range index reaches `status` (the builder runs in the background). */
async function indexStatus(t: TestApp, who: Who, id: string, name: string, status: string | null): Promise<any> {
  const until = Date.now() + 30_000;
  for (;;) {
    const got = await t.request('GET', `/v1/datasets/${id}`, { token: who.steward32 });
    const f = field(got.body, name);
    if ((f.rangeIndex?.status ?? null) === status) return f;
    if (Date.now() > until) throw new Error(`${id}.${name}: still ${JSON.stringify(f.rangeIndex)}, not ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function indexDef(t: TestApp, name: string): Promise<string | null> {
  const [row] = await t.db.sql<{ indexdef: string }[]>`select indexdef from pg_indexes where indexname = ${name}`;
  return row?.indexdef ?? null;
}

// ---- the generated records: values and bounds, datetimes written in many zones ----------------

const ZONES = ['Z', '+07:00', '+08:00', '+09:00', '-05:00', '+05:45', '-09:30', '+14:00', '-12:00'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const dateText = (d: Date) => `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
/** The instant `d` written as local time in `zone` (so one instant has many spellings). */
function datetimeText(d: Date, zone: string): string {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(zone);
  const offset = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  const local = new Date(d.getTime() + offset * 60_000);
  const ms = local.getUTCMilliseconds();
  return `${dateText(local)}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${ms ? `.${pad(ms, 3)}` : ''}${zone}`;
}
const instant = fc.date({
  min: new Date('1995-01-01T00:00:00Z'),
  max: new Date('2035-12-31T23:59:59Z'),
  noInvalidDate: true,
});
const valueArbs = {
  amount: fc.integer({ min: -60, max: 60 }),
  score: fc.oneof(
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.integer({ min: -5, max: 5 }).map((x) => x / 4),
  ),
  day: instant.map(dateText),
  at: fc.tuple(instant, fc.constantFrom(...ZONES)).map(([d, z]) => datetimeText(d, z)),
} as const;
type Ranged = keyof typeof valueArbs;
const RANGED = Object.keys(valueArbs) as Ranged[];
const OPS = ['gt', 'gte', 'lt', 'lte'] as const;

const recordArb = fc.record(
  {
    amount: fc.option(valueArbs.amount, { nil: null }),
    score: fc.option(valueArbs.score, { nil: null }),
    day: fc.option(valueArbs.day, { nil: null }),
    at: fc.option(valueArbs.at, { nil: null }),
  },
  { requiredKeys: [] },
);

/** The value as the filter compares it: numbers as numbers, dates as text, datetimes as instants. */
const comparable = (name: Ranged, v: unknown): number | string =>
  name === 'at' ? new Date(v as string).getTime() : name === 'day' ? (v as string) : (v as number);
const holds = (op: (typeof OPS)[number], a: number | string, b: number | string) =>
  op === 'gt' ? a > b : op === 'gte' ? a >= b : op === 'lt' ? a < b : a <= b;

describe.each(databaseKinds())('range-filterable fields on %s', (kind) => {
  let t: TestApp;
  let who: Who;
  const records = fc.sample(recordArb, { seed: 22, numRuns: 160 }).map((r, k) => ({ k, ...r, note: `n${k}` }));

  beforeAll(async () => {
    t = await startRecordsApp(kind, { RECORDS_RANGE_FILTERS_MAX: '4', RECORDS_RANGE_INDEX_RETRY_MS: '200' });
    who = await principals();
    await create(t, who, typedDataset('ranged', true));
    await create(t, who, typedDataset('plain', false));
    for (const id of ['ranged', 'plain']) {
      const r = await t.request('POST', `/v1/datasets/${id}/records`, { token: who.steward32, json: records });
      expect(r.status, r.text).toBe(201);
    }
    for (const name of RANGED) await indexStatus(t, who, 'ranged', name, 'ready');
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('declaring a field range-filterable builds an index partial on its dataset, over the expression the filter compares', async () => {
    for (const name of RANGED) {
      const def = await indexDef(t, rangeIndexName('ranged', name));
      expect(def, name).not.toBeNull();
      expect(def).toContain(`WHERE (dataset_id = 'ranged'::text)`);
      // The index's expression is the filter's: the same key, cast or collation (a top-level
      // COLLATE becomes the index column's collation).
      const [made] = await t.db.sql<{ expr: string; collation: string | null }[]>`
        select pg_get_expr(x.indexprs, x.indrelid) as expr, coll.collname as collation
        from pg_index x join pg_class c on c.oid = x.indexrelid left join pg_collation coll on coll.oid = x.indcollation[0]
        where c.relname = ${rangeIndexName('ranged', name)}`;
      expect(made!.expr).toContain(`data ->> '${name}'::text`);
      if (name === 'amount' || name === 'score') expect(made!.expr).toContain('::numeric');
      else expect(made!.collation).toBe('C');
    }
    const got = await t.request('GET', '/v1/datasets/ranged', { token: who.steward32 });
    expect(field(got.body, 'amount')).toMatchObject({ filter: 'range', rangeIndex: { status: 'ready', error: null } });
    expect(field(got.body, 'note')).toMatchObject({ filter: 'equality', rangeIndex: null });
    const plain = await t.request('GET', '/v1/datasets/plain', { token: who.steward32 });
    expect(field(plain.body, 'amount')).toMatchObject({ filter: 'equality', rangeIndex: null });
    expect(await indexDef(t, rangeIndexName('plain', 'amount'))).toBeNull();
  });

  it('the declaration is in the audit log as a catalog change', async () => {
    const rows = await t.db.sql<{ details: any }[]>`
      select details from audit_entry where event = 'catalog_change' and resource_id = 'ranged' and action = 'create'`;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.details.rangeFiltersDeclared).toEqual(['amount', 'score', 'day', 'at']);
  });

  it('range filters answer the same with and without the index, and as computed by hand (fast-check)', async () => {
    const bound = (name: Ranged) => valueArbs[name] as fc.Arbitrary<string | number>;
    const existing = (name: Ranged) =>
      records.map((r) => r[name]).filter((v): v is NonNullable<typeof v> => v !== null && v !== undefined);
    const filterArb = fc.constantFrom(...RANGED).chain((name) =>
      fc.record({
        name: fc.constant(name),
        op: fc.constantFrom(...OPS),
        value: fc.oneof(bound(name), fc.constantFrom(...(existing(name) as (string | number)[]))),
      }),
    );
    const read = async (id: string, filters: { name: Ranged; op: string; value: string | number }[], limit: number) => {
      const query = filters.map((f) => `${f.name}[${f.op}]=${encodeURIComponent(String(f.value))}`).join('&');
      const ks: number[] = [];
      let cursor = '';
      for (let pages = 0; pages < 200; pages++) {
        const r = await t.request('GET', `/v1/datasets/${id}/records?${query}&limit=${limit}${cursor}`, {
          token: who.staff32,
        });
        expect(r.status, r.text).toBe(200);
        ks.push(...r.body.items.map((x: { k: number }) => x.k));
        if (!r.body.nextCursor) return ks;
        cursor = `&cursor=${r.body.nextCursor}`;
      }
      throw new Error('too many pages');
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(filterArb, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 5, max: 200 }),
        async (filters, limit) => {
          const expected = records
            .filter((r) =>
              filters.every((f) => {
                const v = r[f.name];
                if (v === null || v === undefined) return false;
                const b = f.name === 'at' ? new Date(String(f.value)).getTime() : f.value;
                return holds(f.op, comparable(f.name, v), b);
              }),
            )
            .map((r) => r.k);
          expect(await read('ranged', filters, limit)).toEqual(expected);
          expect(await read('plain', filters, limit)).toEqual(expected);
        },
      ),
      { numRuns: 40, seed: 2222 },
    );
  }, 120_000);

  it('ill-formed declarations are refused whole (400), and nothing is written', async () => {
    const before = await t.request('GET', '/v1/datasets/plain', { token: who.steward32 });
    const bad = [
      [{ name: 'note', type: 'string', filter: 'range' }],
      [{ name: 'amount', type: 'integer', filter: 'fast' }],
      [{ name: 'flag', type: 'boolean', filter: 'range' }],
      [
        { name: 'amount', type: 'integer', filter: 'range' },
        { name: 'note', type: 'string', filter: 'range' },
      ],
    ];
    for (const fields of bad) {
      const r = await t.request('PATCH', '/v1/datasets/plain', {
        token: who.steward32,
        headers: { 'if-match': '*' },
        json: { fields },
      });
      expect(r.status, r.text).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.body.code).toBe('VALIDATION_FAILED');
    }
    const made = await t.request('POST', '/v1/datasets', {
      token: who.steward32,
      json: { ...typedDataset('never-made', false), fields: [{ name: 'note', type: 'string', filter: 'range' }] },
    });
    expect(made.status, made.text).toBe(400);
    const after = await t.request('GET', '/v1/datasets/plain', { token: who.steward32 });
    expect(after.body).toEqual(before.body);
    expect((await t.request('GET', '/v1/datasets/never-made', { token: who.steward32 })).status).toBe(404);
  });

  it('more range-filterable fields than RECORDS_RANGE_FILTERS_MAX answer 422 RANGE_FILTER_LIMIT, writing nothing', async () => {
    const before = await t.request('GET', '/v1/datasets/ranged', { token: who.steward32 });
    const r = await t.request('PATCH', '/v1/datasets/ranged', {
      token: who.steward32,
      headers: { 'if-match': '*' },
      json: { title: 'renamed', fields: [{ name: 'k', type: 'integer', filter: 'range' }] },
    });
    expect(r.status, r.text).toBe(422);
    expect(r.body.code).toBe('RANGE_FILTER_LIMIT');
    const after = await t.request('GET', '/v1/datasets/ranged', { token: who.steward32 });
    expect(after.body).toEqual(before.body);
    const five = typedDataset('five', true);
    five.fields.push({ name: 'extra', type: 'number', filter: 'range' });
    const made = await t.request('POST', '/v1/datasets', { token: who.steward32, json: five });
    expect(made.status, made.text).toBe(422);
    expect(made.body.code).toBe('RANGE_FILTER_LIMIT');
    expect((await t.request('GET', '/v1/datasets/five', { token: who.steward32 })).status).toBe(404);
    expect(await indexDef(t, rangeIndexName('five', 'amount'))).toBeNull();
  });

  it('a build that fails is shown as failed with its reason, leaves no index, and is retried', async () => {
    await create(t, who, typedDataset('fragile', false));
    // A value the index's cast refuses (ingest never writes one; an old import might have).
    await t.db
      .sql`insert into records (dataset_id, unit, data) values ('fragile', '32', ${t.db.sql.json({ amount: 'twelve' })})`;
    const r = await t.request('PATCH', '/v1/datasets/fragile', {
      token: who.steward32,
      headers: { 'if-match': '*' },
      json: { fields: [{ name: 'amount', type: 'integer', filter: 'range' }] },
    });
    expect(r.status, r.text).toBe(200);
    const failed = await indexStatus(t, who, 'fragile', 'amount', 'failed');
    expect(failed.rangeIndex.error).toMatch(/numeric/);
    expect(await indexDef(t, rangeIndexName('fragile', 'amount'))).toBeNull();
    await t.db.sql`delete from records where dataset_id = 'fragile'`;
    await indexStatus(t, who, 'fragile', 'amount', 'ready');
    expect(await indexDef(t, rangeIndexName('fragile', 'amount'))).not.toBeNull();
  });

  it('a dataset that is gone takes its indexes with it', async () => {
    // The API deletes no dataset (its label history is append-only); one removed by an operator
    // (unlabelled, no records) loses its declarations with its fields, and the builder its indexes.
    await create(t, who, typedDataset('gone', true), null);
    for (const field of RANGED) await indexStatus(t, who, 'gone', field, 'ready');
    await t.db.sql`delete from datasets where id = 'gone'`;
    const names = RANGED.map((f) => rangeIndexName('gone', f));
    const until = Date.now() + 30_000;
    while ((await t.db.sql`select 1 from pg_indexes where indexname in ${t.db.sql(names)}`).length) {
      if (Date.now() > until) throw new Error('the indexes of a deleted dataset were not dropped');
      await new Promise((res) => setTimeout(res, 50));
    }
    for (const field of RANGED) expect(await indexDef(t, rangeIndexName('gone', field))).toBeNull();
    expect(await t.db.sql`select 1 from record_range_indexes where dataset_id = 'gone'`).toHaveLength(0);
  });

  it('a build whose builder stopped mid-way (claimed, nothing building) is taken over', async () => {
    await create(t, who, typedDataset('stuck', true));
    // All built: a DROP INDEX in a transaction would deadlock with a concurrent build.
    for (const field of RANGED) await indexStatus(t, who, 'stuck', field, 'ready');
    const name = rangeIndexName('stuck', 'amount');
    // What a process killed during its build leaves: the claim, and no index (or an invalid one).
    await t.db.sql.begin(async (tx) => {
      await tx.unsafe(`drop index ${name}`);
      await tx`update record_range_indexes set status = 'building', updated_at = now() - interval '2 minutes'
        where dataset_id = 'stuck' and field = 'amount'`;
    });
    await indexStatus(t, who, 'stuck', 'amount', 'ready');
    expect(await indexDef(t, name)).not.toBeNull();
  });

  it('removing the declaration drops the index (and the filter still answers, walking the dataset)', async () => {
    await create(t, who, typedDataset('dropped', true));
    await t.request('POST', '/v1/datasets/dropped/records', { token: who.steward32, json: records });
    await indexStatus(t, who, 'dropped', 'amount', 'ready');
    const withIndex = await t.request('GET', '/v1/datasets/dropped/records?amount[gte]=10&limit=1000', {
      token: who.staff32,
    });
    const r = await t.request('PATCH', '/v1/datasets/dropped', {
      token: who.steward32,
      headers: { 'if-match': '*' },
      json: { fields: [{ name: 'amount', type: 'integer', filter: 'equality' }] },
    });
    expect(r.status, r.text).toBe(200);
    expect(field(r.body, 'amount')).toMatchObject({ filter: 'equality', rangeIndex: null });
    const until = Date.now() + 30_000;
    while ((await indexDef(t, rangeIndexName('dropped', 'amount'))) !== null) {
      if (Date.now() > until) throw new Error('the index was not dropped');
      await new Promise((res) => setTimeout(res, 50));
    }
    const rows = await t.db.sql`select 1 from record_range_indexes where dataset_id = 'dropped' and field = 'amount'`;
    expect(rows).toHaveLength(0);
    // The other declarations keep their indexes.
    expect(await indexDef(t, rangeIndexName('dropped', 'day'))).not.toBeNull();
    const entries = await t.db.sql<{ details: any }[]>`
      select details from audit_entry where event = 'catalog_change' and resource_id = 'dropped' and action = 'update'`;
    expect(entries.map((e) => [e.details.rangeFiltersDeclared, e.details.rangeFiltersRemoved])).toEqual([
      [undefined, ['amount']],
    ]);
    const without = await t.request('GET', '/v1/datasets/dropped/records?amount[gte]=10&limit=1000', {
      token: who.staff32,
    });
    expect(without.body.items).toEqual(withIndex.body.items);
    expect(without.body.items.length).toBeGreaterThan(0);
  });
});

describe.runIf(databaseKinds().includes('postgres'))('range filters at 20 000 records on postgres', () => {
  let t: TestApp;
  let who: Who;
  const N = 20_000;
  beforeAll(async () => {
    t = await startRecordsApp('postgres');
    who = await principals();
    await create(t, who, typedDataset('big', true));
    await create(t, who, typedDataset('scoped', true), 'restricted');
    // Built before the rows arrive: a manual ANALYZE waits on a concurrent build's lock (and the
    // build on it), which the database breaks as a deadlock.
    for (const id of ['big', 'scoped']) for (const name of RANGED) await indexStatus(t, who, id, name, 'ready');
    // Restricted records, half of them in another province's office (as an old import might have
    // left them): row scope keeps a reader of 32 to the records of its subtree.
    await t.db.sql`
      insert into records (dataset_id, unit, data)
      select 'scoped', case when i % 2 = 0 then '32.01' else '33.01' end, jsonb_build_object('k', i, 'amount', i)
      from generate_series(1, ${N}::int) as i`;
    await t.db.sql`
      insert into records (dataset_id, unit, data)
      select 'big', '32', jsonb_build_object('k', i, 'amount', i, 'score', i / 4.0,
        'day', to_char(date '2000-01-01' + i, 'YYYY-MM-DD'), 'note', 'n' || i)
      from generate_series(1, ${N}::int) as i`;
    await t.db.sql`analyze records`;
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const explain = async (q: ReturnType<typeof pageQuery>) =>
    (await t.db.sql<{ 'QUERY PLAN': string }[]>`explain ${q}`).map((r) => r['QUERY PLAN']).join('\n');

  it('EXPLAIN: the read of a selective range and its probe use the field’s index', async () => {
    const { sql } = t.db;
    const cmp = sql`${sql.unsafe(datasetPredicate('big', 'r.dataset_id'))} and ${sql.unsafe(rangeExpression('amount', 'integer', 'r.data'))} >= ${'19990'}::numeric`;
    const page = pageQuery(sql, {
      datasetId: 'big',
      afterSeq: 0n,
      where: sql`true and ${cmp}`,
      limit: 101,
      columns: [{ name: 'k', type: 'integer' }],
      indexFirst: true,
    });
    expect(await explain(page)).toContain(rangeIndexName('big', 'amount'));
    const along = sql`${sql.unsafe(rangeExpression('amount', 'integer', 'r.data'))}`;
    const probe = sql`select count(*) from (select 1 from records r where r.dataset_id = ${'big'} and ${cmp} order by ${along} limit 5000) m`;
    expect(await explain(probe)).toContain(rangeIndexName('big', 'amount'));
    expect(await countUpTo(sql, 'big', cmp, 5000, along)).toBe(11);
    const day = sql`${sql.unsafe(datasetPredicate('big', 'r.dataset_id'))} and ${sql.unsafe(rangeExpression('day', 'date', 'r.data'))} < ${'2000-01-05'}::text`;
    const dayPage = pageQuery(sql, {
      datasetId: 'big',
      afterSeq: 0n,
      where: day,
      limit: 101,
      columns: [],
      indexFirst: true,
    });
    expect(await explain(dayPage)).toContain(rangeIndexName('big', 'day'));
  });

  it('a selective range read over HTTP is answered through the index (its scan counter moves); a wide one walks in order', async () => {
    const name = rangeIndexName('big', 'amount');
    const scans = async (index = name) => {
      await t.db.sql`select pg_stat_clear_snapshot()`;
      const [row] = await t.db.sql<
        { n: string }[]
      >`select idx_scan::text as n from pg_stat_user_indexes where indexrelname = ${index}`;
      return Number(row!.n);
    };
    const before = await scans();
    const r = await t.request('GET', '/v1/datasets/big/records?amount[gte]=19990&amount[lt]=19995', {
      token: who.staff32,
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.items.map((x: { k: number }) => x.k)).toEqual([19990, 19991, 19992, 19993, 19994]);
    const until = Date.now() + 20_000;
    while ((await scans()) < before + 2) {
      if (Date.now() > until) throw new Error('the index was not scanned');
      await new Promise((res) => setTimeout(res, 200));
    }
    // Row scope (the policies' plan as SQL) stays in the same WHERE: still through the index.
    // (Two scans a read: the count that chooses the plan, then the page; a walk would leave one.)
    const scopedName = rangeIndexName('scoped', 'amount');
    const scopedBefore = await scans(scopedName);
    const scoped = await t.request('GET', '/v1/datasets/scoped/records?amount[gt]=19990', { token: who.staff32 });
    expect(scoped.status, scoped.text).toBe(200);
    expect(scoped.body.items.map((x: { k: number }) => x.k)).toEqual([19992, 19994, 19996, 19998, 20000]);
    for (const until = Date.now() + 20_000; (await scans(scopedName)) < scopedBefore + 2;) {
      if (Date.now() > until) throw new Error('the index was not scanned under row scope');
      await new Promise((res) => setTimeout(res, 200));
    }
    const wide = await t.request('GET', '/v1/datasets/big/records?amount[gte]=0&limit=100', { token: who.staff32 });
    expect(wide.body.items.map((x: { k: number }) => x.k)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const dates = await t.request('GET', '/v1/datasets/big/records?day[gt]=2054-09-01', { token: who.staff32 });
    expect(dates.body.items.map((x: { day: string }) => x.day).every((d: string) => d > '2054-09-01')).toBe(true);
    expect(dates.body.items.length).toBeGreaterThan(0);
  });
});
