import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TransactionSql } from '../../src/db/database.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { entry, getAs, tokenFor } from './helpers.ts';

const KEY = 'audit-hmac-key-audit-hmac-key-0123456789';
const auditor = await tokenFor('aud-1', ['auditor']);

/** As the database superuser, with the append-only trigger bypassed (what an attacker with DBA rights can do). */
async function asSuperuser(t: TestApp, fn: (tx: TransactionSql) => Promise<unknown>): Promise<void> {
  await t.db.sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await fn(tx);
  });
}

async function job(t: TestApp, token = auditor) {
  const started = await t.request('POST', '/v1/audit/verify/jobs', { token });
  expect(started.status, started.text).toBe(202);
  const id = started.body.id as string;
  for (let i = 0; i < 500; i++) {
    const res = await getAs(t, token, `/v1/audit/verify/jobs/${id}`);
    expect(res.status).toBe(200);
    if (res.body.state !== 'running') return res.body;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the verification job did not finish');
}

describe.each(databaseKinds())('incremental verification on %s', (kind) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp(kind, { AUDIT_HMAC_KEY: KEY });
    for (let i = 1; i <= 20; i++) await t.deps.services.audit.appendDurable(entry({ requestId: `r${i}` }));
  });
  afterEach(async () => {
    await t.close();
  });

  it('walks from the last verified point, records how far it got, and catches an edit after that point', async () => {
    const first = await getAs(t, auditor, '/v1/audit/verify');
    expect(first.body).toMatchObject({ ok: true });
    expect(first.body.from).toBeUndefined(); // nothing verified yet: from the start
    expect(first.body.checked).toBeGreaterThanOrEqual(20);
    const point = first.body.lastSeq as number;
    for (let i = 0; i < 5; i++) await t.deps.services.audit.appendDurable(entry({ requestId: `later${i}` }));
    const second = await getAs(t, auditor, '/v1/audit/verify');
    expect(second.body).toMatchObject({ ok: true, from: { seq: point } });
    // Only what came after: the five, and the read entry of the first walk.
    expect(second.body.checked).toBe((second.body.lastSeq as number) - point);
    expect(second.body.checked).toBeLessThan(10);
    const [verified] = await t.db.sql<{ v: string }[]>`select count(*) as v from audit_verified`;
    expect(Number(verified!.v)).toBe(2);
    // An edit after the verified point.
    await t.deps.services.audit.appendDurable(entry({ requestId: 'after' }));
    const seq = (await t.db.sql<{ seq: string }[]>`select max(seq) as seq from audit_entry`)[0]!.seq;
    await asSuperuser(t, (tx) => tx`update audit_entry set reason = 'rewritten' where seq = ${Number(seq)}`);
    const fourth = await getAs(t, auditor, '/v1/audit/verify');
    expect(fourth.body).toMatchObject({ ok: false, firstBad: { seq: Number(seq), problem: 'hash' } });
  });

  it('does not see an edit before its verified point, which the full background job catches', async () => {
    expect((await getAs(t, auditor, '/v1/audit/verify')).body.ok).toBe(true);
    await asSuperuser(t, (tx) => tx`update audit_entry set effect = 'deny' where seq = 4`);
    const incremental = await getAs(t, auditor, '/v1/audit/verify');
    expect(incremental.body.ok).toBe(true); // what the incremental walk trusts
    const full = await job(t);
    expect(full).toMatchObject({ state: 'done', result: { ok: false, firstBad: { seq: 4, problem: 'hash' } } });
    expect(full.total).toBeGreaterThanOrEqual(20);
    expect((await getAs(t, auditor, '/v1/audit/verify?from=genesis')).body).toMatchObject({
      ok: false,
      firstBad: { seq: 4 },
    });
  });

  it('reports a full job on an intact chain with its progress, and records it as verified', async () => {
    const done = await job(t);
    expect(done).toMatchObject({ state: 'done', error: null, result: { ok: true } });
    expect(done.checked).toBe(done.result.lastSeq);
    const next = await getAs(t, auditor, '/v1/audit/verify');
    expect(next.body.from.seq).toBe(done.result.lastSeq);
  });

  it('catches a verified entry deleted or re-hashed since', async () => {
    const first = await getAs(t, auditor, '/v1/audit/verify');
    const point = first.body.lastSeq as number;
    await asSuperuser(t, (tx) => tx`update audit_entry set hash = ${'f'.repeat(64)} where seq = ${point}`);
    expect((await getAs(t, auditor, '/v1/audit/verify')).body).toMatchObject({
      ok: false,
      firstBad: { seq: point, problem: 'hash' },
    });
  });

  it('lets only auditors start or read jobs, and answers 404 for an unknown one', async () => {
    const ppid = await tokenFor('ppid-32', ['ppid'], '32');
    expect((await t.request('POST', '/v1/audit/verify/jobs', { token: ppid })).status).toBe(403);
    expect((await t.request('POST', '/v1/audit/verify/jobs')).status).toBe(401);
    const missing = await getAs(t, auditor, `/v1/audit/verify/jobs/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('NOT_FOUND');
    expect((await getAs(t, auditor, '/v1/audit/verify/jobs/not-a-uuid')).status).toBe(400);
    await t.deps.services.auditReads.verifyJobsIdle();
  });
});
