import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { principals, reports, startRecordsApp } from './records-app.ts';
import { createLabelled } from './setup.ts';

describe.each(databaseKinds())('records ingest on %s', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;
  beforeAll(async () => {
    t = await startRecordsApp(kind);
    who = await principals();
    await createLabelled(t, who.steward32, 'ingest-ds', 'restricted', { steward: 'steward-3201' });
  });
  afterAll(() => t.close());

  const stored = async () =>
    (await t.db.sql`select count(*)::int as n from records where dataset_id = 'ingest-ds'`)[0]!.n as number;
  const post = (body: string, type: string, token = who.steward32) =>
    t.request('POST', '/v1/datasets/ingest-ds/records', { token, body, headers: { 'content-type': type } });

  it('stores a JSON array, NDJSON and CSV, with types normalised and units kept', async () => {
    const before = await stored();
    const json = await post(JSON.stringify(reports(3), null, 2), 'application/json');
    expect(json.status, json.text).toBe(201);
    expect(json.body).toEqual({ inserted: 3 });
    const nd = await post(
      reports(2, 3)
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
      'application/x-ndjson',
    );
    expect(nd.body).toEqual({ inserted: 2 });
    const csv = await post(
      'report_no,received_on,amount,reporter_nik,_unit\r\nLP-1,2024-03-01,15,3201014506900001,32.01\r\n"LP-2, b",2024-03-02,,3201014506900002,\r\n',
      'text/csv',
    );
    expect(csv.status, csv.text).toBe(201);
    expect(csv.body).toEqual({ inserted: 2 });
    expect(await stored()).toBe(before + 7);
    const rows = await t.db
      .sql`select unit, data from records where dataset_id = 'ingest-ds' and data->>'report_no' like 'LP-%' order by seq`;
    const last = rows.at(-1)!;
    expect(last.unit).toBe('32'); // no unit given: the dataset's owner unit
    expect(last.data).toEqual({
      report_no: 'LP-2, b',
      received_on: '2024-03-02',
      amount: null,
      reporter_nik: '3201014506900002',
    });
    expect(rows.at(-2)!.data.amount).toBe(15);
  });

  it('rejects the whole upload when any record is invalid, listing lines and fields, and stores nothing', async () => {
    const before = await stored();
    const good = reports(2500); // more than one INSERT batch before the bad records
    const lines = good.map((r) => JSON.stringify(r));
    lines.push(JSON.stringify({ report_no: 'x', nik: '1' })); // line 2501: unknown field
    lines.push(JSON.stringify({ amount: 'ten', received_on: '2024-02-30' })); // line 2502: two type errors
    lines.push(JSON.stringify({ report_no: 'y', _unit: '33' })); // line 2503: outside the owner unit
    const r = await post(lines.join('\n'), 'application/x-ndjson');
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('RECORDS_INVALID');
    expect(r.body.errors).toEqual([
      { path: 'line 2501: nik', message: 'unknown field' },
      { path: 'line 2502: amount', message: 'expected an integer' },
      { path: 'line 2502: received_on', message: 'expected a date YYYY-MM-DD' },
      { path: 'line 2503: _unit', message: "unit 33 is not within the dataset's owner unit 32" },
    ]);
    expect(await stored()).toBe(before);
  });

  it('gives JSON-array line numbers and caps the list of errors', async () => {
    const before = await stored();
    const body = '[\n' + Array.from({ length: 150 }, (_, i) => `{"amount": "n${i}"}`).join(',\n') + '\n]';
    const r = await post(body, 'application/json');
    expect(r.status).toBe(422);
    expect(r.body.errors).toHaveLength(100);
    expect(r.body.errors[0]).toEqual({ path: 'line 2: amount', message: 'expected an integer' });
    expect(r.body.errors[6].path).toBe('line 8: amount');
    expect(r.body.invalidRecords).toBe(150);
    expect(await stored()).toBe(before);
  });

  it('rejects an unknown CSV column and a malformed body, storing nothing', async () => {
    const before = await stored();
    const csv = await post('report_no,secret_column\r\nLP-1,x\r\n', 'text/csv');
    expect(csv.status).toBe(422);
    expect(csv.body.errors).toEqual([{ path: 'line 1: secret_column', message: 'unknown field' }]);
    const broken = await post('[{"report_no": "a"}, {"report_no": ', 'application/json');
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe('MALFORMED_BODY');
    const wrongType = await post('report_no\nx', 'text/plain');
    expect(wrongType.status).toBe(415);
    expect(await stored()).toBe(before);
  });

  it('lets only stewards of the owning unit ingest', async () => {
    const before = await stored();
    const body = JSON.stringify(reports(1));
    expect((await post(body, 'application/json', who.staff32)).status).toBe(403);
    // The dataset's own steward sees it but works in 32.01, below the owner unit 32.
    expect((await post(body, 'application/json', who.steward3201)).status).toBe(403);
    // Another unit does not even learn the dataset exists.
    const other = await post(body, 'application/json', who.steward33);
    expect(other.status).toBe(404);
    const missing = await t.request('POST', '/v1/datasets/no-such-ds/records', {
      token: who.steward33,
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(other.body.detail.replace('ingest-ds', 'X')).toBe(missing.body.detail.replace('no-such-ds', 'X'));
    const anonymous = await t.request('POST', '/v1/datasets/ingest-ds/records', {
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(anonymous.status).toBe(404);
    expect(await stored()).toBe(before);
  });
});
