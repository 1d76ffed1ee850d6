import { SignJWT } from 'jose';
import type { AuditEntryInput } from '../../src/audit/audit.port.ts';
import { TEST_JWT_SECRET, type TestApp, type TestResponse } from '../helpers/app.ts';

const key = new TextEncoder().encode(TEST_JWT_SECRET);

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

/** A signed test token (HS256 with TEST_JWT_SECRET; claims sub, roles, unit) for the real app. */
export async function tokenFor(sub: string, roles: string[], unit = 'RI'): Promise<string> {
  return new SignJWT({ sub, roles, unit })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);
}

/** A GET through the whole app (identity, request id, routes, error model) with a bearer token. */
export function getAs(
  t: TestApp,
  token: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<TestResponse> {
  return t.request('GET', path, { token, headers });
}
