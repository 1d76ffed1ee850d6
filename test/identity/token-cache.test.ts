import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app.ts';

// Verified tokens are remembered briefly; what is remembered must never widen what is accepted.
describe('the verified-token cache', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp('pglite');
  });
  afterAll(() => t.close());

  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(new TextEncoder().encode(TEST_JWT_SECRET));

  it('refuses a tampered copy of a token that was just accepted', async () => {
    const token = await sign({ sub: 'alice', roles: ['staff'], unit: '32' });
    expect((await t.request('GET', '/v1/me', { token })).body.sub).toBe('alice');
    const [h, p, s] = token.split('.') as [string, string, string];
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'alice', roles: ['admin'], unit: 'RI', exp: 4102444800 })).toString('base64url');
    const forged = await t.request('GET', '/v1/me', { token: `${h}.${forgedPayload}.${s}` });
    expect(forged.status).toBe(401);
    const flipped = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);
    expect((await t.request('GET', '/v1/me', { token: `${h}.${p}.${flipped}` })).status).toBe(401);
  });

  it('never remembers a token refused for its lifetime (no exp, or exp far ahead)', async () => {
    const forever = await new SignJWT({ sub: 'carol', roles: ['admin'], unit: 'RI' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const far = await new SignJWT({ sub: 'carol', roles: ['admin'], unit: 'RI', exp: 1e15 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(TEST_JWT_SECRET));
    for (const token of [forever, far, forever, far]) {
      const res = await t.request('GET', '/v1/me', { token });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('TOKEN_LIFETIME_INVALID');
    }
  });

  it('still validates the claims of a remembered token on every call', async () => {
    const token = await sign({ sub: 'bob', roles: ['staff'], unit: '32' });
    expect((await t.request('GET', '/v1/me', { token })).status).toBe(200);
    // The same token, once remembered, is checked against the roles the policy set defines now.
    const roles = t.deps.services.policy.current().roles as Set<string>;
    roles.delete('staff');
    try {
      const again = await t.request('GET', '/v1/me', { token });
      expect(again.status).toBe(401);
      expect(again.body.code).toBe('TOKEN_CLAIM_INVALID');
    } finally {
      roles.add('staff');
    }
  });
});
