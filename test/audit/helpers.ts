import { Hono } from 'hono';
import type { AuditEntryInput } from '../../src/audit/audit.port.ts';
import { auditRoutes } from '../../src/audit/audit.routes.ts';
import type { AppEnv } from '../../src/http/context.ts';
import { onError } from '../../src/http/on-error.ts';
import { requestId } from '../../src/http/request-id.ts';
import type { Principal } from '../../src/identity/principal.ts';
import type { TestApp, TestResponse } from '../helpers/app.ts';

export function entry(over: Partial<AuditEntryInput> = {}): AuditEntryInput {
  return {
    event: 'decision',
    principal: { sub: 'u-1', kind: 'user', roles: ['staff'], unit: '32.01' },
    action: 'read',
    resource: { type: 'Dataset', id: 'ds-1', classification: 'restricted', labelVersion: 2, unit: '32.01' },
    effect: 'allow',
    ruleId: 'staff.read',
    reason: 'staff may read restricted data of their unit',
    policyVersion: 'p1',
    fields: { whole: ['kecamatan'], masked: ['nik'], omitted: ['alamat'] },
    purpose: 'supervision',
    rowCount: 10,
    requestId: 'req-1',
    traceId: null,
    ...over,
  };
}

export function principal(sub: string, roles: string[], unit = 'RI'): Principal {
  return { sub, kind: 'user', roles, unit, purposes: [] };
}

/**
 * Token verification lands on the identity branch; until it is merged, the app's placeholder makes
 * every caller anonymous. This drives the real audit routes (request id, the one onError) with a
 * given principal, as the identity middleware will set it. After the merge these requests can go
 * through `t.request` with a signed token.
 */
export async function asPrincipal(
  t: TestApp,
  p: Principal,
  path: string,
  headers: Record<string, string> = {},
): Promise<TestResponse> {
  const app = new Hono<AppEnv>();
  app.use('*', requestId);
  app.use('*', async (c, next) => {
    c.set('principal', p);
    await next();
  });
  app.route('/', auditRoutes(t.deps));
  app.onError(onError(t.deps.logger));
  const res = await app.request(path, { headers });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}
