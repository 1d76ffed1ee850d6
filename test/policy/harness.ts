import { SignJWT } from 'jose';
import { startApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app.ts';
import type { DatabaseKind } from '../helpers/databases.ts';

const key = new TextEncoder().encode(TEST_JWT_SECRET);

export interface Claims {
  sub: string;
  roles: string[];
  unit?: string;
  purposes?: string[];
  kind?: 'user' | 'service';
}

export async function token(claims: Claims): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key);
}

/** The whole app on a fresh database, through `startApp` (identity verifies the test tokens). */
export async function startPolicyApp(
  kind: DatabaseKind,
  env: Record<string, string> = {},
  options: Parameters<typeof startApp>[2] = {},
): Promise<TestApp> {
  return startApp(kind, env, options);
}
