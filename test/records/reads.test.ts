import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntryInput, AuditLog } from '../../src/audit/audit.port.ts';
import { swappable, type TestApp, type TestResponse } from '../helpers/app.ts';
import { databaseKinds, whileTableLocked } from '../helpers/databases.ts';
import { NIKS, PURPOSE, principals, reports, startRecordsApp } from './records-app.ts';
import { createLabelled } from './setup.ts';

const N = 30;
const PARTIAL_NIK = /^3\d{3}\*{10}\d{2}$/;

function ndjson(r: TestResponse): any[] {
  return r.text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

function csv(r: TestResponse): Record<string, string>[] {
  const [head, ...rows] = r.text.trimEnd().split('\r\n');
  const names = head!.split(',');
  // The test data has no commas or quotes in values.
  return rows.map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i], v])));
}

/** Records audit entries, and can be made to fail like an unavailable store. */
function recordingAudit(failDurable = false) {
  const durable: AuditEntryInput[] = [];
  const queued: AuditEntryInput[] = [];
  const log: AuditLog = {
    append: async (e) => (queued.push(e), { id: crypto.randomUUID() }),
    appendDurable: async (e) => {
      if (failDurable) throw new Error('audit store unavailable');
      durable.push(e);
      return { id: crypto.randomUUID() };
    },
    appendWithin: async () => ({ id: crypto.randomUUID() }),
  };
  return { log, durable, queued };
}

