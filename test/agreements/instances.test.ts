import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNodePostgres } from '../../src/db/open.ts';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds, whileTableLocked } from '../helpers/databases.ts';
import {
  activeAgreement,
  agreementBody,
  candidates,
  check,
  ELECTION_LAW,
  exemptField,
  principals,
  readRecords,
  shareExemption,
  startAgreementsApp,
  testClock,
  VERIFY,
  type Who,
} from './agreements-app.ts';

/** The catalog snapshot's bound (CATALOG_SNAPSHOT_MAX_STALE_MS, default 1000 ms): checks by id on other instances. */
const BOUND_MS = 1000;

const checkName = (t: TestApp, who: Who) =>
  check(t, who.kpu, { action: 'read', resource: { type: 'Field', id: 'calon-two/nama' }, purpose: VERIFY });

describe.runIf(databaseKinds().includes('postgres'))('agreements on two Jaga instances on one PostgreSQL', () => {
  const clock = testClock('2029-02-01T03:00:00Z');
  let a: TestApp;
  let b: TestApp;
  let who: Who;
  let id: string;
  let url: string;

  beforeAll(async () => {
    a = await startAgreementsApp('postgres', clock);
    who = await principals();
    url = (a.db as { url?: string }).url!;
    b = await startAgreementsApp('postgres', clock, { db: connectNodePostgres(url, { max: 4 }) });
    await candidates(a, who, 'calon-two');
    id = await activeAgreement(a, who, agreementBody('calon-two'));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('checks on B answer from agreements in memory: no database round trip (the table locked, they still answer)', async () => {
    // Until B's snapshot and agreements are current, B reads the database; then memory.
    for (let i = 0; i < 100 && !(await checkName(b, who)).body.allow; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    expect((await checkName(b, who)).body.allow).toBe(true);
    const answered = await whileTableLocked(url, 'agreements', async () => {
      const started = performance.now();
      const r = await checkName(b, who);
      return { r, ms: performance.now() - started };
    });
    expect(answered.r.status, answered.r.text).toBe(200);
    expect(answered.r.body).toMatchObject({ allow: true, fields: { allowed: ['nama'] } });
    expect(answered.ms).toBeLessThan(BOUND_MS);
  });

  it('a revocation committed on A denies B’s reads at once, and B’s checks within the bound', async () => {
    const before = await readRecords(b, who.kpu, 'calon-two', VERIFY);
    expect(before.status, before.text).toBe(200);
    expect(before.body.items).toHaveLength(5);
    expect((await checkName(b, who)).body.allow).toBe(true);

    const revoked = await a.request('POST', `/v1/agreements/${id}/revoke`, { token: who.ppid });
    expect(revoked.status, revoked.text).toBe(200);
    const since = performance.now();
    // The read re-checks the agreement in its own transaction: no wait for a notification.
    const after = await readRecords(b, who.kpu, 'calon-two', VERIFY);
    expect(after.status).toBe(403);
    expect(after.body.code).toBe('NO_AGREEMENT');
    let denied = false;
    while (!denied && performance.now() - since <= BOUND_MS * 5) {
      const asked = performance.now();
      const r = await checkName(b, who);
      if (!r.body.allow) {
        denied = true;
        expect(r.body.reason).toMatch(/^NO_AGREEMENT/);
        expect(asked - since).toBeLessThanOrEqual(BOUND_MS);
      } else await new Promise((res) => setTimeout(res, 10));
    }
    expect(denied).toBe(true);
  });

  it('a PPID removing the agreement’s legal basis from a DIK record on A withholds the exempt field from B’s next read at once, and from B’s checks within the bound', async () => {
    // The candidates' address, exempt (UU 14/2008 art. 17 letter h), shared with KPU under the election law.
    await candidates(a, who, 'calon-dik-two');
    await exemptField(a, who, 'calon-dik-two', 'alamat');
    expect((await shareExemption(a, who.ppid, 'calon-dik-two', 'alamat', [ELECTION_LAW])).status).toBe(200);
    await activeAgreement(
      a,
      who,
      agreementBody('calon-dik-two', {
        datasets: [{ id: 'calon-dik-two', fields: { nama: 'whole', alamat: { coverage: 'whole', exempt: true } } }],
      }),
    );
    const checkAddress = () =>
      check(b, who.kpu, { action: 'read', resource: { type: 'Field', id: 'calon-dik-two/alamat' }, purpose: VERIFY });
    const before = await readRecords(b, who.kpu, 'calon-dik-two', VERIFY);
    expect(before.status, before.text).toBe(200);
    expect(Object.keys(before.body.items[0]).sort()).toEqual(['alamat', 'nama']);
    for (let i = 0; i < 100 && !(await checkAddress()).body.allow; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await checkAddress()).body.allow).toBe(true);

    const removed = await shareExemption(a, who.ppid, 'calon-dik-two', 'alamat', []);
    expect(removed.status, removed.text).toBe(200);
    const since = performance.now();
    // The read takes the DIK records from the database: no wait for a notification.
    const after = await readRecords(b, who.kpu, 'calon-dik-two', VERIFY);
    expect(after.status, after.text).toBe(200);
    expect(Object.keys(after.body.items[0])).toEqual(['nama']);
    let denied = false;
    while (!denied && performance.now() - since <= BOUND_MS * 5) {
      const asked = performance.now();
      const r = await checkAddress();
      if (!r.body.allow) {
        denied = true;
        expect(r.body.reason).toContain('EXEMPTION_NOT_SHAREABLE');
        expect(asked - since).toBeLessThanOrEqual(BOUND_MS);
      } else await new Promise((res) => setTimeout(res, 10));
    }
    expect(denied).toBe(true);
  });
});
