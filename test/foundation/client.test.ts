import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJagaClient, JagaProblem, unwrap } from '../../clients/typescript/index.js';
import { CLIENT_SCHEMA, clientSchema } from '../../scripts/client-schema.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { token } from '../policy/harness.ts';

/** The typed client (clients/typescript) against the app itself: requests go through app.fetch, not a socket. */
const clientFor = (t: TestApp, bearer?: string) =>
  createJagaClient({
    baseUrl: 'http://jaga.test',
    ...(bearer ? { token: bearer } : {}),
    fetch: (input: string | URL | Request, init?: RequestInit) =>
      Promise.resolve(t.app.fetch(new Request(input, init))),
  });

describe('typed TypeScript client', () => {
  it('is generated from the document the server serves (regenerate with npm run client:generate)', async () => {
    const t = await startApp('pglite');
    try {
      const document = (await t.request('GET', '/openapi.json')).body;
      expect(readFileSync(CLIENT_SCHEMA, 'utf8')).toBe(await clientSchema(document));
    } finally {
      await t.close();
    }
  });

  describe.each(databaseKinds())('decision API through the client on %s', (kind) => {
    let t: TestApp;
    let steward: string;
    let staff: string;
    beforeAll(async () => {
      t = await startApp(kind);
      steward = await token({ sub: 'steward-32', roles: ['steward'], unit: '32' });
      staff = await token({ sub: 'staff-32', roles: ['staff'], unit: '32' });
      const asSteward = clientFor(t, steward);
      unwrap(
        await asSteward.POST('/v1/datasets', {
          body: {
            id: 'client-laporan',
            title: 'Laporan',
            ownerUnit: '32',
            fields: [
              { name: 'nomor', type: 'string', personalData: 'none' },
              { name: 'nama_pelapor', type: 'string', personalData: 'name' },
            ],
          },
        }),
      );
      unwrap(
        await asSteward.PUT('/v1/datasets/{id}/label', {
          params: { path: { id: 'client-laporan' } },
          body: { classification: 'restricted', justification: 'reporters are named' },
        }),
      );
    });
    afterAll(() => t?.close());

    it('checks by dataset id and gets the typed decision, logged', async () => {
      const decision = unwrap(
        await clientFor(t, staff).POST('/v1/check', {
          body: {
            action: 'read',
            resource: { type: 'Dataset', id: 'client-laporan' },
            fields: ['nomor', 'nama_pelapor'],
          },
        }),
      );
      expect(decision.allow).toBe(true);
      expect(decision.decisionId).toMatch(/^[0-9a-f-]{36}$/);
      expect([...decision.fields.allowed, ...decision.fields.masked]).toContain('nomor');
      const auditor = await token({ sub: 'aud', roles: ['auditor'], unit: 'RI' });
      const log = unwrap(
        await clientFor(t, auditor).GET('/v1/audit/decisions', { params: { query: { principal: 'staff-32' } } }),
      );
      if (typeof log === 'string') throw new Error('asked for JSON, got text');
      expect(log.items.map((i) => i.id)).toContain(decision.decisionId);
      const batch = unwrap(
        await clientFor(t, staff).POST('/v1/check/batch', {
          body: { checks: [{ action: 'read', resource: { type: 'Dataset', id: 'client-laporan' } }] },
        }),
      );
      expect(batch.results).toHaveLength(1);
    });

    it('turns a refusal into a JagaProblem with the stable code', async () => {
      const anonymous = clientFor(t);
      const result = await anonymous.POST('/v1/datasets', {
        body: { id: 'nope', title: 'x', ownerUnit: '32', fields: [{ name: 'a', type: 'string' }] },
      });
      expect(() => unwrap(result)).toThrow(JagaProblem);
      try {
        unwrap(result);
      } catch (e) {
        expect((e as JagaProblem).status).toBe(403);
        expect((e as JagaProblem).problem?.code).toBe('FORBIDDEN');
        expect((e as JagaProblem).problem?.requestId).toBeTruthy();
      }
    });
  });
});
