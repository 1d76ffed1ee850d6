import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayOf } from '../../src/agreements/agreement.model.ts';
import { tokenFor } from '../catalog/catalog-app.ts';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds, type DatabaseKind } from '../helpers/databases.ts';
import {
  activeAgreement,
  agreementBody,
  candidates,
  check,
  KPU,
  principals,
  readRecords,
  startAgreementsApp,
  testClock,
  VERIFY,
  type Who,
} from './agreements-app.ts';

/**
 * Data-sharing agreements (issue 20) through the API, on both databases: lifecycle, and
 * enforcement on checks and records reads for service principals.
 */
describe.each(databaseKinds())('data-sharing agreements (%s)', (kind: DatabaseKind) => {
  const clock = testClock('2029-02-01T03:00:00Z');
  let t: TestApp;
  let who: Who;
  let id: string;
  beforeAll(async () => {
    t = await startAgreementsApp(kind, clock);
    who = await principals();
    await candidates(t, who, 'calon');
    id = await activeAgreement(t, who, agreementBody('calon'));
  });
  afterAll(() => t.close());

  it('drafts as draft, and the drafter cannot approve (even a PPID); another PPID of the unit can', async () => {
    const made = await t.request('POST', '/v1/agreements', { token: who.stewardPpid, json: agreementBody('calon') });
    expect(made.status, made.text).toBe(201);
    expect(made.body).toMatchObject({ status: 'draft', draftedBy: 'steward-ppid-32', providerUnits: ['32'] });
    const self = await t.request('POST', `/v1/agreements/${made.body.id}/approve`, { token: who.stewardPpid });
    expect(self.status).toBe(403);
    expect(self.body.code).toBe('SELF_APPROVAL');
    // A PPID of another unit is not the provider's PPID; a steward is not a PPID.
    expect((await t.request('POST', `/v1/agreements/${made.body.id}/approve`, { token: who.ppid33 })).status).toBe(404);
    expect((await t.request('POST', `/v1/agreements/${made.body.id}/approve`, { token: who.steward })).status).toBe(
      403,
    );
    const ok = await t.request('POST', `/v1/agreements/${made.body.id}/approve`, { token: who.ppid });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ status: 'active', approvedBy: 'ppid-32' });
    // Terms of an approved agreement are what was signed.
    const patch = await t.request('PATCH', `/v1/agreements/${made.body.id}`, {
      token: who.steward,
      json: { purposes: ['lain'] },
    });
    expect(patch.status).toBe(409);
    const history = await t.request('GET', `/v1/agreements/${made.body.id}/history`, { token: who.ppid });
    expect(history.body.items.map((h: { event: string }) => h.event)).toEqual(['drafted', 'approved']);
    const revoked = await t.request('POST', `/v1/agreements/${made.body.id}/revoke`, { token: who.ppid });
    expect(revoked.body.status).toBe('revoked');
    // Each change is in the audit log too, and the history cannot be rewritten.
    const log = await t.request('GET', '/v1/audit/decisions?dataset=calon&limit=100', { token: who.auditor });
    const changes = log.body.items.filter(
      (i: { resource: { type: string; id: string } }) =>
        i.resource.type === 'Agreement' && i.resource.id === made.body.id,
    );
    expect(changes.map((i: { action: string; agreementId: string }) => `${i.action}:${i.agreementId}`)).toEqual([
      `create:${made.body.id}`,
      `approve:${made.body.id}`,
      `update:${made.body.id}`,
    ]);
    await expect(t.db.sql`update agreement_history set event = 'approved'`).rejects.toThrow();
    await expect(t.db.sql`delete from agreement_history`).rejects.toThrow();
  });

  it('a draft’s terms change (its steward), and the change is in its history', async () => {
    const made = await t.request('POST', '/v1/agreements', { token: who.steward, json: agreementBody('calon') });
    const patched = await t.request('PATCH', `/v1/agreements/${made.body.id}`, {
      token: who.steward,
      json: { validTo: '2029-02-28', rowsPerDay: 100 },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ status: 'draft', validTo: '2029-02-28', rowsPerDay: 100, version: 2 });
    const early = await t.request('PATCH', `/v1/agreements/${made.body.id}`, {
      token: who.steward,
      json: { validTo: '2028-12-01' },
    });
    expect(early.status).toBe(400);
    // A draft grants nothing.
    const other = await t.request('PATCH', `/v1/agreements/${made.body.id}`, {
      token: who.steward,
      json: { recipient: { agency: 'Lain', principals: ['svc-draft'] } },
    });
    expect(other.status).toBe(200);
    const draftee = await tokenFor({
      sub: 'svc-draft',
      kind: 'service',
      roles: ['service'],
      unit: '33',
      purposes: [VERIFY],
    });
    expect((await readRecords(t, draftee, 'calon', VERIFY)).status).toBe(404);
    const history = await t.request('GET', `/v1/agreements/${made.body.id}/history`, { token: who.steward });
    expect(history.body.items.map((h: { event: string }) => h.event)).toEqual(['drafted', 'updated', 'updated']);
  });

  it('refuses a field or dataset that does not exist, and a period that ends before it starts', async () => {
    const bad = await t.request('POST', '/v1/agreements', {
      token: who.steward,
      json: agreementBody('calon', { datasets: [{ id: 'calon', fields: { tidak_ada: 'whole' } }] }),
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toBe('body.datasets.0.fields.tidak_ada');
    const period = await t.request('POST', '/v1/agreements', {
      token: who.steward,
      json: agreementBody('calon', { validFrom: '2029-02-01', validTo: '2029-01-01' }),
    });
    expect(period.status).toBe(400);
  });

  it('a partner read under an active agreement discloses exactly the covered fields (NIK masked)', async () => {
    const r = await readRecords(t, who.kpu, 'calon', VERIFY);
    expect(r.status, r.text).toBe(200);
    expect(r.body.items).toHaveLength(5);
    for (const item of r.body.items) {
      expect(Object.keys(item).sort()).toEqual(['nama', 'nik', 'partai']);
      expect(item.nik).toMatch(/^3201\*+\d\d$/);
    }
    expect(r.body.items[0].nama).toBe('Calon 0');
    expect(r.headers.get('x-jaga-fields-omitted')?.split(',').sort()).toEqual(['alamat', 'catatan_kesehatan']);
    // The same through /v1/check, from the agreements held in memory.
    const c = await check(t, who.kpu, {
      action: 'read',
      resource: { type: 'Dataset', id: 'calon' },
      fields: ['nama', 'nik', 'partai', 'alamat', 'catatan_kesehatan'],
      purpose: VERIFY,
    });
    expect(c.body).toMatchObject({
      allow: true,
      fields: { allowed: ['nama', 'partai'], masked: ['nik'], denied: ['alamat', 'catatan_kesehatan'] },
    });
    const field = await check(t, who.kpu, {
      action: 'read',
      resource: { type: 'Field', id: 'calon/alamat' },
      purpose: VERIFY,
    });
    expect(field.body.allow).toBe(false);
    expect(field.body.reason).toMatch(/^FIELD_NOT_IN_AGREEMENT/);
  });

  it('a caller cannot supply the agreement attribute itself', async () => {
    const c = await check(t, who.otherService, {
      action: 'read',
      resource: {
        type: 'Field',
        attributes: {
          datasetId: 'calon',
          ownerUnit: '32',
          name: 'nama',
          classification: 'restricted',
          personalData: 'name',
          agreement: 'whole',
        },
      },
      purpose: VERIFY,
    });
    expect(c.body.allow).toBe(false);
    expect(c.body.reason).toMatch(/^NO_AGREEMENT/);
  });

  it('whatever other roles a service principal holds, only what its agreement covers leaves', async () => {
    // Staff of the owning unit too: staff's rules would give every field of it, partial or whole.
    const mixed = await tokenFor({
      sub: KPU,
      kind: 'service',
      roles: ['service', 'staff'],
      unit: '32',
      purposes: [VERIFY],
    });
    const r = await readRecords(t, mixed, 'calon', VERIFY);
    expect(r.status, r.text).toBe(200);
    for (const item of r.body.items) {
      expect(Object.keys(item).sort()).toEqual(['nama', 'nik', 'partai']);
      expect(item.nik).toMatch(/^3201\*+\d\d$/);
    }
    const field = await check(t, mixed, {
      action: 'read',
      resource: { type: 'Field', id: 'calon/alamat' },
      purpose: VERIFY,
    });
    expect(field.body.allow).toBe(false);
    expect(field.body.reason).toMatch(/^FIELD_NOT_IN_AGREEMENT/);
    const dataset = await check(t, mixed, {
      action: 'read',
      resource: { type: 'Dataset', id: 'calon' },
      fields: ['nama', 'nik', 'partai', 'alamat', 'catatan_kesehatan'],
      purpose: VERIFY,
    });
    expect(dataset.body).toMatchObject({
      allow: true,
      fields: { allowed: ['nama', 'partai'], masked: ['nik'], denied: ['alamat', 'catatan_kesehatan'] },
    });
    // Only staff's role, none of service's rules: the agreement still decides what leaves.
    const staffOnly = await tokenFor({ sub: KPU, kind: 'service', roles: ['staff'], unit: '32', purposes: [VERIFY] });
    const capped = await readRecords(t, staffOnly, 'calon', VERIFY);
    expect(capped.status, capped.text).toBe(200);
    for (const item of capped.body.items) expect(Object.keys(item).sort()).toEqual(['nama', 'nik', 'partai']);
    expect(capped.body.items[0].nik).toMatch(/^3201\*+\d\d$/);
    const cappedField = await check(t, staffOnly, {
      action: 'read',
      resource: { type: 'Field', id: 'calon/alamat' },
      purpose: VERIFY,
    });
    expect(cappedField.body.allow).toBe(false);
    expect(cappedField.body.reason).toMatch(/^FIELD_NOT_IN_AGREEMENT/);
    // No agreement names this one: staff's rules do not open the data to it.
    const unnamed = await tokenFor({
      sub: 'svc-staffish',
      kind: 'service',
      roles: ['service', 'staff'],
      unit: '32',
      purposes: [VERIFY],
    });
    const refused = await readRecords(t, unnamed, 'calon', VERIFY);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('NO_AGREEMENT');
    const c = await check(t, unnamed, {
      action: 'read',
      resource: { type: 'Field', id: 'calon/partai' },
      purpose: VERIFY,
    });
    expect(c.body.allow).toBe(false);
    expect(c.body.reason).toMatch(/^NO_AGREEMENT/);
  });

  it('a service principal no agreement names is refused with NO_AGREEMENT, and the refusal is logged', async () => {
    const r = await readRecords(t, who.otherService, 'calon', VERIFY);
    expect(r.status).toBe(404); // it is not told the dataset exists
    const c = await check(t, who.otherService, {
      action: 'read',
      resource: { type: 'Dataset', id: 'calon' },
      purpose: VERIFY,
    });
    expect(c.body.allow).toBe(false);
    expect(c.body.reason).toMatch(/^NO_AGREEMENT/);
    const refusals = await t.request('GET', '/v1/agreements/reports/refusals', { token: who.ppid });
    expect(refusals.status).toBe(200);
    const mine = refusals.body.items.filter((x: { principal: string }) => x.principal === 'svc-other');
    expect(mine.map((x: { action: string; code: string }) => `${x.action}:${x.code}`).sort()).toEqual([
      'read:NO_AGREEMENT',
      'read:NO_AGREEMENT',
    ]);
  });

  it('a purpose the agreement does not name is denied', async () => {
    // Named by the agreement but not held by the token: the token's purposes bound what it may declare.
    const without = await tokenFor({
      sub: KPU,
      kind: 'service',
      roles: ['service'],
      unit: '33',
      purposes: ['statistik'],
    });
    const unheld = await readRecords(t, without, 'calon', VERIFY);
    expect(unheld.status).toBe(403);
    expect(unheld.body.code).toBe('PURPOSE_NOT_HELD');
    const r = await readRecords(t, who.kpu, 'calon', 'statistik');
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('PURPOSE_NOT_IN_AGREEMENT');
    const c = await check(t, who.kpu, {
      action: 'read',
      resource: { type: 'Field', id: 'calon/nama' },
      purpose: 'statistik',
    });
    expect(c.body.allow).toBe(false);
    expect(c.body.reason).toMatch(/^PURPOSE_NOT_IN_AGREEMENT/);
  });

  it('every disclosure’s audit entry names its agreement', async () => {
    const exported = await readRecords(t, who.kpu, 'calon', VERIFY, '', 'application/x-ndjson');
    expect(exported.status).toBe(200);
    expect(exported.text.trim().split('\n')).toHaveLength(5);
    const r = await t.request('GET', `/v1/audit/decisions?principal=${KPU}&limit=100`, { token: who.auditor });
    expect(r.status, r.text).toBe(200);
    const disclosures = r.body.items.filter((i: { event: string }) => i.event === 'disclosure');
    expect(disclosures.length).toBeGreaterThanOrEqual(1);
    for (const d of disclosures) expect(d.agreementId).toBe(id);
    const report = await t.request('GET', '/v1/agreements/reports/disclosures', { token: who.ppid });
    const row = report.body.items.find((x: { agreementId: string }) => x.agreementId === id);
    // Days of the log are the days the entries were written (WIB), whatever the agreements' clock says.
    expect(row.day).toBe(dayOf(Date.now()));
    expect(row.fieldsWhole).toEqual(expect.arrayContaining(['nama', 'partai']));
    expect(row.fieldsMasked).toContain('nik');
    // Nothing the agreement does not cover ever left under it.
    expect(new Set([...row.fieldsWhole, ...row.fieldsMasked])).toEqual(new Set(['nama', 'nik', 'partai']));
    // No exempt content left under it (test/agreements/exempt.test.ts has an agreement that lets some out).
    expect(row).toMatchObject({ exemptReads: 0, fieldsExempt: [] });
    const csv = await t.request('GET', '/v1/agreements/reports/disclosures', {
      token: who.ppid,
      headers: { accept: 'text/csv' },
    });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('agreementId,day,reads,rows,fieldsWhole,fieldsMasked,exemptReads,fieldsExempt');
    expect(lines.some((l) => l.startsWith(`${id},${row.day},`))).toBe(true);
    // Another unit's PPID sees none of it.
    expect((await t.request('GET', '/v1/agreements/reports/disclosures', { token: who.ppid33 })).body.items).toEqual(
      [],
    );
    expect(row.rows).toBeGreaterThanOrEqual(5);
  });

  it('the day after validTo the same read is denied with AGREEMENT_EXPIRED', async () => {
    clock.set('2029-03-31T16:59:59Z'); // 23:59:59 WIB on validTo
    expect((await readRecords(t, who.kpu, 'calon', VERIFY)).status).toBe(200);
    clock.set('2029-03-31T17:00:00Z'); // midnight WIB: the next day
    try {
      const r = await readRecords(t, who.kpu, 'calon', VERIFY);
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('AGREEMENT_EXPIRED');
      const c = await check(t, who.kpu, {
        action: 'read',
        resource: { type: 'Field', id: 'calon/nama' },
        purpose: VERIFY,
      });
      expect(c.body.allow).toBe(false);
      expect(c.body.reason).toMatch(/^AGREEMENT_EXPIRED/);
      const got = await t.request('GET', `/v1/agreements/${id}`, { token: who.ppid });
      expect(got.body.status).toBe('expired');
    } finally {
      clock.set('2029-02-01T03:00:00Z');
    }
  });

  it('a suspended agreement denies at once, and an approved one before validFrom grants nothing', async () => {
    const later = await t.request('POST', '/v1/agreements', {
      token: who.steward,
      json: agreementBody('calon', {
        validFrom: '2029-06-01',
        validTo: '2029-06-30',
        recipient: { agency: 'X', principals: ['svc-later'] },
      }),
    });
    const approved = await t.request('POST', `/v1/agreements/${later.body.id}/approve`, { token: who.ppid });
    expect(approved.body.status).toBe('approved');
    const suspend = await t.request('POST', `/v1/agreements/${id}/suspend`, {
      token: who.ppid,
      json: { note: 'audit' },
    });
    expect(suspend.body.status).toBe('suspended');
    try {
      const r = await readRecords(t, who.kpu, 'calon', VERIFY);
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('NO_AGREEMENT');
      const c = await check(t, who.kpu, {
        action: 'read',
        resource: { type: 'Field', id: 'calon/nama' },
        purpose: VERIFY,
      });
      expect(c.body.allow).toBe(false);
    } finally {
      const back = await t.request('POST', `/v1/agreements/${id}/approve`, { token: who.ppid });
      expect(back.body.status).toBe('active');
    }
  });

  it('lists by recipient, status and expiry; the public register shows only what the PPID published, without fields', async () => {
    const list = await t.request('GET', '/v1/agreements?recipient=komisi%20pemilihan&status=active&expiring=60d', {
      token: who.ppid,
    });
    expect(list.body.items.map((a: { id: string }) => a.id)).toContain(id);
    expect((await t.request('GET', '/v1/agreements?expiring=30d', { token: who.ppid })).body.items).toEqual([]);
    expect((await t.request('GET', '/v1/agreements', { token: who.ppid33 })).body.items).toEqual([]);
    expect((await t.request('GET', '/v1/registers/agreements')).body.items).toEqual([]);
    const publish = await t.request('PATCH', `/v1/agreements/${id}`, { token: who.ppid, json: { publish: true } });
    expect(publish.status, publish.text).toBe(200);
    const register = await t.request('GET', '/v1/registers/agreements');
    expect(register.body.items).toEqual([
      {
        id,
        title: 'PKS Bawaslu–KPU: verifikasi data calon',
        reference: 'PKS/01/2029',
        recipient: 'Komisi Pemilihan Umum',
        purposes: [VERIFY],
        legalBasis: 'UU 7/2017 pasal 93',
        validFrom: '2029-01-01',
        validTo: '2029-03-31',
      },
    ]);
    const csv = await t.request('GET', '/v1/registers/agreements', { headers: { accept: 'text/csv' } });
    expect(csv.text.split('\r\n')[0]).toBe('id,title,reference,recipient,purposes,legalBasis,validFrom,validTo');
    expect(csv.text).not.toContain('nik');
    const unused = await t.request('GET', '/v1/agreements/reports/unused', { token: who.ppid });
    expect(unused.body.items.map((a: { id: string }) => a.id)).not.toContain(id);
    const expiring = await t.request('GET', '/v1/agreements/reports/expiring?within=60d', { token: who.ppid });
    expect(expiring.body.items).toEqual([
      {
        id,
        title: 'PKS Bawaslu–KPU: verifikasi data calon',
        recipient: 'Komisi Pemilihan Umum',
        validTo: '2029-03-31',
        daysLeft: 58,
      },
    ]);
  });

  it('the row limit is exact under concurrent reads: 429 with the limit and reset time beyond it', async () => {
    await candidates(t, who, 'calon-limit', 40);
    await activeAgreement(t, who, agreementBody('calon-limit', { rowsPerDay: 25 }));
    const reads = await Promise.all(
      Array.from({ length: 8 }, () => readRecords(t, who.kpu, 'calon-limit', VERIFY, '?limit=10')),
    );
    const ok = reads.filter((r) => r.status === 200);
    const refused = reads.filter((r) => r.status === 429);
    expect(ok.length + refused.length).toBe(8);
    const total = ok.reduce((n, r) => n + (r.body.items as unknown[]).length, 0);
    expect(total).toBe(25);
    expect(refused[0]!.body).toMatchObject({
      code: 'AGREEMENT_ROW_LIMIT',
      limit: 25,
      resetAt: '2029-02-01T17:00:00.000Z',
    });
    expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
    // An export is cut at the limit too.
    const csv = await readRecords(t, who.kpu, 'calon-limit', VERIFY, '', 'text/csv');
    expect(csv.status).toBe(429);
    // The next day the allowance is back.
    clock.set('2029-02-01T17:00:00Z');
    try {
      const next = await readRecords(t, who.kpu, 'calon-limit', VERIFY, '?limit=100');
      expect(next.status).toBe(200);
      expect(next.body.items).toHaveLength(25);
    } finally {
      clock.set('2029-02-01T03:00:00Z');
    }
  });
});
