import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/audit.verify.ts';
import { entry } from '../audit/helpers.ts';
import { EXEMPTION, tokenFor } from '../catalog/catalog-app.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { hsToken } from '../identity/tokens.ts';
import { reports, reportsDataset } from '../records/records-app.ts';
import { createLabelled } from '../records/setup.ts';
import {
  anyText,
  expectNoServerError,
  mostlyNames,
  pathSegment,
  query,
  roundTrips,
  someText,
  urlSees,
} from './text-helpers.ts';

/**
 * Issue 14: arbitrary strings (any code point, lone surrogates, NUL, white space, controls)
 * through every text input that reaches the database. Each is either refused at the door (4xx
 * problem+json with a stable code) or stored, read back identical, with the chain verifying;
 * never a 5xx. Text that cannot round-trip (the test's own oracle) is always refused.
 */

// TEXT_PROPERTY_RUNS raises the count for a longer search (default kept small: two cores).
const RUNS = Number(process.env.TEXT_PROPERTY_RUNS ?? 40);
const run = (property: fc.IAsyncProperty<any>) => fc.assert(property, { numRuns: RUNS });

/** How often each branch was taken, so a property that only ever refuses (or only accepts) fails. */
function tally() {
  const n = { stored: 0, refused: 0 };
  return {
    n,
    stored: () => void n.stored++,
    refused: () => void n.refused++,
    bothSeen: () => {
      expect(n.stored, 'some inputs are stored').toBeGreaterThan(0);
      expect(n.refused, 'some inputs are refused').toBeGreaterThan(0);
    },
  };
}

