import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyArchive } from '../../src/audit/audit.archive.ts';
import { prunePartitions } from '../../src/audit/audit.partitions.ts';
import { verifyChain } from '../../src/audit/audit.verify.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { entry, getAs, tokenFor } from './helpers.ts';

const KEY = 'audit-hmac-key-audit-hmac-key-0123456789';

describe.each(databaseKinds())('retention with an archive on %s', (kind) => {
  let t: TestApp;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jaga-audit-archive-'));
  });
  afterEach(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports a partition before dropping it; the export verifies alone, joins the kept chain, and shows an edit', async () => {
    t = await startApp(kind, { AUDIT_HMAC_KEY: KEY });
    const log = t.deps.services.audit;
    for (let i = 0; i < 12; i++) await log.appendDurable(entry({ requestId: `old${i}` }));
    // The incremental verifier's point lies in the partition about to go.
    const auditor = await tokenFor('aud-1', ['auditor']);
    expect((await getAs(t, auditor, '/v1/audit/verify')).body.ok).toBe(true);
    const month = new Date().toISOString().slice(0, 7).replace('-', 'm');
    const name = `audit_entry_y${month}`;
    // As if thirteen months had passed with a twelve-month retention: this month's partition goes.
    const later = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 13, 15));
    const before = (await t.db.sql<{ n: string }[]>`select count(*) as n from ${t.db.sql(name)}`)[0]!.n;
    expect(await prunePartitions(t.db.sql, later, 12, dir)).toContain(name);
    const file = join(dir, `${name}.ndjson`);
    const archived = await verifyArchive(file, KEY);
    expect(archived).toMatchObject({ ok: true, digestOk: true, checked: Number(before) });
    expect(archived.checkpoint.firstSeq).toBe(1);
    // The kept chain continues from the archive's last hash (audit_retention recorded it).
    const [kept] = await t.db.sql<
      { last_seq: string; last_hash: string }[]
    >`select last_seq, last_hash from audit_retention`;
    expect({ seq: Number(kept!.last_seq), hash: kept!.last_hash }).toEqual({
      seq: archived.checkpoint.lastSeq,
      hash: archived.checkpoint.lastHash,
    });
    for (let i = 0; i < 3; i++) await log.appendDurable(entry({ requestId: `new${i}` }));
    expect(await verifyChain(t.db.sql, { hmacKey: KEY })).toMatchObject({ ok: true });
    // The incremental walk, whose point was dropped, walks from the oldest entry kept.
    expect((await getAs(t, auditor, '/v1/audit/verify')).body).toMatchObject({ ok: true });

    // An edited line in the export shows at its entry.
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[4] = lines[4]!.replace('"effect":"allow"', '"effect":"deny"');
    writeFileSync(file, lines.join('\n'));
    const edited = await verifyArchive(file, KEY);
    expect(edited).toMatchObject({ ok: false, digestOk: false, firstBad: { seq: 5, problem: 'hash' } });
    // A dropped line too.
    lines.splice(4, 1);
    writeFileSync(file, lines.join('\n'));
    expect((await verifyArchive(file, KEY)).firstBad).toMatchObject({ seq: 5, problem: 'missing' });
  });

  it('keeps a partition whose export fails', async () => {
    t = await startApp(kind, { AUDIT_HMAC_KEY: KEY });
    await t.deps.services.audit.appendDurable(entry());
    const blocked = join(dir, 'not-a-folder');
    writeFileSync(blocked, 'a file where the archive folder should be');
    const later = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 13, 15));
    await expect(prunePartitions(t.db.sql, later, 12, blocked)).rejects.toThrow();
    expect((await t.db.sql<{ n: string }[]>`select count(*) as n from audit_entry`)[0]!.n).toBe('1');
  });
});
