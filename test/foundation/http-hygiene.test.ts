import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { freePort, runScript, waitForHttp, type Started } from '../helpers/process.ts';
import { hsToken } from '../identity/tokens.ts';

// HTTP below the routes, against the real Node entry: a keep-alive client must never lose its next
// request because the server refused a body, and Node's own refusals answer problem+json.
const LIMIT = 65_536;
const BIG = 8 * 1024 * 1024;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Which of the agent's sockets carried it (a fresh one after `Connection: close`). */
  socket: number;
}

describe('HTTP hygiene of the Node server (one keep-alive connection)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jaga-http-'));
  let port: number;
  let server: Started;
  let token: string;
  // One connection at a time, kept alive between requests, as undici/fetch pools do.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new WeakMap<object, number>();
  let opened = 0;

  beforeAll(async () => {
    port = await freePort();
    server = runScript('src/entry/node.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      JAGA_DATA_DIR: join(dir, 'data'),
      JWT_SECRET: TEST_JWT_SECRET,
      BODY_LIMIT_BYTES: String(LIMIT),
      RECORDS_UPLOAD_MAX_BYTES: String(LIMIT),
    });
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, server);
    token = await hsToken({ sub: 'siti', roles: ['steward'], unit: '32', iss: undefined, aud: undefined });
    const made = await send('POST', '/v1/datasets', {
      body: [
        JSON.stringify({ id: 'hygiene', title: 'Hygiene', ownerUnit: '32', fields: [{ name: 'x', type: 'string' }] }),
      ],
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    expect(made.status, made.body).toBe(201);
  }, 60_000);

  afterAll(async () => {
    agent.destroy();
    server.child.kill('SIGTERM');
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A request through the one-connection agent; `body` parts are written one by one (chunked unless a length is given). */
  function send(
    method: string,
    path: string,
    o: { body?: string[]; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, agent, headers: o.headers ?? {} }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body, socket: sockets.get(req.socket!)! }),
        );
      });
      req.on('socket', (s) => {
        if (!sockets.has(s)) sockets.set(s, ++opened);
      });
      req.on('error', reject);
      void (async () => {
        for (const part of o.body ?? []) if (!req.write(part)) await new Promise((ok) => req.once('drain', ok));
        req.end();
      })();
    });
  }

  const refusedBody = (a: Answer) => {
    expect(a.status, a.body).toBe(413);
    expect(a.headers['content-type']).toBe('application/problem+json');
    expect(a.headers.connection).toBe('close');
    expect(JSON.parse(a.body)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  };

  const healthy = async () => {
    const next = await send('GET', '/healthz');
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body)).toEqual({ status: 'ok' });
    return next;
  };

  it('answers a declared oversized body with 413, Connection: close, and the next request succeeds', async () => {
    const big = 'x'.repeat(BIG);
    for (let i = 0; i < 3; i++) {
      const before = opened;
      refusedBody(
        await send('POST', '/v1/check', {
          body: [big],
          headers: { 'content-type': 'application/json', 'content-length': String(BIG) },
        }),
      );
      const next = await healthy();
      expect(next.socket).toBe(before + 1); // the refused connection was not reused
    }
  });

  it('answers a chunked body that grows past the limit with 413, and the next request succeeds', async () => {
    const chunk = 'y'.repeat(16_384);
    for (let i = 0; i < 3; i++) {
      refusedBody(
        await send('POST', '/v1/check', {
          body: Array.from({ length: BIG / chunk.length }, () => chunk),
          headers: { 'content-type': 'application/json' },
        }),
      );
      await healthy();
    }
  });

  it('keeps the connection for a body within the limit', async () => {
    const first = await send('POST', '/v1/check', {
      body: [JSON.stringify({ action: 'read', resource: { type: 'Dataset', id: 'hygiene' } })],
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    expect(first.status, first.body).toBe(200);
    expect(first.headers.connection).toBe('keep-alive');
    expect((await healthy()).socket).toBe(first.socket);
  });

  it('refuses a record upload over RECORDS_UPLOAD_MAX_BYTES (declared or streamed) with 413; the next upload succeeds', async () => {
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'text/csv' };
    const rows = 'x\n' + 'abcdefghij\n'.repeat(BIG / 11);
    refusedBody(
      await send('POST', '/v1/datasets/hygiene/records', {
        body: [rows],
        headers: { ...auth, 'content-length': String(Buffer.byteLength(rows)) },
      }),
    );
    await healthy();
    const part = 'abcdefghij\n'.repeat(1500);
    refusedBody(
      await send('POST', '/v1/datasets/hygiene/records', {
        body: ['x\n', ...Array.from({ length: 500 }, () => part)],
        headers: auth,
      }),
    );
    const ok = await send('POST', '/v1/datasets/hygiene/records', { body: ['x\nkept\n'], headers: auth });
    expect(ok.status, ok.body).toBe(201);
    expect(JSON.parse(ok.body)).toEqual({ inserted: 1 });
  });

  it('answers headers over Node’s limit with 431 problem+json HEADERS_TOO_LARGE, and the next request succeeds', async () => {
    const huge = await send('GET', '/healthz', { headers: { 'x-padding': 'p'.repeat(64 * 1024) } });
    expect(huge.status).toBe(431);
    expect(huge.headers['content-type']).toBe('application/problem+json');
    expect(huge.headers.connection).toBe('close');
    const problem = JSON.parse(huge.body);
    expect(problem).toMatchObject({
      status: 431,
      code: 'HEADERS_TOO_LARGE',
      title: expect.any(String),
      detail: expect.any(String),
    });
    expect(problem.requestId).toBe(huge.headers['x-request-id']);
    await healthy();
  });

  it('answers a request Node cannot parse with 400 problem+json MALFORMED_REQUEST', async () => {
    for (const raw of [
      'GARBAGE / HTTP/1.1\r\n\r\n',
      'POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'GET /healthz HTTP/1.1\r\n\r\n',
    ]) {
      const answer = await new Promise<string>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => s.write(raw));
        let text = '';
        s.setEncoding('utf8');
        s.on('data', (d: string) => (text += d));
        s.on('error', reject);
        s.on('close', () => resolve(text));
      });
      const [head, body] = answer.split('\r\n\r\n') as [string, string];
      expect(head, raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(head).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/i);
      expect(head).toMatch(/\r\nConnection: close(\r\n|$)/i);
      expect(JSON.parse(body)).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST', requestId: expect.any(String) });
    }
  });
});