describe.each(databaseKinds())('enforced record reads on %s', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;
  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    t.request('GET', path, { ...(token ? { token } : {}), headers });

  const auditLog = swappable<AuditLog>();
  beforeAll(async () => {
    t = await startRecordsApp(kind, {}, { replace: { audit: auditLog.wrap } });
    who = await principals();
    // A public dataset whose non-personal investigator_note is labelled restricted.
    await createLabelled(t, who.steward32, 'open-ds', 'public', { restrictField: 'investigator_note' });
    // Restricted datasets of unit 32; the first one's steward works in 32.01.
    await createLabelled(t, who.steward32, 'closed-ds', 'restricted', { steward: 'steward-3201' });
    await createLabelled(t, who.steward32, 'closed-ds-two', 'restricted');
    for (const id of ['open-ds', 'closed-ds', 'closed-ds-two']) {
      const r = await t.request('POST', `/v1/datasets/${id}/records`, { token: who.steward32, json: reports(N) });
      expect(r.status, r.text).toBe(201);
    }
  });
  afterAll(() => t.close());

  describe('CSV cells', () => {
    it('quotes commas, quotes and line breaks, and defuses text that starts like a spreadsheet formula', async () => {
      await createLabelled(t, who.steward32, 'csv-ds', 'public');
      const [base] = reports(1);
      const record = {
        ...base,
        report_no: 'line one\nline two',
        region: 'a,b',
        category: '=HYPERLINK("http://x.example","klik")',
        investigator_note: '-1+2',
        amount: -5,
      };
      expect(
        (await t.request('POST', '/v1/datasets/csv-ds/records', { token: who.steward32, json: [record] })).status,
      ).toBe(201);
      const r = await t.request('GET', '/v1/public/datasets/csv-ds/records', { headers: { accept: 'text/csv' } });
      expect(r.status, r.text).toBe(200);
      const [head, ...rest] = r.text.split('\r\n');
      const row = rest.join('\r\n');
      const at = (name: string) => head!.split(',').indexOf(name);
      expect(at('report_no')).toBeGreaterThanOrEqual(0);
      expect(row).toContain('"line one\nline two"');
      expect(row).toContain('"a,b"');
      expect(row).toContain(`"'=HYPERLINK(""http://x.example"",""klik"")"`);
      expect(row).toContain(`"'-1+2"`);
      expect(row).toMatch(/(^|,)-5(,|\r\n)/); // a number is a number, not a formula
    });
  });

  describe('row scope', () => {
    it('gives a principal of another unit no restricted rows (the same 404 as a missing dataset)', async () => {
      const r = await get('/v1/datasets/closed-ds/records', who.staff33, { 'x-purpose': PURPOSE });
      const missing = await get('/v1/datasets/nope-ds/records', who.staff33);
      expect(r.status).toBe(404);
      expect(r.body.code).toBe('NOT_FOUND');
      expect(r.text).not.toContain('LP-');
      expect(missing.status).toBe(404);
      for (const format of ['text/csv', 'application/x-ndjson']) {
        const s = await get('/v1/datasets/closed-ds/records', who.staff33, { accept: format });
        expect(s.status).toBe(404);
        expect(s.text).not.toContain('LP-');
      }
    });

    it('limits a principal outside the record units to its own subtree, in SQL', async () => {
      // steward-3201 is the dataset's steward (so sees it) but works in 32.01: only 32.01 rows.
      const all = await get(`/v1/datasets/closed-ds/records?limit=1000`, who.staff32);
      expect(all.body.items).toHaveLength(N);
      const own = await get(`/v1/datasets/closed-ds/records?limit=1000`, who.steward3201);
      expect(own.status).toBe(200);
      // Half the records belong to 32.02. (Their fields are decided separately: this steward's
      // unit is below the owner unit, so no field of theirs is granted; the rows still count.)
      expect(own.body.items).toHaveLength(N / 2);
      const exported = (
        await get(`/v1/datasets/closed-ds/records`, who.steward3201, { accept: 'application/x-ndjson' })
      ).text
        .trim()
        .split('\n');
      expect(exported).toHaveLength(N / 2);
    });
  });

  describe('fields whole, masked or omitted', () => {
    it('masks personal data in every format and on every page', async () => {
      const token = who.staff32;
      const headers = { 'x-purpose': PURPOSE };
      const items: any[] = [];
      let cursor: string | null = '';
      let pages = 0;
      while (cursor !== null) {
        const r = await get(`/v1/datasets/closed-ds/records?limit=7&cursor=${cursor}`, token, headers);
        expect(r.status).toBe(200);
        expect(r.headers.get('x-jaga-fields-masked')).toBe(
          'reporter_name,reporter_nik,reporter_phone,reporter_birthdate,reported_party_status',
        );
        items.push(...r.body.items);
        cursor = r.body.nextCursor;
        pages++;
      }
      expect(pages).toBe(5);
      const pagedNd: any[] = [];
      let next: string | null = '';
      while (next !== null) {
        const r = await get(`/v1/datasets/closed-ds/records?limit=8&cursor=${next}`, token, {
          ...headers,
          accept: 'application/x-ndjson',
        });
        pagedNd.push(...ndjson(r));
        next = r.headers.get('x-next-cursor');
      }
      const nd = ndjson(
        await get('/v1/datasets/closed-ds/records', token, { ...headers, accept: 'application/x-ndjson' }),
      );
      const rows = csv(await get('/v1/datasets/closed-ds/records', token, { ...headers, accept: 'text/csv' }));
      for (const set of [items, pagedNd, nd, rows]) {
        expect(set).toHaveLength(N);
        for (const it of set) {
          expect(it.reporter_nik).toMatch(PARTIAL_NIK);
          expect(it.reporter_phone).toMatch(/^0812\*+\d{2}$/);
          expect(it.reporter_name).toMatch(/^S\*+ R\*+ \d\**$/);
          expect(String(it.reporter_birthdate)).toBe('1990');
          expect(it.reported_party_status).toMatch(/^psn_[\w-]{22}$/);
          expect(it.investigator_note).toMatch(/^catatan internal/); // restricted, not personal: whole
        }
      }
      // No whole NIK anywhere, in any representation.
      for (const text of [JSON.stringify(items), JSON.stringify(nd), JSON.stringify(rows)]) {
        for (const nik of NIKS) expect(text).not.toContain(nik);
        expect(text).not.toContain('Siti Rahma');
      }
    });

    it('omits personal data without a purpose and says why', async () => {
      const r = await get('/v1/datasets/closed-ds/records?limit=3', who.staff32);
      expect(r.status).toBe(200);
      expect(Object.keys(r.body.items[0]).sort()).toEqual([
        'amount',
        'category',
        'investigator_note',
        'received_on',
        'region',
        'report_no',
      ]);
      expect(r.headers.get('x-jaga-fields-omitted')).toBe(
        'reporter_name,reporter_nik,reporter_phone,reporter_birthdate,reported_party_status',
      );
      expect(r.headers.get('x-jaga-omitted-reason')).toMatch(/no purpose declared/);
      expect(r.text).not.toContain('Siti');
      // A purpose held but not one the data allows: the reason names it, and the fields it withholds.
      const other = await get('/v1/datasets/closed-ds/records?limit=1&purpose=statistik', who.staff32);
      expect(other.status).toBe(200);
      expect(other.headers.get('x-jaga-omitted-reason')).toMatch(/^purpose "statistik" does not allow: \w/);
      expect(other.headers.get('x-purpose')).toBe('statistik');
    });

    it('shows a steward of the unit general personal data whole for a purpose, specific data pseudonymised', async () => {
      const r = await get(`/v1/datasets/closed-ds/records?limit=1&purpose=${PURPOSE}`, who.steward32);
      expect(r.body.items[0].reporter_nik).toBe(NIKS[0]);
      expect(r.body.items[0].reported_party_status).toMatch(/^psn_/);
      expect(r.headers.get('x-jaga-fields-masked')).toBe('reported_party_status');
    });

    it('refuses a purpose the principal does not hold', async () => {
      for (const r of [
        await get('/v1/datasets/closed-ds/records', who.staff32, { 'x-purpose': 'kampanye' }),
        await get('/v1/datasets/closed-ds/records?purpose=kampanye', who.staff32, { accept: 'text/csv' }),
      ]) {
        expect(r.status).toBe(403);
        expect(r.body.code).toBe('PURPOSE_NOT_HELD');
        expect(r.text).not.toContain('LP-');
      }
    });
  });

  describe('filters', () => {
    it('refuses a filter on a field the caller does not see whole (omitted or masked)', async () => {
      const omitted = await get(`/v1/datasets/closed-ds/records?reporter_nik=${NIKS[0]}`, who.staff32);
      expect(omitted.status).toBe(403);
      expect(omitted.body.code).toBe('FILTER_NOT_ALLOWED');
      const masked = await get(`/v1/datasets/closed-ds/records?reporter_nik[gte]=3201`, who.staff32, {
        'x-purpose': PURPOSE,
      });
      expect(masked.status).toBe(403);
      expect(masked.body.code).toBe('FILTER_NOT_ALLOWED');
      const open = await get(`/v1/public/datasets/open-ds/records?investigator_note=x`);
      expect(open.status).toBe(403);
    });

    it('filters by equality and ranges on visible fields, in SQL', async () => {
      const eq = await get('/v1/datasets/closed-ds/records?category=politik%20uang&limit=1000', who.staff32);
      expect(eq.body.items).toHaveLength(N / 3);
      const range = await get('/v1/datasets/closed-ds/records?amount[gte]=100&amount[lt]=150', who.staff32);
      expect(range.body.items.map((i: any) => i.amount)).toEqual([100, 110, 120, 130, 140]);
      const dates = await get('/v1/datasets/closed-ds/records?received_on[lte]=2024-02-02&limit=1000', who.staff32);
      expect(dates.body.items.every((i: any) => i.received_on <= '2024-02-02')).toBe(true);
      expect(dates.body.items.length).toBeGreaterThan(0);
      const byNik = await get(`/v1/datasets/closed-ds/records?reporter_nik=${NIKS[1]}&limit=1000`, who.steward32, {
        'x-purpose': PURPOSE,
      });
      expect(byNik.body.items).toHaveLength(N / NIKS.length);
      const bad = await get('/v1/datasets/closed-ds/records?amount[gte]=ten', who.staff32);
      expect(bad.status).toBe(400);
      const unknown = await get('/v1/datasets/closed-ds/records?nope=1', who.staff32);
      expect(unknown.status).toBe(400);
    });
  });

  describe('pseudonyms', () => {
    it('are stable across reads and differ across datasets', async () => {
      const read = async (id: string) =>
        (await get(`/v1/datasets/${id}/records?limit=1`, who.staff32, { 'x-purpose': PURPOSE })).body.items[0]
          .reported_party_status as string;
      const first = await read('closed-ds');
      expect(await read('closed-ds')).toBe(first);
      const nd = ndjson(
        await get('/v1/datasets/closed-ds/records', who.staff32, {
          'x-purpose': PURPOSE,
          accept: 'application/x-ndjson',
        }),
      );
      expect(nd[0].reported_party_status).toBe(first);
      const other = await read('closed-ds-two');
      expect(other).toMatch(/^psn_/);
      expect(other).not.toBe(first);
    });
  });

  describe('audit', () => {
    it('records a restricted read durably, with fields, purpose and row count, and never a value', async () => {
      const audit = recordingAudit();
      auditLog.use(audit.log);
      try {
        const r = await get(`/v1/datasets/closed-ds/records?limit=4&reporter_nik=${NIKS[0]}`, who.steward32, {
          'x-purpose': PURPOSE,
        });
        expect(r.status).toBe(200);
        expect(audit.durable).toHaveLength(1);
        const e = audit.durable[0]!;
        expect(e).toMatchObject({
          event: 'disclosure',
          action: 'read',
          resource: { type: 'Dataset', id: 'closed-ds', classification: 'restricted' },
          purpose: PURPOSE,
          rowCount: 4,
          fields: { masked: ['reported_party_status'], omitted: [] },
        });
        expect(e.policyVersion).toBeTruthy();
        expect(e.resource.labelVersion).toBeGreaterThan(0);
        expect(e.details).toMatchObject({ filters: ['reporter_nik[eq]'], cursorFrom: '0' });
        expect(r.headers.get('x-decision-id')).toMatch(/^[0-9a-f-]{36}$/);
        expect(JSON.stringify(audit.durable)).not.toContain(NIKS[0]);

        // Public data is logged without waiting for durability.
        const open = await get('/v1/public/datasets/open-ds/records?limit=2');
        expect(open.status).toBe(200);
        expect(audit.durable).toHaveLength(1);
        expect(audit.queued.at(-1)).toMatchObject({
          event: 'disclosure',
          resource: { id: 'open-ds' },
          details: { route: 'open-data' },
        });
      } finally {
        auditLog.use(null);
      }
    });

    it('answers 503 and discloses no record bytes when the audit log cannot record a restricted read', async () => {
      auditLog.use(recordingAudit(true).log);
      try {
        for (const accept of ['application/json', 'application/x-ndjson', 'text/csv']) {
          const r = await get('/v1/datasets/closed-ds/records', who.staff32, { accept, 'x-purpose': PURPOSE });
          expect(r.status).toBe(503);
          expect(r.body.code).toBe('AUDIT_UNAVAILABLE');
          expect(r.text).not.toContain('LP-');
          expect(r.text).not.toContain('catatan');
          expect(r.headers.get('x-decision-id')).toBeNull();
        }
        // Open data does not wait for the audit log.
        expect((await get('/v1/public/datasets/open-ds/records')).status).toBe(200);
      } finally {
        auditLog.use(null);
      }
    });

    it('answers 503 for open data too when the audit log cannot even queue the entry, and hands out no id it does not hold', async () => {
      const refusing: AuditLog = {
        append: async () => {
          throw new Error('audit queue closed');
        },
        appendDurable: async () => {
          throw new Error('audit queue closed');
        },
        appendWithin: async () => ({ id: crypto.randomUUID() }),
      };
      auditLog.use(refusing);
      try {
        for (const accept of ['application/json', 'application/x-ndjson', 'text/csv']) {
          const r = await get('/v1/public/datasets/open-ds/records', undefined, { accept });
          expect(r.status).toBe(503);
          expect(r.body.code).toBe('AUDIT_UNAVAILABLE');
          expect(r.text).not.toContain('LP-');
          expect(r.headers.get('x-decision-id')).toBeNull();
        }
      } finally {
        auditLog.use(null);
      }
    });

    it('answers 503 with no record bytes when the real audit table is gone, and serves again once it is back', async () => {
      await t.db.sql`alter table audit_entry rename to audit_entry_away`;
      try {
        for (const accept of ['application/json', 'application/x-ndjson', 'text/csv']) {
          const r = await get('/v1/datasets/closed-ds/records', who.staff32, { accept });
          expect(r.status).toBe(503);
          expect(r.body.code).toBe('AUDIT_UNAVAILABLE');
          expect(r.text).not.toContain('LP-');
        }
      } finally {
        await t.db.sql`alter table audit_entry_away rename to audit_entry`;
      }
      const again = await get('/v1/datasets/closed-ds/records?limit=1', who.staff32);
      expect(again.status).toBe(200);
      const [entry] = await t.db
        .sql`select event, resource_id from audit_entry where id = ${again.headers.get('x-decision-id')!}::uuid`;
      expect(entry).toMatchObject({ event: 'disclosure', resource_id: 'closed-ds' });
    });

    if (kind === 'postgres') {
      it(
        'answers 503 with no record bytes while another session holds the audit table locked',
        { timeout: 30_000 },
        async () => {
          await whileTableLocked((t.db as { url?: string }).url!, 'audit_entry', async () => {
            const r = await get('/v1/datasets/closed-ds/records', who.staff32, {
              accept: 'text/csv',
              'x-purpose': PURPOSE,
            });
            expect(r.status).toBe(503);
            expect(r.body.code).toBe('AUDIT_UNAVAILABLE');
            expect(r.text).not.toContain('LP-');
          });
        },
      );
    }
  });
});