describe.each(databaseKinds())('text round trips on %s (property-based)', (kind) => {
  let t: TestApp;
  let steward: string, staff: string, auditor: string;
  let serial = 0;
  const unique = (prefix: string) => `${prefix}-${++serial}`;

  async function chainOk(): Promise<void> {
    await t.deps.services.audit.appendDurable(entry({ requestId: `barrier-${crypto.randomUUID()}` }));
    expect(await verifyChain(t.db.sql, {})).toMatchObject({ ok: true });
  }

  /** The audit entries a request left (found by its request id). */
  async function entriesOf(requestId: string) {
    await chainOk();
    const res = await t.request('GET', `/v1/audit/decisions${query({ requestId })}`, { token: auditor });
    expect(res.status, res.text).toBe(200);
    return res.body.items as {
      event: string;
      principal: { sub: string | null };
      resource: { id: string | null };
      purpose: string | null;
      reason: string;
      details: Record<string, unknown>;
    }[];
  }

  beforeAll(async () => {
    // Round trips of arbitrary text, not detection: random text can look like personal data (a phone
    // number, an ICD-10 code) and a public free-text field would then be quarantined, failing closed.
    // Confidence 1 is reached only with a column-name hint, which these fields do not have.
    t = await startApp(kind, { DETECTION_QUARANTINE_CONFIDENCE: '1' });
    steward = await tokenFor({ sub: 'steward-32', roles: ['steward'], unit: '32' });
    staff = await tokenFor({ sub: 'staff-32', roles: ['staff'], unit: '32' });
    auditor = await tokenFor({ sub: 'auditor-ri', roles: ['auditor'], unit: 'RI' });
    await createLabelled(t, steward, 'open-reports', 'public');
    await createLabelled(t, steward, 'closed-reports', 'restricted');
    // Field relabels with arbitrary names go to a dataset of their own: relabelling open-reports'
    // fields restricted, one name at a time, would end with nothing of it public (a 404 for the public).
    await createLabelled(t, steward, 'relabelled-reports', 'public');
    for (const id of ['open-reports', 'closed-reports']) {
      const res = await t.request('POST', `/v1/datasets/${id}/records`, { token: steward, json: reports(3) });
      expect(res.status, res.text).toBe(201);
    }
  });
  afterAll(() => t?.close());

  it('dataset ids and field names in paths: a 2xx, 404 or a 400 problem, never a 5xx', async () => {
    await run(
      fc.asyncProperty(anyText(), async (s) => {
        const seg = pathSegment(s);
        const codes = ['VALIDATION_FAILED', 'NOT_FOUND', 'ROUTE_NOT_FOUND', 'METHOD_NOT_ALLOWED'];
        expectNoServerError(await t.request('GET', `/v1/datasets/${seg}`, { token: steward }), codes);
        expectNoServerError(await t.request('GET', `/v1/datasets/${seg}/labels`, { token: steward }), codes);
        expectNoServerError(await t.request('GET', `/v1/datasets/${seg}/records`, { token: staff }), codes);
        expectNoServerError(await t.request('GET', `/v1/public/datasets/${seg}/records`), codes);
        expectNoServerError(
          await t.request('PUT', `/v1/datasets/${seg}/label`, { token: steward, json: { classification: 'public' } }),
          [...codes, 'FORBIDDEN'],
        );
        expectNoServerError(
          await t.request('PUT', `/v1/datasets/relabelled-reports/fields/${seg}/label`, {
            token: steward,
            json: { classification: 'restricted' },
          }),
          [...codes, 'FORBIDDEN', 'LABEL_NOT_STRICTER'],
        );
      }),
    );
    await chainOk();
  });

  it('titles, descriptions and sourceSystem: stored and read back (trimmed) or 400, and the sourceSystem filter finds them', async () => {
    const seen = tally();
    await run(
      fc.asyncProperty(someText(), anyText(), someText(30), async (title, description, sourceSystem) => {
        const id = unique('ds');
        const created = await t.request('POST', '/v1/datasets', {
          token: steward,
          json: { ...reportsDataset(id), title, description, sourceSystem },
        });
        expectNoServerError(created, ['VALIDATION_FAILED']);
        if (!roundTrips(title) || !roundTrips(description) || !roundTrips(sourceSystem))
          expect(created.status, created.text).toBe(400);
        if (created.status !== 201) return seen.refused();
        seen.stored();
        const back = await t.request('GET', `/v1/datasets/${id}`, { token: steward });
        expect(back.body).toMatchObject({
          title: title.trim(),
          description: description.trim(),
          sourceSystem: sourceSystem.trim(),
        });
        const listed = await t.request('GET', `/v1/datasets${query({ sourceSystem })}`, { token: steward });
        expectNoServerError(listed, ['VALIDATION_FAILED']);
        if (sourceSystem.trim()) expect(listed.body.items.map((d: { id: string }) => d.id)).toContain(id);
      }),
    );
    seen.bothSeen();
    await chainOk();
  });

  it('exemption subject, consequence test and justification: stored and read back (trimmed), or 400', async () => {
    const seen = tally();
    await run(
      fc.asyncProperty(someText(60), someText(), someText(), async (subject, harm, justification) => {
        const id = unique('lbl');
        const made = await t.request('POST', '/v1/datasets', { token: steward, json: reportsDataset(id) });
        expect(made.status, made.text).toBe(201);
        // The harm is long enough for the rules whatever the generated text adds.
        const fullHarm = `Disclosure would expose reporters to retaliation. ${harm}`;
        const res = await t.request('PUT', `/v1/datasets/${id}/label`, {
          token: steward,
          json: {
            ...EXEMPTION,
            grounds: ['17a'],
            statute: undefined,
            subject,
            consequenceTest: { ...EXEMPTION.consequenceTest, harm: fullHarm },
            justification,
          },
        });
        expectNoServerError(res, ['VALIDATION_FAILED', 'EXEMPTION_INCOMPLETE']);
        if (![subject, harm, justification].every(roundTrips)) expect(res.status, res.text).toBe(400);
        if (res.status !== 202) return seen.refused();
        seen.stored();
        expect(res.body.pending).toMatchObject({
          grounds: ['17a'],
          consequenceTest: { harm: fullHarm.trim() },
        });
        const [record] = await t.db.sql`select subject from exemptions where dataset_id = ${id}`;
        expect(record).toEqual({ subject: subject.trim() });
        const history = await t.request('GET', `/v1/datasets/${id}/labels`, { token: steward });
        expect(history.body.items.at(-1)).toMatchObject({
          event: 'proposal',
          justification: justification.trim(),
          grounds: ['17a'],
        });
      }),
    );
    seen.bothSeen();
    await chainOk();
  });

  it('record values (JSON, NDJSON, CSV): stored and read back identical, and found by a filter, or 422 RECORDS_INVALID with nothing stored', async () => {
    const seen = tally();
    await run(
      fc.asyncProperty(
        anyText(),
        fc.constantFrom('json', 'ndjson', 'csv'),
        fc.constantFrom('open-reports', 'closed-reports'),
        async (note, format, dataset) => {
          const reportNo = unique('LP');
          const record = { ...reports(1)[0]!, report_no: reportNo, investigator_note: note };
          // What the client actually sends: a CSV body is UTF-8 bytes, where a lone surrogate is already U+FFFD.
          let sent = note;
          let body: string;
          let type: string;
          if (format === 'json') [body, type] = [JSON.stringify([record]), 'application/json'];
          else if (format === 'ndjson') [body, type] = [JSON.stringify(record) + '\n', 'application/x-ndjson'];
          else {
            sent = Buffer.from(note, 'utf8').toString('utf8');
            const cell = (x: unknown) => `"${String(x).replaceAll('"', '""')}"`;
            body = `report_no,region,investigator_note\r\n${cell(reportNo)},${cell('32.01')},${cell(note)}\r\n`;
            type = 'text/csv';
          }
          const res = await t.request('POST', `/v1/datasets/${dataset}/records`, {
            token: steward,
            body,
            headers: { 'content-type': type },
          });
          expectNoServerError(res, ['RECORDS_INVALID']);
          const stored = await t.db.sql<
            { n: number }[]
          >`select count(*)::int as n from records where data->>'report_no' = ${reportNo}`;
          if (!roundTrips(sent)) expect(res.status, res.text).toBe(422);
          if (res.status !== 201) {
            expect(stored[0]!.n).toBe(0);
            return seen.refused();
          }
          seen.stored();
          expect(stored[0]!.n).toBe(1);
          const expected = format === 'csv' && sent === '' ? null : sent;
          const reader = dataset === 'open-reports' ? '/v1/public/datasets' : '/v1/datasets';
          const back = await t.request(
            'GET',
            `${reader}/${dataset}/records${query({ report_no: reportNo })}`,
            dataset === 'open-reports' ? {} : { token: staff },
          );
          expect(back.status, back.text).toBe(200);
          expect(back.body.items.map((r: { investigator_note: unknown }) => r.investigator_note)).toEqual([expected]);
          // A filter on the value finds the record (an empty filter value is refused: it names no value).
          const filtered = await t.request(
            'GET',
            `${reader}/${dataset}/records${query({ investigator_note: sent })}`,
            dataset === 'open-reports' ? {} : { token: staff },
          );
          expectNoServerError(filtered, ['VALIDATION_FAILED']);
          if (sent !== '')
            expect(filtered.body.items.map((r: { report_no: string }) => r.report_no)).toContain(reportNo);
        },
      ),
    );
    seen.bothSeen();
    await chainOk();
  });

  it('record filters on the anonymous and the enforced route: 200 or a 4xx problem, never a 5xx', async () => {
    await run(
      fc.asyncProperty(
        anyText(),
        fc.constantFrom(
          'report_no',
          'region',
          'investigator_note',
          'report_no[gt]',
          'region[lte]',
          'received_on',
          'amount',
          'reporter_name',
        ),
        async (value, key) => {
          const codes = ['VALIDATION_FAILED', 'FILTER_NOT_ALLOWED'];
          const open = await t.request('GET', `/v1/public/datasets/open-reports/records?${key}=${pathSegment(value)}`);
          expectNoServerError(open, codes);
          const enforced = await t.request('GET', `/v1/datasets/closed-reports/records?${key}=${pathSegment(value)}`, {
            token: staff,
          });
          expectNoServerError(enforced, codes);
          if (urlSees(value).includes('\0')) expect([open.status, enforced.status].every((s) => s >= 400)).toBe(true);
        },
      ),
    );
    await chainOk();
  });

  it('token sub and purposes: refused with 401 TOKEN_CLAIM_INVALID, or recorded as given in every decision and disclosure', async () => {
    const seen = tally();
    await run(
      fc.asyncProperty(mostlyNames(), mostlyNames(), async (sub, purpose) => {
        const token = await hsToken({ sub, roles: ['staff'], unit: '32', purposes: [purpose] });
        const me = await t.request('GET', '/v1/me', { token });
        expectNoServerError(me, ['TOKEN_CLAIM_INVALID']);
        if (!roundTrips(sub) || !roundTrips(purpose) || /[\s\p{Cc}]/u.test(sub + purpose))
          expect(me.status, me.text).toBe(401);
        if (me.status !== 200) return seen.refused();
        seen.stored();
        expect(me.body).toMatchObject({ sub, purposes: [purpose] });
        const check = await t.request('POST', '/v1/check', {
          token,
          json: { action: 'read', resource: { type: 'Dataset', id: 'closed-reports' }, purpose },
        });
        expect(check.status, check.text).toBe(200);
        // A purpose that is not printable ASCII goes in ?purpose=, and is not echoed in a header.
        const ascii = /^[\x21-\x7e]+$/.test(purpose);
        const read = await t.request('GET', `/v1/datasets/closed-reports/records${ascii ? '' : query({ purpose })}`, {
          token,
          headers: ascii ? { 'x-purpose': purpose } : {},
        });
        expect(read.status, read.text).toBe(200);
        expect(read.headers.get('x-purpose')).toBe(ascii ? purpose : null);
        for (const [, value] of read.headers) expect(value).toMatch(/^[\x20-\x7e]*$/);
        for (const res of [check, read]) {
          const items = await entriesOf(res.headers.get('x-request-id')!);
          expect(items.map((i) => [i.principal.sub, i.purpose])).toEqual([[sub, purpose]]);
        }
      }),
    );
    seen.bothSeen();
    await chainOk();
  });

  it('check, batch and AuthZEN resource ids and attributes: 400, or decided with the id recorded as given', async () => {
    const seen = tally();
    await run(
      fc.asyncProperty(
        someText(),
        anyText(),
        fc.constantFrom('check', 'attributes', 'batch', 'authzen'),
        async (id, other, route) => {
          const res =
            route === 'check'
              ? await t.request('POST', '/v1/check', { json: { action: 'read', resource: { type: 'Dataset', id } } })
              : route === 'attributes'
                ? await t.request('POST', '/v1/check', {
                    json: {
                      action: 'read',
                      resource: { type: 'Dataset', attributes: { id, classification: 'public', title: other } },
                    },
                  })
                : route === 'batch'
                  ? await t.request('POST', '/v1/check/batch', {
                      json: { checks: [{ action: 'read', resource: { type: 'Dataset', id } }] },
                    })
                  : await t.request('POST', '/access/v1/evaluation', {
                      token: staff,
                      json: {
                        subject: { type: 'user', id: 'staff-32' },
                        action: { name: 'read' },
                        resource: { type: 'dataset', id, properties: { classification: 'public', note: other } },
                      },
                    });
          expectNoServerError(res, ['VALIDATION_FAILED']);
          if (!roundTrips(id) || (route !== 'check' && route !== 'batch' && !roundTrips(other)))
            expect(res.status, res.text).toBe(400);
          if (res.status !== 200) return seen.refused();
          seen.stored();
          const items = await entriesOf(res.headers.get('x-request-id')!);
          expect(items.map((i) => i.resource.id)).toEqual([id]);
        },
      ),
    );
    seen.bothSeen();
    await chainOk();
  });

  it('audit query filters: 200 with only matching entries, or 400, never a 5xx', async () => {
    await run(
      fc.asyncProperty(
        someText(),
        fc.constantFrom('principal', 'dataset', 'purpose', 'requestId', 'action'),
        async (value, name) => {
          const res = await t.request('GET', `/v1/audit/decisions${query({ [name]: value })}`, { token: auditor });
          expectNoServerError(res, ['VALIDATION_FAILED']);
          if (/[\s\p{Cc}]/u.test(urlSees(value))) expect(res.status, res.text).toBe(400);
        },
      ),
    );
    await chainOk();
  });

  it('audit entries built from arbitrary text: refused by the builder, or stored, read back identical, and the chain verifies', async () => {
    const seen = tally();
    const longReason = fc
      .tuple(fc.integer({ min: 990, max: 1000 }), anyText(12))
      .map(([n, tail]) => 'r'.repeat(n) + tail);
    await run(
      fc.asyncProperty(
        fc.oneof(anyText(), longReason),
        mostlyNames(),
        mostlyNames(),
        mostlyNames(),
        async (reason, resourceId, purpose, detail) => {
          const requestId = unique('prop-entry');
          const input = entry({
            reason,
            resource: { type: 'Dataset', id: resourceId },
            purpose,
            requestId,
            details: { note: detail },
          });
          const appended = await t.deps.services.audit.appendDurable(input).then(
            (r) => r,
            (error: unknown) => error as Error,
          );
          const all = [reason, resourceId, purpose, detail];
          if (!all.every(roundTrips)) expect(appended).toBeInstanceOf(Error);
          if (appended instanceof Error) {
            expect(appended.name).toBe('AuditEntryRefused');
            return seen.refused();
          }
          seen.stored();
          const [item] = await entriesOf(requestId);
          expect(item).toMatchObject({ resource: { id: resourceId }, purpose, details: { note: detail } });
          // The reason is cut at 1000 code units, never inside a surrogate pair.
          expect(reason.startsWith(item!.reason)).toBe(true);
          expect(item!.reason.length).toBeGreaterThanOrEqual(Math.min(reason.length, 999));
          expect(roundTrips(item!.reason)).toBe(true);
        },
      ),
    );
    seen.bothSeen();
    await chainOk();
  });
});
