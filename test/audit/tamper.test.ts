import postgres from 'postgres';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/audit.verify.ts';
import type { TransactionSql } from '../../src/db/database.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { entry, getAs, tokenFor } from './helpers.ts';

const KEY = 'audit-hmac-key-audit-hmac-key-0123456789';

/** As the database superuser, with the append-only trigger bypassed (what an attacker with DBA rights can do). */
async function asSuperuser(t: TestApp, fn: (tx: TransactionSql) => Promise<unknown>): Promise<void> {
  await t.db.sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await fn(tx);
  });
}

describe.each(databaseKinds())('tamper evidence on %s', (kind) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp(kind, { AUDIT_HMAC_KEY: KEY });
    for (let i = 1; i <= 10; i++) await t.deps.services.audit.appendDurable(entry({ requestId: `r${i}` }));
  });
  afterEach(async () => {
    await t.close();
  });

  const verify = () => verifyChain(t.db.sql, { hmacKey: KEY });

  it('reports an intact chain as ok', async () => {
    expect(await verify()).toMatchObject({ ok: true, checked: 10 });
  });

  it('reports the exact entry whose content was edited', async () => {
    await asSuperuser(t, (tx) => tx`update audit_entry set effect = 'deny' where seq = 6`);
    expect((await verify()).firstBad).toMatchObject({ seq: 6, problem: 'hash' });
  });

  it('reports the exact entry that was deleted', async () => {
    await asSuperuser(t, (tx) => tx`delete from audit_entry where seq = 5`);
    expect((await verify()).firstBad).toMatchObject({ seq: 5, id: null, problem: 'missing' });
  });

  it('reports two reordered entries at the first of them', async () => {
    await asSuperuser(
      t,
      (tx) => tx`update audit_entry set seq = case seq when 3 then 7 else 3 end where seq in (3, 7)`,
    );
    expect((await verify()).firstBad).toMatchObject({ seq: 3 });
  });

  it('detects truncation of the newest entries against an exported checkpoint', async () => {
    const res = await getAs(t, await tokenFor('aud-1', ['auditor']), '/v1/audit/checkpoint');
    expect(res.status).toBe(200);
    const cp = res.body as { seq: number; hash: string; at: string; signature: string };
    expect(cp.seq).toBeGreaterThanOrEqual(10);
    expect(cp.signature).toMatch(/^[0-9a-f]{64}$/);
    // Truncate the newest three and move the head back, so the remaining chain is self-consistent.
    await asSuperuser(t, async (tx) => {
      await tx`delete from audit_entry where seq > ${cp.seq - 3}`;
      await tx`update audit_head set (seq, hash, at) = (select seq, hash, at from audit_entry order by seq desc limit 1)`;
    });
    expect(await verify()).toMatchObject({ ok: true }); // the chain alone cannot tell
    const r = await verifyChain(t.db.sql, { hmacKey: KEY, checkpoint: cp });
    expect(r.ok).toBe(false);
    expect(r.checkpoint).toMatchObject({ ok: false, problem: 'missing', signatureValid: true });
    const q = new URLSearchParams({
      checkpointSeq: String(cp.seq),
      checkpointHash: cp.hash,
      checkpointAt: cp.at,
      checkpointSignature: cp.signature,
    });
    const viaHttp = await getAs(t, await tokenFor('aud-1', ['auditor']), `/v1/audit/verify?${q}`);
    expect(viaHttp.status).toBe(200);
    expect(viaHttp.body).toMatchObject({ ok: false, checkpoint: { ok: false, problem: 'missing' } });
  });

  it('refuses UPDATE, DELETE and TRUNCATE in the database itself', async () => {
    const refused = async (q: Promise<unknown>) => {
      const error = (await q.then(
        () => null,
        (e: unknown) => e,
      )) as postgres.PostgresError | null;
      expect(error).toBeInstanceOf(postgres.PostgresError);
      expect(error?.code).toBe('42501');
    };
    await refused(t.db.sql`update audit_entry set reason = 'rewritten' where seq = 1`);
    await refused(t.db.sql`delete from audit_entry where seq = 2`);
    await refused(t.db.sql`truncate audit_entry`);
    expect(await verify()).toMatchObject({ ok: true, checked: 10 });
  });

  if (kind === 'postgres') {
    it('an application role granted as documented cannot UPDATE or DELETE even with the trigger bypassed', async () => {
      const role = `jaga_app_${crypto.randomUUID().slice(0, 8)}`;
      const sql = t.db.sql;
      await sql.unsafe(`create role ${role} nologin`);
      try {
        // docs/audit.md: the application role gets SELECT and INSERT only on the log.
        await sql.unsafe(`grant select, insert on audit_entry to ${role}`);
        await sql.unsafe(`revoke update, delete, truncate on audit_entry from ${role}`);
        const error = await sql
          .begin(async (tx) => {
            await tx`set local session_replication_role = replica`;
            await tx.unsafe(`set local role ${role}`);
            await tx`update audit_entry set reason = 'x' where seq = 1`;
          })
          .then(
            () => null,
            (e: unknown) => e as postgres.PostgresError,
          );
        expect(error?.code).toBe('42501');
        expect(error?.message).toMatch(/permission denied/);
      } finally {
        await sql.unsafe(`revoke all on audit_entry from ${role}`);
        await sql.unsafe(`drop role ${role}`);
      }
    });
  }
});
