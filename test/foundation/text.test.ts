import { serve } from '@hono/node-server';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEntryRefused } from '../../src/audit/audit.entry.ts';
import { verifyChain } from '../../src/audit/audit.verify.ts';
import { toApiError } from '../../src/http/on-error.ts';
import { entry } from '../audit/helpers.ts';
import { tokenFor } from '../catalog/catalog-app.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { expectRefused, hsToken } from '../identity/tokens.ts';
import { reports, reportsDataset } from '../records/records-app.ts';
import { createLabelled } from '../records/setup.ts';
import { expectProblem, query } from './text-helpers.ts';

/**
 * Issue 14, observations 3, 4, 6 and 11: text PostgreSQL cannot store as given (a lone UTF-16
 * surrogate becomes U+FFFD, a NUL is an error) is refused at the door with a 4xx problem, so
 * nothing answers 500 and the audit chain's hashes cover exactly what the database holds.
 */

describe.each(databaseKinds())('text that cannot round-trip on %s', (kind) => {
  let t: TestApp;
  let steward: string, staff: string, auditor: string;

  /** Every queued entry written (the writer flushes in order), then the whole chain walked. */
  async function chainOk(): Promise<void> {
    await t.deps.services.audit.appendDurable(entry({ requestId: `barrier-${crypto.randomUUID()}` }));
    expect(await verifyChain(t.db.sql, {})).toMatchObject({ ok: true });
    const res = await t.request('GET', '/v1/audit/verify', { token: auditor });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ ok: true });
  }

  beforeAll(async () => {
    t = await startApp(kind);
    steward = await tokenFor({ sub: 'steward-32', roles: ['steward'], unit: '32', purposes: ['pengawasan'] });
    staff = await tokenFor({ sub: 'staff-32', roles: ['staff'], unit: '32', purposes: ['pengawasan'] });
    auditor = await tokenFor({ sub: 'auditor-ri', roles: ['auditor'], unit: 'RI' });
    await createLabelled(t, steward, 'open-reports', 'public');
    await createLabelled(t, steward, 'closed-reports', 'restricted');
    for (const id of ['open-reports', 'closed-reports']) {
      const res = await t.request('POST', `/v1/datasets/${id}/records`, { token: steward, json: reports(4) });
      expect(res.status, res.text).toBe(201);
    }
  });
  afterAll(() => t?.close());

  describe('observation 3: a lone surrogate never reaches the chain', () => {
    it('refuses a /v1/check resource id holding a lone surrogate, and the chain still verifies', async () => {
      const res = await t.request('POST', '/v1/check', {
        json: { action: 'read', resource: { type: 'Dataset', id: 'x\ud800' } },
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.errors).toEqual([expect.objectContaining({ path: 'body.resource.id' })]);
      await chainOk();
    });

    it('refuses lone surrogates in check attributes, batch checks, plans and AuthZEN requests', async () => {
      const lone = 'x\udc00y';
      const cases: [string, unknown][] = [
        [
          '/v1/check',
          { action: 'read', resource: { type: 'Dataset', attributes: { id: lone, classification: 'public' } } },
        ],
        ['/v1/check', { action: 'read', resource: { type: 'Dataset', id: 'open-reports' }, purpose: lone }],
        ['/v1/check', { action: 'read', resource: { type: 'Dataset', id: 'open-reports' }, fields: [lone] }],
        [
          '/v1/check/batch',
          {
            checks: [
              { action: 'read', resource: { type: 'Dataset', id: 'open-reports' } },
              { action: 'read', resource: { type: 'Dataset', id: lone } },
            ],
          },
        ],
        ['/v1/plan', { action: 'read', resourceType: 'Dataset', purpose: lone }],
        [
          '/access/v1/evaluation',
          {
            subject: { type: 'user', id: 'someone' },
            action: { name: 'read' },
            resource: { type: 'Dataset', id: lone },
          },
        ],
        [
          '/access/v1/evaluation',
          {
            subject: { type: 'user', id: lone },
            action: { name: 'read' },
            resource: { type: 'Dataset', id: 'open-reports' },
          },
        ],
        [
          '/access/v1/evaluation',
          {
            subject: { type: 'user', id: 'someone' },
            action: { name: 'read' },
            resource: { type: 'Dataset', id: 'd', properties: { classification: lone } },
          },
        ],
        [
          '/access/v1/evaluation',
          {
            subject: { type: 'user', id: 'someone' },
            action: { name: 'read' },
            resource: { type: 'Dataset', id: 'open-reports' },
            context: { purpose: lone },
          },
        ],
        [
          '/access/v1/evaluations',
          {
            subject: { type: 'user', id: 'someone' },
            action: { name: 'read' },
            evaluations: [{ resource: { type: 'Dataset', id: lone } }],
          },
        ],
      ];
      for (const [path, json] of cases)
        expectProblem(await t.request('POST', path, { token: staff, json }), 400, 'VALIDATION_FAILED');
      await chainOk();
    });

    it('refuses a labelVersion the log could not store (a fraction, an overflow): no entry can jam the writer', async () => {
      for (const labelVersion of [1.5, 1e10, -1]) {
        const res = await t.request('POST', '/v1/check', {
          json: {
            action: 'read',
            resource: { type: 'Dataset', attributes: { id: 'lv', classification: 'public', labelVersion } },
          },
        });
        expectProblem(res, 400, 'VALIDATION_FAILED');
      }
      await expect(
        t.deps.services.audit.append(entry({ resource: { type: 'Dataset', id: 'lv', labelVersion: 1.5 } })),
      ).rejects.toMatchObject({ name: 'AuditEntryRefused' });
      await expect(t.deps.services.audit.append(entry({ rowCount: -1 }))).rejects.toMatchObject({
        name: 'AuditEntryRefused',
      });
      await chainOk();
    });

    it('stores astral characters (well-formed pairs) and reads them back unchanged', async () => {
      const id = 'berkas-😀-𝄞';
      const res = await t.request('POST', '/v1/check', { json: { action: 'read', resource: { type: 'Dataset', id } } });
      expect(res.status, res.text).toBe(200);
      await chainOk();
      const found = await t.request(
        'GET',
        `/v1/audit/decisions${query({ requestId: res.headers.get('x-request-id')! })}`,
        { token: auditor },
      );
      expect(found.body.items.map((i: { resource: { id: string } }) => i.resource.id)).toEqual([id]);
    });

    it('truncates a long reason at a code point boundary: the chain verifies and the stored reason has no broken pair', async () => {
      // 999 ASCII characters then an astral one: slice(0, 1000) would keep only its high surrogate.
      const reason = 'a'.repeat(999) + '😀' + 'b'.repeat(10);
      const { id } = await t.deps.services.audit.appendDurable(entry({ reason, requestId: 'long-reason' }));
      await chainOk();
      const [row] = await t.db.sql<{ reason: string }[]>`select reason from audit_entry where id = ${id}`;
      expect(row!.reason).toBe('a'.repeat(999));
      expect(row!.reason).not.toContain('\ufffd');
    });

    it('maps an entry refused past the door to 400 VALIDATION_FAILED (logged as unexpected), never a 500', () => {
      const { apiError, unexpected } = toApiError(new AuditEntryRefused('resource.id must be an id'));
      expect(apiError).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
      expect(apiError.message).toContain('resource.id must be an id');
      expect(unexpected).toBe(true);
    });

    it('refuses an audit entry holding a lone surrogate or a NUL in any string, the reason included', async () => {
      const log = t.deps.services.audit;
      await expect(log.appendDurable(entry({ reason: 'why\ud800' }))).rejects.toMatchObject({
        name: 'AuditEntryRefused',
      });
      await expect(log.appendDurable(entry({ reason: 'why\0' }))).rejects.toMatchObject({ name: 'AuditEntryRefused' });
      await expect(log.append(entry({ resource: { type: 'Dataset', id: 'd\udfff' } }))).rejects.toMatchObject({
        name: 'AuditEntryRefused',
      });
      await expect(log.append(entry({ details: { note: 'n\ud800' } }))).rejects.toMatchObject({
        name: 'AuditEntryRefused',
      });
      await chainOk();
    });
  });

  describe('observation 4: a NUL byte is a 4xx problem, never a 500', () => {
    it('in a dataset id in the path', async () => {
      for (const path of [
        '/v1/datasets/x%00y',
        '/v1/datasets/x%00y/labels',
        '/v1/datasets/x%00y/records',
        '/v1/public/datasets/x%00y/records',
      ]) {
        expectProblem(await t.request('GET', path, { token: steward }), 400, 'VALIDATION_FAILED');
      }
      expectProblem(await t.request('GET', '/v1/public/datasets/x%00y/records'), 400, 'VALIDATION_FAILED');
      expectProblem(
        await t.request('PATCH', '/v1/datasets/x%00y', { token: steward, json: { title: 'T' } }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('PUT', '/v1/datasets/x%00y/label', { token: steward, json: { classification: 'public' } }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('PUT', '/v1/datasets/open-reports/fields/x%00y/label', {
          token: steward,
          json: { classification: 'restricted' },
        }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('POST', '/v1/datasets/x%00y/label/approve', { token: steward }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('POST', '/v1/datasets/x%00y/records', { token: steward, json: [] }),
        400,
        'VALIDATION_FAILED',
      );
      await chainOk();
    });

    it('in record filters, on the enforced and the anonymous open-data route', async () => {
      expectProblem(
        await t.request('GET', '/v1/datasets/open-reports/records?region=32%0001', { token: staff }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('GET', '/v1/public/datasets/open-reports/records?region=%00'),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('GET', '/v1/public/datasets/open-reports/records?report_no[gt]=a%00'),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('GET', '/v1/datasets/closed-reports/records?region=%00', { token: staff }),
        400,
        'VALIDATION_FAILED',
      );
      await chainOk();
    });

    it('in sourceSystem= and the other list filters', async () => {
      expectProblem(
        await t.request('GET', '/v1/datasets?sourceSystem=SIGAP%00LAPOR', { token: steward }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(await t.request('GET', '/v1/datasets?cursor=%00'), 400, 'VALIDATION_FAILED');
      expectProblem(await t.request('GET', '/v1/registers/public?cursor=%00'), 400, 'VALIDATION_FAILED');
      expectProblem(await t.request('GET', '/v1/public/datasets?cursor=%00'), 400, 'VALIDATION_FAILED');
    });

    it('in audit query filters', async () => {
      for (const name of ['principal', 'dataset', 'action', 'purpose', 'requestId']) {
        expectProblem(
          await t.request('GET', `/v1/audit/decisions?${name}=a%00b`, { token: auditor }),
          400,
          'VALIDATION_FAILED',
        );
        expectProblem(
          await t.request('GET', `/v1/audit/decisions?${name}=a%20b`, { token: auditor }),
          400,
          'VALIDATION_FAILED',
        );
        expectProblem(
          await t.request('GET', `/v1/audit/decisions?${name}=a%0D%0Ab`, { token: auditor }),
          400,
          'VALIDATION_FAILED',
        );
      }
      await chainOk();
    });

    it('in check resource ids (anonymous), attributes and purposes', async () => {
      expectProblem(
        await t.request('POST', '/v1/check', { json: { action: 'read', resource: { type: 'Dataset', id: 'x\0' } } }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('POST', '/v1/check', {
          json: { action: 'read', resource: { type: 'Dataset', attributes: { id: 'x\0', classification: 'public' } } },
        }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('POST', '/v1/check', {
          token: staff,
          json: { action: 'read', resource: { type: 'Dataset', id: 'open-reports' }, purpose: 'p\0' },
        }),
        400,
        'VALIDATION_FAILED',
      );
      await chainOk();
    });

    it('in titles, descriptions, justifications and grounds', async () => {
      const body = reportsDataset('nul-title');
      expectProblem(
        await t.request('POST', '/v1/datasets', { token: steward, json: { ...body, title: 'Laporan\0' } }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('POST', '/v1/datasets', { token: steward, json: { ...body, description: 'a\0b' } }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('POST', '/v1/datasets', { token: steward, json: { ...body, sourceSystem: 'S\0' } }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('POST', '/v1/datasets', { token: steward, json: { ...body, title: 'Lapor\ud800an' } }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('PATCH', '/v1/datasets/open-reports', { token: steward, json: { title: 'x\0' } }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('PUT', '/v1/datasets/open-reports/label', {
          token: steward,
          json: { classification: 'public', justification: 'because\0' },
        }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('PUT', '/v1/datasets/open-reports/label', {
          token: steward,
          json: { classification: 'exempt', grounds: ['17a\0'] },
        }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await t.request('POST', '/v1/units', { token: steward, json: { code: '32.99', name: 'Kantor\0' } }),
        400,
        'VALIDATION_FAILED',
      );
      // Newlines and tabs are fine in free text, and come back unchanged.
      const ok = await t.request('POST', '/v1/datasets', {
        token: steward,
        json: { ...body, title: 'Laporan\tpelanggaran 😀', description: 'baris satu\nbaris dua' },
      });
      expect(ok.status, ok.text).toBe(201);
      const back = await t.request('GET', '/v1/datasets/nul-title', { token: steward });
      expect(back.body).toMatchObject({ title: 'Laporan\tpelanggaran 😀', description: 'baris satu\nbaris dua' });
      await chainOk();
    });

    it('in record values (JSON, NDJSON, CSV): 422 RECORDS_INVALID and nothing stored', async () => {
      const [one] = reports(1, 900);
      const bodies: [string, string][] = [
        ['application/json', JSON.stringify([{ ...one, investigator_note: 'catatan\0' }])],
        ['application/json', JSON.stringify([{ ...one, investigator_note: 'catatan\ud800' }])],
        ['application/x-ndjson', JSON.stringify(one) + '\n' + JSON.stringify({ ...one, region: '\0' }) + '\n'],
        ['text/csv', 'report_no,region,investigator_note\r\nLP-1,32.01,"a\0b"\r\n'],
      ];
      const before = await t.db.sql<{ n: string }[]>`select count(*)::text as n from records`;
      for (const [type, body] of bodies) {
        const res = await t.request('POST', '/v1/datasets/open-reports/records', {
          token: steward,
          body,
          headers: { 'content-type': type },
        });
        expectProblem(res, 422, 'RECORDS_INVALID');
        expect(res.body.errors[0].path).toMatch(/^line \d+: (investigator_note|region)$/);
      }
      const after = await t.db.sql<{ n: string }[]>`select count(*)::text as n from records`;
      expect(after).toEqual(before);
      await chainOk();
    });
  });

  describe('observation 6: claims the audit log cannot record are refused at the door', () => {
    const refusedSubs: [string, string][] = [
      ['a newline', 'alice\nadmin'],
      ['a space', 'alice smith'],
      ['a tab', 'alice\tsmith'],
      ['a control character', 'alice\u0007'],
      ['a NUL', 'alice\0'],
      ['a lone surrogate', 'alice\ud800'],
      ['201 characters', 'a'.repeat(201)],
    ];
    for (const [what, sub] of refusedSubs) {
      it(`refuses a sub with ${what}: 401 TOKEN_CLAIM_INVALID on /v1/me, /v1/check and reads`, async () => {
        const token = await hsToken({ sub, roles: ['staff'], unit: '32' });
        for (const [method, path, json] of [
          ['GET', '/v1/me', undefined],
          ['POST', '/v1/check', { action: 'read', resource: { type: 'Dataset', id: 'open-reports' } }],
          ['GET', '/v1/datasets/closed-reports/records', undefined],
        ] as const) {
          const res = await t.request(method, path, { token, ...(json ? { json } : {}) });
          expectRefused(res, 'TOKEN_CLAIM_INVALID');
          expect(res.body.detail).toMatch(/sub/);
        }
      });
    }

    it('accepts a sub of 200 characters, Unicode included, and logs it as given', async () => {
      const sub = 'pétugas-😀-' + 'a'.repeat(200 - 'pétugas-😀-'.length - 1);
      const token = await hsToken({ sub, roles: ['staff'], unit: '32' });
      const me = await t.request('GET', '/v1/me', { token });
      expect(me.status, me.text).toBe(200);
      expect(me.body.sub).toBe(sub);
      const check = await t.request('POST', '/v1/check', {
        token,
        json: { action: 'read', resource: { type: 'Dataset', id: 'closed-reports' } },
      });
      expect(check.status, check.text).toBe(200);
      await chainOk();
      const found = await t.request('GET', `/v1/audit/decisions${query({ principal: sub })}`, { token: auditor });
      expect(found.status, found.text).toBe(200);
      expect(found.body.items.map((i: { principal: { sub: string } }) => i.principal.sub)).toContain(sub);
    });

    for (const [what, purpose] of [
      ['CR/LF', 'pengawasan\r\nx'],
      ['a space', 'penanganan pelanggaran'],
      ['a control character', 'p\u001b[31m'],
      ['a lone surrogate', 'p\udc00'],
      ['129 characters', 'p'.repeat(129)],
    ] as const) {
      it(`refuses a purpose with ${what}: 401 TOKEN_CLAIM_INVALID`, async () => {
        const token = await hsToken({
          sub: 'staff-x',
          roles: ['staff'],
          unit: '32',
          purposes: ['pengawasan', purpose],
        });
        const me = await t.request('GET', '/v1/me', { token });
        expectRefused(me, 'TOKEN_CLAIM_INVALID');
        expect(me.body.detail).toMatch(/purposes/);
        expectRefused(await t.request('GET', '/v1/datasets/closed-reports/records', { token }), 'TOKEN_CLAIM_INVALID');
      });
    }
  });

  describe('observation 11: X-Purpose is echoed correctly or not at all', () => {
    /** A header value as Node hands it over: the UTF-8 bytes read as latin1. */
    const wire = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

    /** One raw HTTP/1.1 exchange over a real socket: header bytes exactly as given, the answer's bytes as they came. */
    async function rawExchange(head: Buffer): Promise<Buffer> {
      const server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      const { port } = server.address() as { port: number };
      try {
        return await new Promise<Buffer>((resolve, reject) => {
          const chunks: Buffer[] = [];
          const socket = connect(port, '127.0.0.1', () => socket.write(head));
          socket.on('data', (c: Buffer) => chunks.push(c));
          socket.on('end', () => resolve(Buffer.concat(chunks)));
          socket.on('error', reject);
        });
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }

    it('over a real socket: X-Purpose sent as UTF-8 bytes (as curl does) is refused, not read as latin1 and echoed garbled', async () => {
      const token = await tokenFor({ sub: 'staff-u', roles: ['staff'], unit: '32', purposes: ['ünï', 'Ã¼nÃ¯'] });
      const head = Buffer.concat([
        Buffer.from(
          `GET /v1/datasets/closed-reports/records HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer ${token}\r\nX-Purpose: `,
        ),
        Buffer.from('ünï', 'utf8'),
        Buffer.from('\r\n\r\n'),
      ]);
      const answer = (await rawExchange(head)).toString('latin1');
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toMatch(/content-type: application\/problem\+json/i);
      expect(answer).toContain('"code":"VALIDATION_FAILED"');
      expect(answer).not.toMatch(/x-purpose:/i);
      expect(answer).not.toContain('Ã');
      // The same purpose percent-encoded in the query is read as meant, and not echoed in a header.
      const ok = (
        await rawExchange(
          Buffer.from(
            `GET /v1/datasets/closed-reports/records?purpose=${encodeURIComponent('ünï')} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer ${token}\r\n\r\n`,
          ),
        )
      ).toString('latin1');
      expect(ok).toMatch(/^HTTP\/1\.1 200 /);
      expect(ok).not.toMatch(/x-purpose:/i);
      const [head200] = ok.split('\r\n\r\n');
      expect(head200).toMatch(/^[\x20-\x7e\r\n]*$/);
    });

    it('refuses a non-ASCII X-Purpose with 400 and a detail pointing to ?purpose=', async () => {
      const token = await tokenFor({ sub: 'staff-u', roles: ['staff'], unit: '32', purposes: ['ünï'] });
      for (const value of [wire('ünï'), 'ünï']) {
        const res = await t.request('GET', '/v1/datasets/closed-reports/records', {
          token,
          headers: { 'x-purpose': value },
        });
        expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(res.body.errors).toEqual([expect.objectContaining({ path: 'header.x-purpose' })]);
        expect(res.body.detail).toMatch(/\?purpose=/);
        expect(res.text).not.toContain('Ã');
      }
    });

    it('takes a Unicode purpose from ?purpose= and never echoes it garbled in a header', async () => {
      const token = await tokenFor({ sub: 'staff-u', roles: ['staff'], unit: '32', purposes: ['ünï'] });
      const res = await t.request('GET', `/v1/datasets/closed-reports/records${query({ purpose: 'ünï' })}`, { token });
      expect(res.status, res.text).toBe(200);
      for (const [, value] of res.headers) expect(value).toMatch(/^[\x20-\x7e]*$/);
      expect(res.headers.get('x-purpose')).toBeNull();
      await chainOk();
      const found = await t.request(
        'GET',
        `/v1/audit/decisions${query({ purpose: 'ünï', requestId: res.headers.get('x-request-id')! })}`,
        { token: auditor },
      );
      expect(found.body.items.map((i: { purpose: string }) => i.purpose)).toEqual(['ünï']);
    });

    it('echoes an ASCII purpose as given', async () => {
      const res = await t.request('GET', '/v1/datasets/closed-reports/records', {
        token: staff,
        headers: { 'x-purpose': 'pengawasan' },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get('x-purpose')).toBe('pengawasan');
    });

    it('refuses a purpose with a NUL, a space or a line break in ?purpose=', async () => {
      for (const bad of ['a%00', 'a%20b', 'a%0D%0Ab']) {
        expectProblem(
          await t.request('GET', `/v1/datasets/closed-reports/records?purpose=${bad}`, { token: staff }),
          400,
          'VALIDATION_FAILED',
        );
      }
    });

    it('takes a URL holding a surrogate’s (invalid UTF-8) bytes literally: no lone surrogate reaches Jaga through a URL', async () => {
      const res = await t.request('GET', `/v1/datasets/closed-reports/records${query({ purpose: 'a\ud800' })}`, {
        token: staff,
      });
      expectProblem(res, 403, 'PURPOSE_NOT_HELD');
      expect(res.body.detail).toContain('a%ED%A0%80');
    });
  });
});
