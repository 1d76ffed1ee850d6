import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds, type DatabaseKind } from '../helpers/databases.ts';
import { tokenFor } from '../catalog/catalog-app.ts';
import {
  activeAgreement,
  agreementBody,
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

/**
 * Exempt data under an agreement (issue 20: "where the agreement says so and the label allows it"),
 * through the API on both databases: an exempt field leaves for a partner system exactly when the
 * agreement opts in to it and the field's exemption record (DIK) lists the agreement's legal basis.
 */
const DATASET = 'calon-dik';
const FIELDS = [
  { name: 'nama', type: 'string', personalData: 'name' },
  { name: 'nik', type: 'string', personalData: 'nik' },
  { name: 'partai', type: 'string' },
  // Exempt under UU 14/2008 art. 17 letter h (personal secrets: education records, evaluations).
  { name: 'riwayat_pendidikan', type: 'string', personalData: 'other_general' },
  { name: 'telepon', type: 'string', personalData: 'phone' },
  { name: 'alamat', type: 'string', personalData: 'address' },
  { name: 'nilai_tes', type: 'string', personalData: 'other_general' },
];

/** The agreement's fields: two exempt fields opted in (one masked), one exempt field covered without it. */
const COVERED = {
  nama: 'whole',
  nik: 'masked',
  partai: 'whole',
  riwayat_pendidikan: { coverage: 'whole', exempt: true },
  telepon: { coverage: 'masked', exempt: true },
  alamat: 'whole',
  nilai_tes: { coverage: 'whole', exempt: true },
};

async function dataset(t: TestApp, who: Who, id: string): Promise<void> {
  const made = await t.request('POST', '/v1/datasets', {
    token: who.steward,
    json: { id, title: `Calon dan riwayatnya ${id}`, ownerUnit: '32', fields: FIELDS },
  });
  expect(made.status, made.text).toBe(201);
  const label = await t.request('PUT', `/v1/datasets/${id}/label`, {
    token: who.steward,
    json: { classification: 'restricted' },
  });
  expect(label.status, label.text).toBe(200);
  const rows = Array.from({ length: 3 }, (_, i) => ({
    nama: `Calon ${i}`,
    nik: `32010145069${String(i).padStart(5, '0')}`,
    partai: 'A',
    riwayat_pendidikan: `S1 Hukum ${i}`,
    telepon: `08123456789${i}`,
    alamat: `Jl. Merdeka No. ${i}`,
    nilai_tes: `${70 + i}`,
  }));
  const put = await t.request('POST', `/v1/datasets/${id}/records`, { token: who.steward, json: rows });
  expect(put.status, put.text).toBe(201);
  for (const f of ['riwayat_pendidikan', 'telepon', 'alamat', 'nilai_tes']) await exemptField(t, who, id, f);
}

const fieldCheck = (t: TestApp, token: string, field: string, purpose: string | null = VERIFY) =>
  check(t, token, {
    action: 'read',
    resource: { type: 'Field', id: `${DATASET}/${field}` },
    ...(purpose ? { purpose } : {}),
  });

describe.each(databaseKinds())('exempt data under an agreement (%s)', (kind: DatabaseKind) => {
  const clock = testClock('2029-02-01T03:00:00Z');
  let t: TestApp;
  let who: Who;
  let pks: string;
  beforeAll(async () => {
    t = await startAgreementsApp(kind, clock);
    who = await principals();
    await dataset(t, who, DATASET);
    // The DIK records allow sharing under the election law (spelt another way than the agreement does),
    // except nilai_tes's, which allows another statute only.
    for (const f of ['riwayat_pendidikan', 'telepon', 'alamat']) {
      const shared = await shareExemption(t, who.ppid, DATASET, f, ['Undang-Undang Nomor 7 Tahun 2017 Pasal 93']);
      expect(shared.status, shared.text).toBe(200);
    }
    expect((await shareExemption(t, who.ppid, DATASET, 'nilai_tes', ['UU 14/2008 pasal 18 ayat (3)'])).status).toBe(
      200,
    );
    pks = await activeAgreement(t, who, agreementBody(DATASET, { datasets: [{ id: DATASET, fields: COVERED }] }));
  });
  afterAll(() => t.close());

  it('a read discloses an exempt field exactly when the agreement opts in and the DIK record allows its basis (masked as it says)', async () => {
    const r = await readRecords(t, who.kpu, DATASET, VERIFY);
    expect(r.status, r.text).toBe(200);
    expect(r.body.items).toHaveLength(3);
    for (const item of r.body.items) {
      expect(Object.keys(item).sort()).toEqual(['nama', 'nik', 'partai', 'riwayat_pendidikan', 'telepon']);
      expect(item.telepon).not.toMatch(/^08123456789\d$/);
      expect(item.telepon).toContain('*');
    }
    expect(r.body.items[1].riwayat_pendidikan).toBe('S1 Hukum 1');
    expect(r.headers.get('x-jaga-fields-omitted')?.split(',').sort()).toEqual(['alamat', 'nilai_tes']);
    expect(r.headers.get('x-jaga-fields-masked')?.split(',').sort()).toEqual(['nik', 'telepon']);
  });

  it('/v1/check says the same, each failing condition by its code (as data, 200)', async () => {
    const whole = await fieldCheck(t, who.kpu, 'riwayat_pendidikan');
    expect(whole.status, whole.text).toBe(200);
    expect(whole.body).toMatchObject({
      allow: true,
      ruleId: 'service.field.read-exempt-agreement',
      fields: { allowed: ['riwayat_pendidikan'] },
    });
    const masked = await fieldCheck(t, who.kpu, 'telepon');
    expect(masked.body).toMatchObject({ allow: true, fields: { masked: ['telepon'] }, masks: { telepon: 'partial' } });
    const noOptIn = await fieldCheck(t, who.kpu, 'alamat');
    expect(noOptIn.status).toBe(200);
    expect(noOptIn.body.allow).toBe(false);
    expect(noOptIn.body.reason).toContain('EXEMPT_NOT_IN_AGREEMENT');
    expect(noOptIn.body.reason).toMatch(/exempt information DIK\//);
    const notShareable = await fieldCheck(t, who.kpu, 'nilai_tes');
    expect(notShareable.body.allow).toBe(false);
    expect(notShareable.body.reason).toContain('EXEMPTION_NOT_SHAREABLE');
    // No purpose, no exempt data; another service principal has no agreement at all.
    expect((await fieldCheck(t, who.kpu, 'riwayat_pendidikan', null)).body.allow).toBe(false);
    const other = await fieldCheck(t, who.otherService, 'riwayat_pendidikan');
    expect(other.body.allow).toBe(false);
    expect(other.body.reason).toContain('NO_AGREEMENT');
    // Asked about the dataset with its fields, the same split.
    const ds = await check(t, who.kpu, {
      action: 'read',
      resource: { type: 'Dataset', id: DATASET },
      fields: ['riwayat_pendidikan', 'telepon', 'alamat', 'nilai_tes'],
      purpose: VERIFY,
    });
    expect(ds.body.fields.allowed).toEqual(['riwayat_pendidikan']);
    expect(ds.body.fields.masked).toEqual(['telepon']);
    expect([...ds.body.fields.denied].sort()).toEqual(['alamat', 'nilai_tes']);
    // A Field plan names the attribute: a caller evaluating it cannot know it, and must ask /v1/check.
    const plan = await t.request('POST', '/v1/plan', {
      token: who.kpu,
      json: { action: 'read', resourceType: 'Field', purpose: VERIFY },
    });
    expect(plan.status, plan.text).toBe(200);
    expect(plan.text).toContain('agreementExempt');
  });

  it('a caller cannot claim the attribute: a staff check by attributes saying `agreementExempt: shared` is still denied', async () => {
    const staff = await tokenFor({ sub: 'staff-32', roles: ['staff'], unit: '32', purposes: [VERIFY] });
    const r = await check(t, staff, {
      action: 'read',
      resource: {
        type: 'Field',
        attributes: {
          datasetId: DATASET,
          ownerUnit: '32',
          name: 'riwayat_pendidikan',
          classification: 'exempt',
          personalData: 'other_general',
          personalDataKind: 'general',
          agreement: 'whole',
          agreementExempt: 'shared',
        },
      },
      purpose: VERIFY,
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.allow).toBe(false);
  });

  it('the disclosure’s entry names the agreement and marks the exempt content, its DIK records and legal basis; the report counts it apart', async () => {
    const r = await readRecords(t, who.kpu, DATASET, VERIFY);
    expect(r.status).toBe(200);
    const log = await t.request('GET', `/v1/audit/decisions?dataset=${DATASET}&limit=100`, { token: who.auditor });
    expect(log.status, log.text).toBe(200);
    const disclosures = log.body.items.filter(
      (i: { event: string; principal: { sub: string } }) =>
        i.event === 'disclosure' && i.principal.sub === 'svc-kpu-silon',
    );
    expect(disclosures.length).toBeGreaterThanOrEqual(2);
    for (const d of disclosures) {
      expect(d.agreementId).toBe(pks);
      expect(d.details.exemptFields).toEqual(['riwayat_pendidikan', 'telepon']);
      expect(d.details.exemptBasis).toBe('uu_7/2017_pasal_93');
      expect(d.details.exemptDik).toHaveLength(2);
      for (const no of d.details.exemptDik) expect(no).toMatch(/^DIK\/32\/\d{4}\/\d+$/);
    }
    const report = await t.request('GET', '/v1/agreements/reports/disclosures', { token: who.ppid });
    const mine = report.body.items.filter((i: { agreementId: string }) => i.agreementId === pks);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ fieldsExempt: ['riwayat_pendidikan', 'telepon'] });
    expect(mine[0].exemptReads).toBe(mine[0].reads);
    const csv = await t.request('GET', '/v1/agreements/reports/disclosures', {
      token: who.ppid,
      headers: { accept: 'text/csv' },
    });
    expect(csv.text.split('\r\n')[0]).toContain('exemptReads,fieldsExempt');
  });

  it('the sharing list is a DIK change by a PPID only: in the label history and the audit log; the public DIK does not show it', async () => {
    expect((await shareExemption(t, who.steward, DATASET, 'alamat', [ELECTION_LAW])).status).toBe(403);
    expect((await shareExemption(t, who.stewardPpid, DATASET, 'nama', [ELECTION_LAW])).body.code).toBe('NO_EXEMPTION');
    expect((await shareExemption(t, who.ppid33, DATASET, 'alamat', [ELECTION_LAW])).status).toBe(404);
    const history = await t.request('GET', `/v1/datasets/${DATASET}/labels`, { token: who.ppid });
    expect(history.status, history.text).toBe(200);
    const sharing = history.body.items.filter((e: { event: string }) => e.event === 'sharing');
    expect(sharing).toHaveLength(4);
    expect(sharing[0]).toMatchObject({
      field: 'riwayat_pendidikan',
      from: 'exempt',
      to: 'exempt',
      sharing: { shareableUnder: ['Undang-Undang Nomor 7 Tahun 2017 Pasal 93'] },
      by: { sub: 'ppid-32' },
    });
    // A field's label change names the field as its resource (`dataset/field`).
    const log = await t.request('GET', '/v1/audit/decisions?limit=500', { token: who.auditor });
    expect(log.status, log.text).toBe(200);
    const changes = log.body.items.filter(
      (i: { event: string; resource: { id: string }; details: { labelEvent?: string } }) =>
        i.event === 'label_change' && i.details.labelEvent === 'sharing' && i.resource.id.startsWith(`${DATASET}/`),
    );
    expect(changes).toHaveLength(4);
    expect(changes.map((c: { details: { shareableUnder: string[] } }) => c.details.shareableUnder)).toContainEqual([
      'uu_7/2017_pasal_93',
    ]);
    // Nor does the label history answered to the public (a public dataset with an exempt field).
    const open = 'calon-terbuka';
    expect(
      (
        await t.request('POST', '/v1/datasets', {
          token: who.steward,
          json: { id: open, title: 'Calon terbuka', ownerUnit: '32', fields: FIELDS },
        })
      ).status,
    ).toBe(201);
    expect(
      (await t.request('PUT', `/v1/datasets/${open}/label`, { token: who.steward, json: { classification: 'public' } }))
        .status,
    ).toBe(200);
    await exemptField(t, who, open, 'riwayat_pendidikan');
    expect((await shareExemption(t, who.ppid, open, 'riwayat_pendidikan', [ELECTION_LAW])).status).toBe(200);
    const anonymous = await t.request('GET', `/v1/datasets/${open}/labels`);
    expect(anonymous.status, anonymous.text).toBe(200);
    expect(anonymous.body.items.map((e: { event: string }) => e.event)).toContain('sharing');
    expect(anonymous.text).not.toMatch(/shareableUnder|pasal 93/i);
    const staffView = await t.request('GET', `/v1/datasets/${open}/labels`, { token: who.ppid });
    expect(staffView.text).toContain('shareableUnder');
    const dik = await t.request('GET', '/v1/registers/exempt?limit=100');
    expect(dik.status, dik.text).toBe(200);
    const entries = JSON.stringify(dik.body.items.filter((e: { id: string }) => e.id === DATASET));
    expect(entries).toContain('riwayat_pendidikan');
    expect(entries).not.toMatch(/shareable|Pasal 93|pasal 93/i);
  });

  it('the drafter cannot approve an agreement that opts in to exempt content; a signed agreement cannot gain one', async () => {
    const body = agreementBody(DATASET, {
      reference: 'PKS/02/2029',
      datasets: [{ id: DATASET, fields: { riwayat_pendidikan: { coverage: 'whole', exempt: true } } }],
    });
    const made = await t.request('POST', '/v1/agreements', { token: who.stewardPpid, json: body });
    expect(made.status, made.text).toBe(201);
    expect(made.body.datasets[0].fields.riwayat_pendidikan).toEqual({ coverage: 'whole', exempt: true });
    const self = await t.request('POST', `/v1/agreements/${made.body.id}/approve`, { token: who.stewardPpid });
    expect(self.status).toBe(403);
    expect(self.body.code).toBe('SELF_APPROVAL');
    const patch = await t.request('PATCH', `/v1/agreements/${pks}`, {
      token: who.steward,
      json: { datasets: [{ id: DATASET, fields: { ...COVERED, alamat: { coverage: 'whole', exempt: true } } }] },
    });
    expect(patch.status).toBe(409);
    const bad = await t.request('POST', '/v1/agreements', {
      token: who.steward,
      json: agreementBody(DATASET, { datasets: [{ id: DATASET, fields: { alamat: { exempt: true } } }] }),
    });
    expect(bad.status).toBe(400);
  });

  it('the day after validTo the exempt field goes with the rest: AGREEMENT_EXPIRED', async () => {
    clock.set('2029-03-31T17:00:00Z'); // 1 April 2029, 00:00 WIB
    try {
      const r = await readRecords(t, who.kpu, DATASET, VERIFY);
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('AGREEMENT_EXPIRED');
      const c = await fieldCheck(t, who.kpu, 'riwayat_pendidikan');
      expect(c.body.allow).toBe(false);
      expect(c.body.reason).toContain('AGREEMENT_EXPIRED');
    } finally {
      clock.set('2029-02-01T03:00:00Z');
    }
  });

  it('a PPID removing the agreement’s legal basis from the DIK record stops the next read and check at once', async () => {
    expect((await readRecords(t, who.kpu, DATASET, VERIFY)).body.items[0]).toHaveProperty('riwayat_pendidikan');
    const removed = await shareExemption(t, who.ppid, DATASET, 'riwayat_pendidikan', ['UU 14/2008 pasal 18 ayat (3)']);
    expect(removed.status, removed.text).toBe(200);
    const r = await readRecords(t, who.kpu, DATASET, VERIFY);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.items[0]).sort()).toEqual(['nama', 'nik', 'partai', 'telepon']);
    const c = await fieldCheck(t, who.kpu, 'riwayat_pendidikan');
    expect(c.body.allow).toBe(false);
    expect(c.body.reason).toContain('EXEMPTION_NOT_SHAREABLE');
    // An empty list shares nothing at all.
    expect((await shareExemption(t, who.ppid, DATASET, 'telepon', [])).status).toBe(200);
    const none = await readRecords(t, who.kpu, DATASET, VERIFY);
    expect(Object.keys(none.body.items[0]).sort()).toEqual(['nama', 'nik', 'partai']);
  });
});
