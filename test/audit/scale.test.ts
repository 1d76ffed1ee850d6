import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chain, queued } from '../../src/audit/audit.append.ts';
import { toEntryRow } from '../../src/audit/audit.entry.ts';
import type { AuditEntryInput } from '../../src/audit/audit.port.ts';
import { fromDb, insertEntriesGuarded, readHead, type DbEntry } from '../../src/audit/audit.repo.ts';
import { catchUpRollups, foldStep, rollupLag } from '../../src/audit/audit.rollup.ts';
import type { AuditItem, DisclosureRow } from '../../src/audit/audit.schema.ts';
import { boot, type Booted } from '../../src/boot.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { ChainedRow } from '../../src/audit/audit.entry.ts';
import { connectNodePostgres } from '../../src/db/open.ts';
import { isWithin } from '../../src/shared/unit-code.ts';
import { createLogger } from '../../src/system/logger.ts';
import { startApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { entry, getAs, tokenFor } from './helpers.ts';

const KEY = 'audit-hmac-key-audit-hmac-key-0123456789';
const auditor = await tokenFor('aud-1', ['auditor']);

// Units of the real hierarchy, and codes that only look related ('320' is not within '32').
const UNITS = [null, 'RI', '32', '32.01', '32.01.04', '32.01.04.2001', '32.02', '33', '33.01.04', '320'];
const EVENTS = ['decision', 'decision', 'decision', 'disclosure', 'label_change'] as const;

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

function seedEntry(i: number, rnd: () => number): AuditEntryInput {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const event = pick(EVENTS);
  const whole = pick([[], ['kecamatan'], ['nama', 'kecamatan']]);
  const masked = pick([[], ['nik']]);
  const withPersonal = rnd() < 0.5;
  return entry({
    event,
    principal: { sub: `p-${i % 7}`, kind: 'user', roles: ['staff'], unit: pick(UNITS) },
    resource: {
      type: 'Dataset',
      id: `ds-${i % 5}`,
      classification: pick(['public', 'restricted', 'exempt']),
      unit: pick(UNITS),
    },
    effect: rnd() < 0.2 ? 'deny' : 'allow',
    action: pick(['read', 'label', 'export']),
    purpose: rnd() < 0.5 ? null : pick(['supervision', 'statistik']),
    fields: { whole, masked, omitted: [] },
    rowCount: Math.floor(rnd() * 50),
    requestId: `s-${i}`,
    // Half say which fields are personal data, as records reads do; the rest are counted whole-field.
    ...(withPersonal ? { details: { personal: ['nama', 'nik'] } } : {}),
  });
}

/** Writes one batch at a chosen time through the writer's own statement (chain, minute map, rollup). */
async function batchAt(t: TestApp, at: Date, inputs: AuditEntryInput[]): Promise<ChainedRow[]> {
  const head = await readHead(t.db.sql);
  const rows = chain(
    inputs.map((e) => queued(toEntryRow(e))),
    head,
    at,
    KEY,
  );
  const [r] = await insertEntriesGuarded(t.db.sql, rows, head);
  expect(r?.n).toBe(rows.length);
  return rows;
}

async function allEntries(t: TestApp): Promise<ChainedRow[]> {
  return (await t.db.sql<DbEntry[]>`select * from audit_entry order by seq`).map(fromDb);
}

/** Every page of a read, following nextCursor. */
async function pages(t: TestApp, token: string, path: string): Promise<AuditItem[]> {
  const items: AuditItem[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await getAs(t, token, `${path}${sep}limit=37${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status, res.text).toBe(200);
    items.push(...(res.body.items as AuditItem[]));
    cursor = res.body.nextCursor as string | null;
  } while (cursor);
  return items;
}

const personalOf = (fields: string[], details: Record<string, unknown>) =>
  Array.isArray(details.personal) ? fields.filter((f) => (details.personal as string[]).includes(f)) : fields;

/**
 * The rollup recomputed from the log in memory: what audit_rollup (per day) or audit_rollup_month
 * (per month) must hold, keyed the same way.
 */
function recompute(
  entries: ChainedRow[],
  level: 'day' | 'month' = 'day',
): Map<string, { entries: number; rows: number; first: number; last: number }> {
  const out = new Map<string, { entries: number; rows: number; first: number; last: number }>();
  for (const e of entries) {
    const denied = e.effect === 'deny';
    if (!denied && e.event !== 'disclosure') continue;
    const pw = denied ? [] : personalOf(e.fieldsWhole, e.details);
    const pm = denied ? [] : personalOf(e.fieldsMasked, e.details);
    if (!denied && !pw.length && !pm.length) continue;
    const key = JSON.stringify([
      level === 'day' ? e.at.toISOString().slice(0, 10) : e.at.toISOString().slice(0, 7) + '-01',
      denied ? 'denied' : 'disclosure',
      e.principalSub,
      e.principalKind,
      e.principalUnit,
      e.resourceUnit,
      e.datasetId,
      denied ? null : e.purpose,
      e.action,
      pw,
      pm,
    ]);
    const r = out.get(key) ?? { entries: 0, rows: 0, first: Infinity, last: -Infinity };
    r.entries += 1;
    r.rows += e.rowCount ?? 0;
    r.first = Math.min(r.first, e.at.getTime());
    r.last = Math.max(r.last, e.at.getTime());
    out.set(key, r);
  }
  return out;
}

/** audit_denied_month recomputed from the log: per month and principal, attempts, distinct datasets and actions. */
function recomputeDenied(entries: ChainedRow[]) {
  const out = new Map<
    string,
    { attempts: number; datasets: Set<string>; actions: Set<string>; first: number; last: number }
  >();
  for (const e of entries) {
    if (e.effect !== 'deny') continue;
    const key = JSON.stringify([
      e.at.toISOString().slice(0, 7) + '-01',
      e.principalSub,
      e.principalKind,
      e.principalUnit,
    ]);
    const r = out.get(key) ?? {
      attempts: 0,
      datasets: new Set(),
      actions: new Set(),
      first: Infinity,
      last: -Infinity,
    };
    r.attempts += 1;
    if (e.datasetId !== null) r.datasets.add(e.datasetId);
    r.actions.add(e.action);
    r.first = Math.min(r.first, e.at.getTime());
    r.last = Math.max(r.last, e.at.getTime());
    out.set(key, r);
  }
  return new Map(
    [...out].map(([k, r]) => [
      k,
      {
        attempts: r.attempts,
        datasets: [...r.datasets].sort(),
        actions: [...r.actions].sort(),
        first: r.first,
        last: r.last,
      },
    ]),
  );
}

async function storedDenied(t: TestApp) {
  const rows = await t.db.sql<
    {
      month_text: string;
      principal_sub: string | null;
      principal_kind: string;
      principal_unit: string | null;
      attempts: string;
      datasets: string[];
      actions: string[];
      first_at: Date;
      last_at: Date;
    }[]
  >`select *, to_char(month, 'YYYY-MM-DD') as month_text from audit_denied_month`;
  return new Map(
    rows.map((r) => [
      JSON.stringify([r.month_text, r.principal_sub, r.principal_kind, r.principal_unit]),
      {
        attempts: Number(r.attempts),
        datasets: r.datasets,
        actions: r.actions,
        first: r.first_at.getTime(),
        last: r.last_at.getTime(),
      },
    ]),
  );
}

async function storedRollup(t: TestApp, level: 'day' | 'month' = 'day') {
  const rows = await t.db.sql<
    {
      day_text: string;
      kind: string;
      principal_sub: string | null;
      principal_kind: string;
      principal_unit: string | null;
      resource_unit: string | null;
      dataset_id: string | null;
      purpose: string | null;
      action: string;
      personal_whole: string[];
      personal_masked: string[];
      entries: string;
      rows: string;
      first_at: Date;
      last_at: Date;
    }[]
  >`select *, to_char(${level === 'day' ? t.db.sql`day` : t.db.sql`month`}, 'YYYY-MM-DD') as day_text
    from ${level === 'day' ? t.db.sql`audit_rollup` : t.db.sql`audit_rollup_month`}`;
  return new Map(
    rows.map((r) => [
      JSON.stringify([
        r.day_text,
        r.kind,
        r.principal_sub,
        r.principal_kind,
        r.principal_unit,
        r.resource_unit,
        r.dataset_id,
        r.purpose,
        r.action,
        r.personal_whole,
        r.personal_masked,
      ]),
      { entries: Number(r.entries), rows: Number(r.rows), first: r.first_at.getTime(), last: r.last_at.getTime() },
    ]),
  );
}

describe.each(databaseKinds())('the audit log at scale on %s', (kind) => {
  let t: TestApp;
  let second: Booted | undefined;
  // Around a month's end (a partition boundary, and a day's): the partitions exist ahead of time.
  const boundary = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 2, 1));
  const times = [-90_000, -30_000, -1, 0, 1, 59_999, 60_000, 150_000].map((d) => new Date(boundary.getTime() + d));
  const DAY = 86_400_000;
  // Batches in the middle of the month before the boundary and of the month after it.
  const midBefore = new Date(boundary.getTime() - 15 * DAY);
  const midAfter = new Date(boundary.getTime() + 10 * DAY);
  let url: string | undefined;

  beforeAll(async () => {
    // The catch-up job runs only when a test says so here (the second instance runs its own).
    t = await startApp(kind, { AUDIT_HMAC_KEY: KEY, AUDIT_FLUSH_MAX: '16', AUDIT_ROLLUP_INTERVAL_MS: '0' });
    const rnd = random(22);
    const log = t.deps.services.audit;
    // Now: concurrent clients through the writer (PostgreSQL: and a second instance on the same database).
    url = (t.db as { url?: string }).url;
    const instance = () =>
      boot({
        config: loadConfig({
          LOG_LEVEL: 'silent',
          JWT_SECRET: TEST_JWT_SECRET,
          DATABASE_URL: url!,
          AUDIT_HMAC_KEY: KEY,
        }),
        db: connectNodePostgres(url!, { max: 4 }),
        logger: createLogger('silent'),
      });
    if (kind === 'postgres') second = await instance();
    const logs = second ? [log, second.deps.services.audit] : [log];
    let n = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, client) => {
        for (let i = 0; i < 25; i++) {
          const e = seedEntry(n++, rnd);
          const to = logs[client % logs.length]!;
          if (i % 3 === 0) await to.appendDurable(e);
          else await to.append(e);
        }
      }),
    );
    // A restart (PostgreSQL; an in-memory PGlite cannot outlive its process): the second instance
    // stops, flushing what it queued, and a new one writes on from the head it finds.
    if (second) {
      await second.close();
      second = await instance();
      for (let i = 0; i < 20; i++) await second.deps.services.audit.append(seedEntry(n++, rnd));
      await second.close();
      second = undefined;
    } else for (let i = 0; i < 20; i++) await log.append(seedEntry(n++, rnd));
    await log.appendDurable(entry({ requestId: 'flush' })); // everything queued before it is written
    // Then batches written across the boundary, one time per batch.
    for (const [j, at] of [midBefore, ...times, midAfter].entries())
      await batchAt(
        t,
        at,
        Array.from({ length: 5 }, (_, k) => seedEntry(1000 + j * 5 + k, rnd)),
      );
  });
  afterAll(async () => {
    await second?.close();
    await t.close();
  });

  it('keeps both rollup levels equal to a recomputation from the log, after concurrent writers and catch-ups, a restart and a month boundary', async () => {
    // Catch-ups in small steps from two clients at once (PostgreSQL: two connection pools, as two
    // instances have); on PGlite they interleave on its one connection.
    const other = kind === 'postgres' ? connectNodePostgres(url!, { max: 2 }) : undefined;
    try {
      await Promise.all([
        catchUpRollups(t.db.sql, { chunk: 7 }),
        catchUpRollups((other ?? t.db).sql, { chunk: 11 }),
        catchUpRollups(t.db.sql, { chunk: 13 }),
      ]);
    } finally {
      await other?.close();
    }
    await catchUpRollups(t.db.sql); // whatever a run that found the mark taken left
    expect(await rollupLag(t.db.sql)).toBe(0);
    const entries = await allEntries(t);
    expect(entries.filter((e) => e.requestId?.startsWith('s-')).length).toBe(220 + (times.length + 2) * 5);
    expect(new Set(entries.map((e) => e.at.toISOString().slice(0, 7))).size).toBeGreaterThanOrEqual(3);
    const expected = recompute(entries);
    expect(expected.size).toBeGreaterThan(20);
    expect(await storedRollup(t)).toEqual(expected);
    expect(await storedRollup(t, 'month')).toEqual(recompute(entries, 'month'));
    expect(await storedDenied(t)).toEqual(recomputeDenied(entries));
  });

  it('answers a PPID exactly what the unscoped log filtered by hand holds, and unit= likewise', async () => {
    const seeded = (await allEntries(t)).filter((e) => e.requestId?.startsWith('s-') && e.at < boundary);
    const from = '2000-01-01';
    for (const unit of ['32', '32.01', '32.01.04', '33', 'RI']) {
      const inScope = (e: ChainedRow) =>
        isWithin(e.principalUnit ?? 'RI', unit) || isWithin(e.resourceUnit ?? 'RI', unit);
      const want = seeded.filter(inScope).map((e) => e.seq);
      const ppid = await tokenFor(`ppid-${unit}`, ['ppid'], unit);
      const got = (await pages(t, ppid, `/v1/audit/decisions?from=${from}&to=${boundary.toISOString()}`))
        .filter((i) => i.requestId?.startsWith('s-'))
        .map((i) => i.seq);
      expect(got, `ppid of ${unit}`).toEqual(want);
      const byUnit = (await pages(t, auditor, `/v1/audit/decisions?unit=${unit}&from=${from}`))
        .filter((i) => i.requestId?.startsWith('s-') && new Date(i.at) < boundary)
        .map((i) => i.seq);
      expect(byUnit, `unit=${unit}`).toEqual(want);
    }
  });

  it('answers rare filters exactly', async () => {
    const seeded = (await allEntries(t)).filter((e) => e.requestId?.startsWith('s-'));
    const cases: [string, (e: ChainedRow) => boolean][] = [
      ['event=label_change', (e) => e.event === 'label_change'],
      ['event=decision', (e) => e.event === 'decision'],
      ['event=disclosure', (e) => e.event === 'disclosure'],
      ['effect=deny', (e) => e.effect === 'deny'],
      ['purpose=statistik', (e) => e.purpose === 'statistik'],
      ['classification=exempt', (e) => e.classification === 'exempt'],
      ['classification=public&action=label', (e) => e.classification === 'public' && e.action === 'label'],
    ];
    for (const [q, keep] of cases) {
      const got = (await pages(t, auditor, `/v1/audit/decisions?${q}&from=2000-01-01`))
        .filter((i) => i.requestId?.startsWith('s-'))
        .map((i) => i.seq);
      expect(got, q).toEqual(seeded.filter(keep).map((e) => e.seq));
    }
  });

  it('answers time ranges with exactly the entries in the window, across the partition boundary', async () => {
    const entries = await allEntries(t);
    const windows: [Date, Date][] = [];
    for (const a of times) for (const b of times) if (a < b) windows.push([a, b]);
    windows.push([new Date(boundary.getTime() - 1), new Date(boundary.getTime() + 1)]);
    windows.push([new Date(0), new Date(boundary.getTime())]);
    for (const [from, to] of windows.filter((_, i) => i % 3 === 0)) {
      const got = (
        await pages(t, auditor, `/v1/audit/decisions?from=${from.toISOString()}&to=${to.toISOString()}`)
      ).map((i) => i.seq);
      const want = entries.filter((e) => e.at >= from && e.at < to).map((e) => e.seq);
      expect(got, `${from.toISOString()} .. ${to.toISOString()}`).toEqual(want);
    }
  });

  it('narrows a read without an anchor to the recent window and says so', async () => {
    const res = await getAs(t, auditor, '/v1/audit/decisions?limit=5');
    expect(res.body.window).toMatchObject({ reason: expect.stringContaining('7 days') });
    expect(res.headers.get('jaga-audit-window')).toBe(`from=${res.body.window.from}`);
    expect(Date.now() - Date.parse(res.body.window.from)).toBeGreaterThanOrEqual(7 * 86_400_000 - 60_000);
    // Entries written "in the future" (the boundary batches) are inside it; with an anchor there is no window.
    expect((await getAs(t, auditor, '/v1/audit/decisions?principal=p-1&limit=5')).body.window).toBeUndefined();
    // The read records the window it was given.
    const csv = await getAs(t, auditor, '/v1/audit/decisions?event=label_change', { accept: 'text/csv' });
    expect(csv.headers.get('jaga-audit-window')).toMatch(/^from=/);
  });

  it('bounds reports by a period of whole days, at most a year, and reports the one it used', async () => {
    const month = await getAs(t, auditor, '/v1/audit/reports/denied');
    const now = new Date();
    expect(month.body.from).toBe(
      new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString().slice(0, 10),
    );
    for (const q of ['from=2026-01-01&to=2027-06-01', 'from=2026-01-01T10:00:00Z', 'from=2026-02-01&to=2026-01-01']) {
      const bad = await getAs(t, auditor, `/v1/audit/reports/disclosures?${q}`);
      expect(bad.status, q).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
    }
    // Across the boundary: the report from the rollup equals the log counted by hand.
    const from = new Date(boundary.getTime() - 86_400_000).toISOString().slice(0, 10);
    const to = new Date(boundary.getTime() + 86_400_000).toISOString().slice(0, 10);
    const report = await getAs(t, auditor, `/v1/audit/reports/denied?from=${from}&to=${to}`);
    expect(report.headers.get('jaga-report-period')).toBeNull();
    expect(report.body).toMatchObject({ from, to });
    const entries = (await allEntries(t)).filter(
      (e) => e.effect === 'deny' && e.at >= new Date(from) && e.at < new Date(to),
    );
    const attempts = new Map<string, number>();
    for (const e of entries) attempts.set(e.principalSub!, (attempts.get(e.principalSub!) ?? 0) + 1);
    const got = new Map(
      (report.body.items as { principal: string; attempts: number }[]).map((r) => [r.principal, r.attempts]),
    );
    expect(got).toEqual(attempts);
    const csv = await getAs(t, auditor, `/v1/audit/reports/denied?from=${from}&to=${to}`, { accept: 'text/csv' });
    expect(csv.headers.get('jaga-report-period')).toBe(`${from}/${to}`);
  });

  /** A disclosure group's key as the log is counted by hand. */
  const groupOf = (i: DisclosureRow) =>
    JSON.stringify([i.period, i.principal, i.principalUnit, i.dataset, i.purpose, i.fieldsWhole, i.fieldsMasked]);

  /**
   * Every page of a disclosures report with `limit` groups a page, following nextCursor (JSON) or
   * the Jaga-Report-Next-Cursor header (CSV: a page's data lines). Each page but the last is full
   * and says it was cut.
   */
  async function reportPages(path: string, limit: number, accept = 'application/json'): Promise<unknown[][]> {
    const pages: unknown[][] = [];
    let cursor: string | null = null;
    do {
      const res = await getAs(t, auditor, `${path}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { accept });
      expect(res.status, res.text).toBe(200);
      const json = accept === 'application/json';
      const items: unknown[] = json ? res.body.items : res.text.trim().split('\n').slice(1).filter(Boolean);
      cursor = json ? res.body.nextCursor : res.headers.get('jaga-report-next-cursor');
      const truncated = json ? res.body.truncated : res.headers.get('jaga-report-truncated') === 'true';
      expect(truncated, path).toBe(cursor !== null);
      if (cursor) expect(items.length, path).toBe(limit);
      else expect(items.length, path).toBeLessThanOrEqual(limit);
      pages.push(items);
      expect(pages.length, `${path}: pages never end`).toBeLessThan(1000);
    } while (cursor);
    return pages;
  }

  /** The reports of a period as the log counts them by hand, and as the service answers them. */
  async function reportsAgree(from: string, to: string, label: string): Promise<void> {
    const inPeriod = (await allEntries(t)).filter((e) => e.at >= new Date(from) && e.at < new Date(to));
    for (const period of ['day', 'month', 'year'] as const) {
      const want = new Map<string, { disclosures: number; rows: number }>();
      for (const e of inPeriod) {
        if (e.effect === 'deny' || e.event !== 'disclosure') continue;
        const pw = personalOf(e.fieldsWhole, e.details);
        const pm = personalOf(e.fieldsMasked, e.details);
        if (!pw.length && !pm.length) continue;
        const p = e.at.toISOString().slice(0, period === 'day' ? 10 : period === 'month' ? 7 : 4);
        const key = JSON.stringify([p, e.principalSub, e.principalUnit, e.datasetId, e.purpose, pw, pm]);
        const r = want.get(key) ?? { disclosures: 0, rows: 0 };
        r.disclosures += 1;
        r.rows += e.rowCount ?? 0;
        want.set(key, r);
      }
      const res = await getAs(t, auditor, `/v1/audit/reports/disclosures?from=${from}&to=${to}&period=${period}`);
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ truncated: false, nextCursor: null });
      const got = new Map(
        res.body.items.map((i: DisclosureRow) => [groupOf(i), { disclosures: i.disclosures, rows: i.rows }]),
      );
      expect(got, `${label}: disclosures per ${period}`).toEqual(want);
      expect(want.size, label).toBeGreaterThan(3);
      // In pages of 3, following nextCursor: the same groups in the same order, none lost or repeated.
      const walked = await reportPages(`/v1/audit/reports/disclosures?from=${from}&to=${to}&period=${period}`, 3);
      expect(walked.length, `${label}: pages per ${period}`).toBeGreaterThan(1);
      const items = walked.flat() as DisclosureRow[];
      expect(new Set(items.map(groupOf)).size, `${label}: a group repeated at a page join`).toBe(items.length);
      expect(items, `${label}: pages per ${period}`).toEqual(res.body.items);
      // CSV likewise, through the Jaga-Report-Next-Cursor header.
      const csv = await reportPages(
        `/v1/audit/reports/disclosures?from=${from}&to=${to}&period=${period}`,
        4,
        'text/csv',
      );
      expect(csv.flat().length, `${label}: CSV pages per ${period}`).toBe(want.size);
    }
    // Scoped to a unit (a filter on the branches' rows), by year, in pages of 2: the log filtered by hand.
    const inUnit = new Map<string, number>();
    for (const e of inPeriod) {
      if (e.effect === 'deny' || e.event !== 'disclosure') continue;
      if (!isWithin(e.principalUnit ?? 'RI', '32') && !isWithin(e.resourceUnit ?? 'RI', '32')) continue;
      const pw = personalOf(e.fieldsWhole, e.details);
      const pm = personalOf(e.fieldsMasked, e.details);
      if (!pw.length && !pm.length) continue;
      const key = JSON.stringify([
        e.at.toISOString().slice(0, 4),
        e.principalSub,
        e.principalUnit,
        e.datasetId,
        e.purpose,
        pw,
        pm,
      ]);
      inUnit.set(key, (inUnit.get(key) ?? 0) + 1);
    }
    const scoped = (
      await reportPages(`/v1/audit/reports/disclosures?from=${from}&to=${to}&period=year&unit=32`, 2)
    ).flat() as DisclosureRow[];
    expect(new Map(scoped.map((i) => [groupOf(i), i.disclosures])), `${label}: disclosures in 32`).toEqual(inUnit);
    expect(inUnit.size, label).toBeGreaterThan(2);
    // Unscoped (the per-principal monthly level for the whole months), and by unit (the detailed levels).
    for (const unit of [undefined, '32']) {
      const denied = new Map<string, { attempts: number; datasets: Set<string>; actions: Set<string> }>();
      for (const e of inPeriod) {
        if (e.effect !== 'deny') continue;
        if (unit && !isWithin(e.principalUnit ?? 'RI', unit) && !isWithin(e.resourceUnit ?? 'RI', unit)) continue;
        const who = JSON.stringify([e.principalSub, e.principalUnit]);
        const r = denied.get(who) ?? { attempts: 0, datasets: new Set(), actions: new Set() };
        r.attempts += 1;
        if (e.datasetId) r.datasets.add(e.datasetId);
        r.actions.add(e.action);
        denied.set(who, r);
      }
      const res = await getAs(
        t,
        auditor,
        `/v1/audit/reports/denied?from=${from}&to=${to}${unit ? `&unit=${unit}` : ''}`,
      );
      expect(res.status, res.text).toBe(200);
      const got = new Map(
        (
          res.body.items as {
            principal: string;
            principalUnit: string | null;
            attempts: number;
            datasets: number;
            actions: string[];
          }[]
        ).map((i) => [
          JSON.stringify([i.principal, i.principalUnit]),
          { attempts: i.attempts, datasets: i.datasets, actions: i.actions },
        ]),
      );
      const want = new Map(
        [...denied].map(([p, r]) => [
          p,
          { attempts: r.attempts, datasets: r.datasets.size, actions: [...r.actions].sort() },
        ]),
      );
      expect(got, `${label}: denied${unit ? ` in ${unit}` : ''}`).toEqual(want);
      expect(want.size, label).toBeGreaterThan(1);
    }
  }

  const dayOf = (d: Date) => d.toISOString().slice(0, 10);
  const mark = async () => Number((await t.db.sql<{ seq: string }[]>`select seq from audit_rollup_mark`)[0]!.seq);

  it('answers reports exactly at any lag of the catch-up job, over a period starting and ending mid-month', async () => {
    // From the middle of the current month (or of the last, on the 1st) to the middle of the month after the boundary:
    // at least one whole month (the monthly level) and the days at both edges (the daily level).
    const today = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()));
    const from = dayOf(today.getUTCDate() === 1 ? new Date(today.getTime() - DAY) : today);
    const to = dayOf(new Date(boundary.getTime() + 15 * DAY));
    expect(new Date(from).getUTCDate()).toBeGreaterThan(1);
    // Entries the job has not folded yet: one batch inside the period, one after it.
    const tail = await batchAt(
      t,
      new Date(boundary.getTime() + 11 * DAY),
      Array.from({ length: 12 }, (_, k) => seedEntry(2000 + k, random(7))),
    );
    await batchAt(
      t,
      new Date(boundary.getTime() + 20 * DAY),
      Array.from({ length: 5 }, (_, k) => seedEntry(2100 + k, random(8))),
    );
    expect(await rollupLag(t.db.sql)).toBeGreaterThanOrEqual(17);
    // A time range past every minute the map holds yet: exact from the mark on.
    const since = (await pages(t, auditor, `/v1/audit/decisions?from=${tail[0]!.at.toISOString()}`)).map((i) => i.seq);
    expect(since).toEqual((await allEntries(t)).filter((e) => e.at >= tail[0]!.at).map((e) => e.seq));
    await reportsAgree(from, to, 'lagging');
    const m0 = await mark();
    await t.db.sql.begin((tx) => foldStep(tx, 4));
    expect(await mark()).toBe(m0 + 4);
    await reportsAgree(from, to, 'partly folded');
    await catchUpRollups(t.db.sql);
    expect(await rollupLag(t.db.sql)).toBe(0);
    await reportsAgree(from, to, 'caught up');
  });

  it('refuses a disclosures cursor it did not issue for this very report with 400 VALIDATION_FAILED', async () => {
    const from = dayOf(new Date(boundary.getTime() - 20 * DAY));
    const to = dayOf(new Date(boundary.getTime() + 15 * DAY));
    const base = `/v1/audit/reports/disclosures?from=${from}&to=${to}&period=month`;
    const first = await getAs(t, auditor, `${base}&limit=1`);
    expect(first.status, first.text).toBe(200);
    const good = first.body.nextCursor as string;
    expect(good).toEqual(expect.any(String));
    expect((await getAs(t, auditor, `${base}&limit=1&cursor=${good}`)).status).toBe(200);
    const parts = JSON.parse(Buffer.from(good, 'base64url').toString('utf8')) as unknown[];
    const forge = (x: unknown) => Buffer.from(JSON.stringify(x), 'utf8').toString('base64url');
    const swap = (i: number, v: unknown) => forge(parts.map((p, j) => (j === i ? v : p)));
    const bad: [string, string][] = [
      ['not base64url', 'abc$'],
      ['too long', 'a'.repeat(9000)],
      ['not JSON', Buffer.from('{"x":', 'utf8').toString('base64url')],
      ['not the shape', forge({ period: parts[2] })],
      ['one more part', forge([...parts, 'x'])],
      ['another version', swap(0, 2)],
      ['a forged report tag', swap(1, 'AAAAAAAAAAAAAAAA')],
      ['a period before the report', swap(2, '2020-01-01')],
      ['a period after the report', swap(2, to)],
      ['not a month start', swap(2, `${String(parts[2]).slice(0, 8)}15`)],
      ['not a date', swap(2, '2026-13-01')],
      ['a number for a name', swap(3, 42)],
      ['a list of numbers', swap(7, [1])],
    ];
    const other: [string, string][] = [
      ['by day', `/v1/audit/reports/disclosures?from=${from}&to=${to}&period=day&cursor=${good}`],
      [
        'another period',
        `/v1/audit/reports/disclosures?from=${from}&to=${dayOf(new Date(boundary.getTime() + 16 * DAY))}&period=month&cursor=${good}`,
      ],
      ['another filter', `${base}&principal=p-1&cursor=${good}`],
    ];
    for (const [label, path] of [...bad.map(([l, c]): [string, string] => [l, `${base}&cursor=${c}`]), ...other]) {
      const res = await getAs(t, auditor, path);
      expect(res.status, label).toBe(400);
      expect(res.headers.get('content-type'), label).toContain('application/problem+json');
      expect(res.body.code, label).toBe('VALIDATION_FAILED');
      expect(res.body.errors?.[0]?.path, label).toBe('query.cursor');
    }
    const zero = await getAs(t, auditor, `${base}&limit=0`);
    expect(zero.status).toBe(400);
    expect(zero.body.code).toBe('VALIDATION_FAILED');
  });

  it('leaves the rollups and their mark as they were when a catch-up stops before it commits', async () => {
    await batchAt(
      t,
      new Date(boundary.getTime() + 21 * DAY),
      Array.from({ length: 9 }, (_, k) => seedEntry(2200 + k, random(9))),
    );
    const before = await mark();
    const stop =
      kind === 'postgres'
        ? // The connection dies mid-transaction, as when the process is killed.
          t.db.sql.begin(async (tx) => {
            await foldStep(tx, 5);
            const [me] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
            await t.db.sql`select pg_terminate_backend(${me!.pid})`;
            await tx`select 1`;
          })
        : t.db.sql.begin(async (tx) => {
            await foldStep(tx, 5);
            throw new Error('stopped mid-way');
          });
    await expect(stop).rejects.toThrow();
    expect(await mark()).toBe(before);
    const entries = await allEntries(t);
    const folded = entries.filter((e) => e.seq <= before);
    expect(await storedRollup(t)).toEqual(recompute(folded));
    expect(await storedRollup(t, 'month')).toEqual(recompute(folded, 'month'));
    expect(await storedDenied(t)).toEqual(recomputeDenied(folded));
    await catchUpRollups(t.db.sql);
    expect(await mark()).toBe(entries.at(-1)!.seq);
    expect(await storedRollup(t)).toEqual(recompute(entries));
    expect(await storedRollup(t, 'month')).toEqual(recompute(entries, 'month'));
    expect(await storedDenied(t)).toEqual(recomputeDenied(entries));
  });
});
