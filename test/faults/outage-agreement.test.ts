import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { killableJaga } from '../helpers/process.ts';
import { reports, reportsDataset, tokenFor } from '../records/records-app.ts';
import { Cluster } from './cluster.ts';

// The database deadline under test (DATABASE_DEADLINE_MS); answers may take it plus scheduling slack.
const DEADLINE_MS = 2000;
const SLACK_MS = 1500;
const DATASET = 'laporan-pks';
const PURPOSE = 'verifikasi-laporan';
const PAGE = 20;

const csv = (rows: Record<string, unknown>[]) => {
  const cols = Object.keys(rows[0]!);
  return [cols.join(','), ...rows.map((r) => cols.map((c) => String(r[c] ?? '')).join(','))].join('\n') + '\n';
};

interface Read {
  status: number | 'timeout' | 'network';
  ms: number;
  rows: number;
  decisionId: string | null;
}

/**
 * PostgreSQL stopped, or frozen, under a running Jaga while partner systems read under an agreement
 * with a row limit: every read answers within the database deadline (200 or 503, never a 500), and
 * the agreement's row counter holds exactly the rows that left, each with its disclosure entry — the
 * allowance, the rows and the entry commit together (src/records/read.service.ts).
 */
describe.runIf(databaseKinds().includes('postgres'))('PostgreSQL outages during agreement row-limit reads', () => {
  let cluster: Cluster;
  let base: string;
  const jaga = killableJaga(() => ({
    DATABASE_URL: cluster.url,
    DATABASE_POOL_MAX: '4',
    DATABASE_DEADLINE_MS: String(DEADLINE_MS),
    JWT_SECRET: TEST_JWT_SECRET,
    AUDIT_HMAC_KEY: 'fault-suite-hmac-key-0123456789abcdef',
  }));
  let partner: string;
  let agreementId: string;
  const received: Read[] = [];
  let refunds = 0;
  /** Reads committed whose acknowledgement a fast stop lost (see expectCountedExactly). */
  const lostAcks: { id: string; rows: number }[] = [];

  const api = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(typeof body === 'string'
          ? { 'content-type': 'text/csv' }
          : body !== undefined
            ? { 'content-type': 'application/json' }
            : {}),
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
  };
  const read = async (): Promise<Read> => {
    const started = performance.now();
    try {
      const res = await fetch(`${base}/v1/datasets/${DATASET}/records?limit=${PAGE}`, {
        headers: { authorization: `Bearer ${partner}`, 'x-purpose': PURPOSE },
        signal: AbortSignal.timeout(DEADLINE_MS + SLACK_MS + 2000),
      });
      const text = await res.text();
      const rows = res.status === 200 ? (JSON.parse(text) as { items: unknown[] }).items.length : 0;
      return {
        status: res.status,
        ms: performance.now() - started,
        rows,
        decisionId: res.headers.get('x-decision-id'),
      };
    } catch (error) {
      const status = (error as Error).name === 'TimeoutError' ? 'timeout' : 'network';
      return { status, ms: performance.now() - started, rows: 0, decisionId: null };
    }
  };
  /** Partner reads in a loop on `workers` connections until `until.stopped`. */
  const load = (workers: number, until: { stopped: boolean }, out: Read[]) =>
    Promise.all(
      Array.from({ length: workers }, async () => {
        while (!until.stopped) out.push(await read());
      }),
    );
  const alive = jaga.running;
  const counted = async () => {
    const sql = postgres(cluster.url, { max: 1, onnotice: () => {} });
    try {
      const [usage] = await sql<{ rows: number }[]>`
        select coalesce(sum(rows), 0)::int as rows from agreement_usage where agreement_id = ${agreementId}`;
      // Disclosures, less any that committed after their caller had its 503 (given back: `refunded`).
      const entries = await sql<{ id: string; rows: number }[]>`
        select e.id::text as id, coalesce(e.row_count, 0)::int as rows from audit_entry e
        where e.event = 'disclosure' and e.details->>'agreementId' = ${agreementId} and not (e.details ? 'completes')
          and not exists (
            select 1 from audit_entry c
            where c.event = 'disclosure' and c.details->>'completes' = e.id::text and c.details ? 'refunded')`;
      const [given] = await sql<{ n: number }[]>`
        select count(*)::int as n from audit_entry
        where event = 'disclosure' and details->>'agreementId' = ${agreementId} and details ? 'refunded'`;
      refunds = given!.n;
      return { usage: usage!.rows, entries };
    } finally {
      await sql.end();
    }
  };
  const checkBounds = (out: Read[]) => {
    expect(alive(), jaga.output()).toBe(true);
    const bad = out.filter(
      (o) => (o.status !== 200 && o.status !== 503) || o.ms > DEADLINE_MS + SLACK_MS || (o.status === 200 && !o.rows),
    );
    expect(bad, JSON.stringify(bad.slice(0, 5))).toEqual([]);
    expect(out.filter((o) => o.status === 503).length).toBeGreaterThan(0);
    received.push(...out.filter((o) => o.status === 200));
  };
  /** Reads until one is served again (that one left, so it is received). */
  const serving = async () => {
    const started = performance.now();
    while (performance.now() - started < 30_000) {
      const r = await read();
      if (r.status === 200) return void received.push(r);
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('Jaga did not serve again');
  };
  /**
   * The counter and the log hold exactly what the partner received: its rows, and one entry per read
   * it got. A read that committed after its 503 is given back in the background: allow it a moment.
   */
  const expectCountedExactly = async (lostAcksAllowedFrom: Read[] | null = null) => {
    const expectedOf = () => received.reduce((n, r) => n + r.rows, 0) + lostAcks.reduce((n, e) => n + e.rows, 0);
    let now = await counted();
    for (let i = 0; i < 50 && now.usage !== expectedOf(); i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = await counted();
    }
    if (lostAcksAllowedFrom && now.usage !== expectedOf()) {
      // The one case this cannot close (docs/agreements.md): a fast stop that ends a backend right
      // after its COMMIT is durable but before the acknowledgement reaches Jaga. The read's caller got
      // a 503 (not the deadline's), yet its rows and entry are committed. Allowed only here, only as
      // many as such 503s, and the counter must still equal the log.
      const known = new Set([...received.map((r) => r.decisionId), ...lostAcks.map((e) => e.id)]);
      const extra = now.entries.filter((e) => !known.has(e.id));
      expect(extra.length).toBeLessThanOrEqual(lostAcksAllowedFrom.filter((o) => o.status === 503).length);
      lostAcks.push(...extra);
    }
    expect(now.usage).toBe(expectedOf());
    expect(new Set(now.entries.map((e) => e.id))).toEqual(
      new Set([...received.map((r) => r.decisionId), ...lostAcks.map((e) => e.id)]),
    );
    expect(now.entries.reduce((n, e) => n + e.rows, 0)).toBe(now.usage);
  };

  beforeAll(async () => {
    cluster = new Cluster();
    base = await jaga.start();
    const steward = await tokenFor({ sub: 'steward-32', roles: ['steward'], unit: '32' });
    const ppid = await tokenFor({ sub: 'ppid-32', roles: ['ppid'], unit: '32' });
    const admin = await tokenFor({ sub: 'admin-1', roles: ['admin'], unit: 'RI' });
    partner = await tokenFor({ sub: 'svc-kpu', roles: ['service'], unit: '33', kind: 'service', purposes: [PURPOSE] });
    expect((await api('POST', '/v1/datasets', steward, reportsDataset(DATASET, '32'))).status).toBe(201);
    expect((await api('PUT', `/v1/datasets/${DATASET}/label`, steward, { classification: 'restricted' })).status).toBe(
      200,
    );
    expect((await api('POST', `/v1/datasets/${DATASET}/records`, steward, csv(reports(2000)))).status).toBe(201);
    const purpose = await api('POST', '/v1/purposes', admin, {
      id: PURPOSE,
      description: 'Verifikasi laporan oleh mitra',
      lawfulBasis: 'legal_obligation',
      recipients: ['Komisi Pemilihan Umum'],
    });
    expect(purpose.status).toBe(201);
    const drafted = await api('POST', '/v1/agreements', steward, {
      title: 'PKS Bawaslu–KPU',
      reference: 'PKS/09/2026',
      recipient: { agency: 'Komisi Pemilihan Umum', principals: ['svc-kpu'] },
      legalBasis: 'UU 7/2017 pasal 93',
      purposes: [PURPOSE],
      datasets: [{ id: DATASET, fields: { report_no: 'whole', category: 'whole', reporter_nik: 'masked' } }],
      validFrom: '2026-01-01',
      validTo: '2099-12-31',
      rowsPerDay: 1_000_000,
    });
    expect(drafted.status).toBe(201);
    agreementId = drafted.body.id as string;
    expect((await api('POST', `/v1/agreements/${agreementId}/approve`, ppid)).status).toBe(200);
    const first = await read();
    expect(first).toMatchObject({ status: 200, rows: PAGE });
    received.push(first);
  }, 60_000);

  afterAll(async () => {
    if (alive()) await jaga.kill9();
    cluster?.destroy();
  });

  it('a fast stop during the reads: each answers 200 or 503 within the deadline; the counter holds exactly the rows that left', async () => {
    const out: Read[] = [];
    const until = { stopped: false };
    const loading = load(6, until, out);
    await new Promise((r) => setTimeout(r, 700));
    cluster.halt('fast');
    await new Promise((r) => setTimeout(r, 2500));
    until.stopped = true;
    await loading;
    checkBounds(out);
    cluster.resume();
    await serving();
    await expectCountedExactly(out);
    if (lostAcks.length)
      console.log(`agreement outage: ${lostAcks.length} read(s) committed with the acknowledgement lost`);
  }, 60_000);

  it('a frozen database (SIGSTOP) during the reads: 503 within the deadline; after SIGCONT the counter still matches', async () => {
    const out: Read[] = [];
    const until = { stopped: false };
    const loading = load(6, until, out);
    await new Promise((r) => setTimeout(r, 500));
    cluster.signal('STOP');
    try {
      await new Promise((r) => setTimeout(r, DEADLINE_MS + 1000));
      until.stopped = true;
      await loading;
    } finally {
      cluster.signal('CONT');
    }
    checkBounds(out);
    await serving();
    // A read frozen mid-transaction goes on after the thaw with its caller already answered 503: it
    // rolls back, or (frozen in its commit) is given back; the counter and the log do not keep it.
    await expectCountedExactly();
    console.log(`agreement outage: ${received.length} reads received, ${refunds} given back after their commit`);
  }, 60_000);
});
