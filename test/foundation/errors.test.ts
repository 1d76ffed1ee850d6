import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';

describe.each(databaseKinds())('error model and HTTP basics on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(kind);
  });
  afterAll(() => t.close());

  const expectProblem = (r: { status: number; headers: Headers; body: any }, status: number, code: string) => {
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.body).toMatchObject({
      status,
      code,
      type: expect.any(String),
      title: expect.any(String),
      detail: expect.any(String),
    });
    expect(r.body.requestId).toBe(r.headers.get('x-request-id'));
  };

  it('answers an unknown route with a 404 problem', async () => {
    expectProblem(
      await t.request('POST', '/v1/anything', { body: '{bad', headers: { 'content-type': 'application/json' } }),
      404,
      'ROUTE_NOT_FOUND',
    );
    expectProblem(await t.request('GET', '/nope'), 404, 'ROUTE_NOT_FOUND');
  });

  it('answers a wrong method with 405 and the allowed methods', async () => {
    const r = await t.request('DELETE', '/healthz');
    expectProblem(r, 405, 'METHOD_NOT_ALLOWED');
    expect(r.headers.get('allow')).toBe('GET, HEAD');
    const put = await t.request('PUT', '/v1/datasets');
    expectProblem(put, 405, 'METHOD_NOT_ALLOWED');
    expect(put.headers.get('allow')!.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
    expectProblem(await t.request('DELETE', '/v1/no-such-thing'), 404, 'ROUTE_NOT_FOUND');
  });

  it('answers a body over the limit with 413', async () => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    expectProblem(
      await t.request('POST', '/v1/me', { body: big, headers: { 'content-type': 'application/json' } }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  it('gives every response a request id, honouring a well-formed one from the caller', async () => {
    const own = await t.request('GET', '/healthz', { headers: { 'x-request-id': 'caller-id-12345' } });
    expect(own.headers.get('x-request-id')).toBe('caller-id-12345');
    const bad = await t.request('GET', '/healthz', { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const err = await t.request('GET', '/nope', { headers: { 'x-request-id': 'caller-id-67890' } });
    expect(err.body.requestId).toBe('caller-id-67890');
    const longest = 'a'.repeat(128);
    expect(
      (await t.request('GET', '/healthz', { headers: { 'x-request-id': longest } })).headers.get('x-request-id'),
    ).toBe(longest);
    for (const refused of ['a'.repeat(129), 'id"with-quote', 'id,with-comma', 'id;path=/']) {
      const r = await t.request('GET', '/nope', { headers: { 'x-request-id': refused } });
      expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.body.requestId).toBe(r.headers.get('x-request-id'));
    }
  });

  it('reports liveness and readiness (database reachable, migrations current)', async () => {
    expect((await t.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await t.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.database.ok).toBe(true);
    expect(ready.body.checks.migrations.ok).toBe(true);
  });

  it('is not ready when a migration is pending', async () => {
    await t.db.sql`delete from schema_migrations where name = '0001_foundation.sql'`;
    const ready = await t.request('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.migrations).toMatchObject({
      ok: false,
      detail: expect.stringContaining('0001_foundation.sql'),
    });
  });
});
