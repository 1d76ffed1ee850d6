import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { createTokenVerifier } from '../../src/identity/token-verifier.ts';
import { startApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app.ts';

// Verified tokens are remembered briefly; what is remembered must never widen what is accepted.
describe('the verified-token cache', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp('pglite');
  });
  afterAll(() => t.close());

  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));

  it('refuses a tampered copy of a token that was just accepted', async () => {
    const token = await sign({ sub: 'alice', roles: ['staff'], unit: '32' });
    expect((await t.request('GET', '/v1/me', { token })).body.sub).toBe('alice');
    const [h, p, s] = token.split('.') as [string, string, string];
    const forgedPayload = Buffer.from(
      JSON.stringify({ sub: 'alice', roles: ['admin'], unit: 'RI', exp: 4102444800 }),
    ).toString('base64url');
    const forged = await t.request('GET', '/v1/me', { token: `${h}.${forgedPayload}.${s}` });
    expect(forged.status).toBe(401);
    const flipped = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);
    expect((await t.request('GET', '/v1/me', { token: `${h}.${p}.${flipped}` })).status).toBe(401);
  });

  it('never remembers a token refused for its lifetime (no exp, or exp far ahead)', async () => {
    const forever = await new SignJWT({ sub: 'carol', roles: ['admin'], unit: 'RI' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const far = await new SignJWT({ sub: 'carol', roles: ['admin'], unit: 'RI', exp: 1e15 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    for (const token of [forever, far, forever, far]) {
      const res = await t.request('GET', '/v1/me', { token });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('TOKEN_LIFETIME_INVALID');
    }
  });

  it('refuses a remembered token at once when a policy reload removes its role', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jaga-policies-'));
    cpSync('policies', dir, { recursive: true });
    const app = await startApp('pglite', { POLICY_DIR: dir });
    try {
      const token = await sign({ sub: 'bob', roles: ['ppid'], unit: '32' });
      for (let i = 0; i < 3; i++) expect((await app.request('GET', '/v1/me', { token })).status).toBe(200);
      rmSync(join(dir, 'ppid.yaml'));
      const reload = await app.deps.services.policy.reload();
      expect(reload.ok && !reload.roles.includes('ppid')).toBe(true);
      const again = await app.request('GET', '/v1/me', { token });
      expect(again.status).toBe(401);
      expect(again.body.code).toBe('TOKEN_CLAIM_INVALID');
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never answers from the cache past the token’s exp', async () => {
    const roles = new Set(['staff']);
    const verifier = createTokenVerifier(
      { ...loadConfig({ JWT_SECRET: TEST_JWT_SECRET }).jwt },
      { knownRoles: () => roles },
    );
    const exp = Math.floor(Date.now() / 1000) + 5;
    const token = await new SignJWT({ sub: 'dave', roles: ['staff'], unit: '32' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const header = `Bearer ${token}`;
    const first = await verifier.verifyAuthorization(header);
    expect(await verifier.verifyAuthorization(header)).toBe(first); // the remembered principal
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      // Past exp and the allowed clock skew: refused, whatever was remembered.
      vi.setSystemTime((exp + 31) * 1000);
      await expect(verifier.verifyAuthorization(header)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    } finally {
      vi.useRealTimers();
    }
  });
});
