import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditItem } from '../../src/audit/audit.schema.ts';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { PURPOSE, principals, reports, startRecordsApp } from '../records/records-app.ts';
import { createLabelled } from '../records/setup.ts';
import { entry, getAs, tokenFor } from './helpers.ts';

const auditor = await tokenFor('aud-1', ['auditor']);
const PERSONAL = ['reporter_name', 'reporter_nik', 'reporter_phone', 'reporter_birthdate', 'reported_party_status'];

function bars(svg: string) {
  return [...svg.matchAll(/data-whole="(\d+)" data-masked="(\d+)"/g)].reduce(
    (n, m) => ({ whole: n.whole + Number(m[1]), masked: n.masked + Number(m[2]) }),
    { whole: 0, masked: 0 },
  );
}

/**
 * Issue 17's over-count: a read that disclosed no personal-data field, or personal data only
 * masked, was drawn as a "whole" personal-data disclosure. A disclosure entry now names the
 * personal-data fields that left (details.personal) and the reports count only those.
 */
describe.each(databaseKinds())('personal-data disclosures counted on %s', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;
  beforeAll(async () => {
    t = await startRecordsApp(kind);
    who = await principals();
    await createLabelled(t, who.steward32, 'open-ds', 'public');
    await createLabelled(t, who.steward32, 'closed-ds', 'restricted');
    for (const id of ['open-ds', 'closed-ds']) {
      const r = await t.request('POST', `/v1/datasets/${id}/records`, { token: who.steward32, json: reports(10) });
      expect(r.status, r.text).toBe(201);
    }
    // Reads that disclose no personal-data field: open data, and a restricted read without a purpose.
    expect((await t.request('GET', '/v1/public/datasets/open-ds/records')).status).toBe(200);
    expect((await t.request('GET', '/v1/datasets/closed-ds/records', { token: who.staff32 })).status).toBe(200);
    // A read with the purpose: personal data leaves (whole or masked, as the policies say).
    const withPurpose = await t.request('GET', '/v1/datasets/closed-ds/records', {
      token: who.staff32,
      headers: { 'x-purpose': PURPOSE },
    });
    expect(withPurpose.status).toBe(200);
    // Personal data only masked (an entry as a reader with a masking rule writes it).
    await t.deps.services.audit.appendDurable(
      entry({
        event: 'disclosure',
        principal: { sub: 'masked-reader', kind: 'user', roles: ['staff'], unit: '32' },
        resource: { type: 'Dataset', id: 'closed-ds', classification: 'restricted', unit: '32' },
        fields: { whole: ['region', 'category'], masked: ['reporter_nik'], omitted: [] },
        details: { personal: ['reporter_nik'] },
      }),
    );
  });
  afterAll(() => t.close());

  it('counts only reads that disclosed a personal-data field, and as whole only when one left whole', async () => {
    const log = (await getAs(t, auditor, '/v1/audit/decisions?event=disclosure&limit=100')).body.items as AuditItem[];
    const reads = log.filter((i) => i.resource.id === 'open-ds' || i.resource.id === 'closed-ds');
    expect(reads).toHaveLength(4);
    // The entries say which fields were personal data; the ones without any still disclosed fields whole.
    const none = reads.filter((i) => (i.details.personal as string[]).length === 0);
    expect(none).toHaveLength(2);
    expect(none.every((i) => i.fields.whole.length > 0)).toBe(true);
    for (const i of reads) {
      const left = [...i.fields.whole, ...i.fields.masked];
      expect([...(i.details.personal as string[])].sort()).toEqual(left.filter((f) => PERSONAL.includes(f)).sort());
    }
    const personalWhole = (i: AuditItem) => i.fields.whole.some((f) => PERSONAL.includes(f));
    const personalAny = (i: AuditItem) => [...i.fields.whole, ...i.fields.masked].some((f) => PERSONAL.includes(f));
    const expected = {
      whole: reads.filter(personalWhole).length,
      masked: reads.filter((i) => personalAny(i) && !personalWhole(i)).length,
    };
    expect(expected.masked).toBeGreaterThanOrEqual(1);

    const chart = await getAs(t, auditor, '/v1/audit/reports/disclosures.svg?period=day');
    expect(bars(chart.text)).toEqual(expected);

    const report = (await getAs(t, auditor, '/v1/audit/reports/disclosures')).body.items as {
      principal: string | null;
      dataset: string;
      purpose: string | null;
      fieldsWhole: string[];
      fieldsMasked: string[];
      disclosures: number;
    }[];
    expect(report.reduce((n, r) => n + r.disclosures, 0)).toBe(expected.whole + expected.masked);
    expect(report.some((r) => r.dataset === 'open-ds')).toBe(false);
    expect(report.some((r) => r.dataset === 'closed-ds' && r.purpose === null && r.principal === 'staff-32')).toBe(
      false,
    );
    // The report names the personal-data fields only.
    for (const r of report) for (const f of [...r.fieldsWhole, ...r.fieldsMasked]) expect(PERSONAL).toContain(f);
    expect(report.find((r) => r.principal === 'masked-reader')).toMatchObject({
      fieldsWhole: [],
      fieldsMasked: ['reporter_nik'],
      disclosures: 1,
    });
  });
});
