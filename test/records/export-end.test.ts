import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { NIKS, PURPOSE, principals, reports, startRecordsApp } from './records-app.ts';
import { createLabelled } from './setup.ts';

const N = 40;
const PAGE = 5;

/** The entry that closes a streamed export's decision; it is queued, so it may take a flush to appear. */
async function completion(t: TestApp, decisionId: string): Promise<{ row_count: string; end: string } | undefined> {
  for (let i = 0; i < 100; i++) {
    const [row] = await t.db.sql<{ row_count: string; end: string }[]>`
      select row_count, details->>'end' as end from audit_entry where details->>'completes' = ${decisionId}`;
    if (row) return row;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

describe.each(databaseKinds())('how a streamed export ends, in the audit log, on %s', (kind) => {
  let t: TestApp;
  let steward: string;
  const exportRequest = () =>
    t.app.request('/v1/datasets/export-ds/records', {
      headers: { authorization: `Bearer ${steward}`, accept: 'application/x-ndjson', 'x-purpose': PURPOSE },
    });

  beforeAll(async () => {
    t = await startRecordsApp(kind, { RECORDS_STREAM_PAGE: String(PAGE) });
    steward = (await principals()).steward32;
    await createLabelled(t, steward, 'export-ds', 'restricted');
    const r = await t.request('POST', '/v1/datasets/export-ds/records', { token: steward, json: reports(N) });
    expect(r.status, r.text).toBe(201);
  });
  afterAll(() => t.close());

  // Pages after the first are rendered as the driver decodes each row (read.service.ts): the
  // masks and the page boundaries must hold on that path too, in both streamed formats.
  it('masks every row of every page of a streamed export, each row once and in order', async () => {
    const staff = (await principals()).staff32;
    for (const accept of ['application/x-ndjson', 'text/csv']) {
      const res = await t.app.request('/v1/datasets/export-ds/records', {
        headers: {
          authorization: `Bearer ${staff}`,
          accept,
          'x-purpose': PURPOSE,
          'x-request-id': 'export-end-read-1',
        },
      });
      expect(res.status).toBe(200);
      // The streamed read returns its own Response: the request id is still on it, once.
      expect(res.headers.get('x-request-id')).toBe('export-end-read-1');
      expect(res.headers.get('x-jaga-fields-masked')).toContain('reporter_nik');
      const text = await res.text();
      const lines = text.trim().split(/\r?\n/);
      const header = accept === 'text/csv' ? lines.shift()!.split(',') : null;
      const rows = lines.map((l) =>
        header ? Object.fromEntries(l.split(',').map((v, i) => [header[i]!, v])) : JSON.parse(l),
      );
      expect(rows.map((r) => r.report_no)).toEqual(reports(N).map((r) => r.report_no));
      for (const r of rows) {
        expect(r.reporter_nik).toMatch(/^\d{4}\*{10}\d{2}$/);
        expect(r.reported_party_status).toMatch(/^psn_[\w-]{22}$/);
      }
      for (const nik of NIKS) expect(text).not.toContain(nik);
      expect(text).not.toContain('Siti Rahma');
    }
  });

  it('closes an export read to the end with the number of rows sent', async () => {
    const res = await exportRequest();
    expect(res.status).toBe(200);
    expect((await res.text()).trim().split('\n')).toHaveLength(N);
    expect(await completion(t, res.headers.get('x-decision-id')!)).toEqual({ row_count: String(N), end: 'complete' });
  });

  it('closes an export the client abandons, with the rows handed out so far', async () => {
    const res = await exportRequest();
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await reader.cancel();
    const entry = await completion(t, res.headers.get('x-decision-id')!);
    expect(entry?.end).toBe('abandoned');
    // At least the page read, fewer than the whole dataset (the stream may have prepared one page ahead).
    expect(Number(entry!.row_count)).toBeGreaterThanOrEqual(PAGE);
    expect(Number(entry!.row_count)).toBeLessThan(N);
  });
});
