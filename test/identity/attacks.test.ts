import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import {
  AUDIENCE,
  b64,
  expectRefused,
  hsToken,
  ISSUER,
  keyToken,
  signingKey,
  STEWARD,
  withRegistered,
} from './tokens.ts';

const now = () => Math.floor(Date.now() / 1000);

describe.each(databaseKinds())('bearer tokens with a shared secret on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(kind, { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
  });
  afterAll(async () => t.close());

  const me = (authorization: string) => t.request('GET', '/v1/me', { headers: { authorization } });

  it('answers the anonymous principal with role public when no Authorization header is sent', async () => {
    const res = await t.request('GET', '/v1/me');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: null, kind: 'anonymous', roles: ['public'], unit: null, purposes: [] });
  });

  it('turns a valid token into the principal of its claims (kind defaults to user)', async () => {
    const res = await t.request('GET', '/v1/me', { token: await hsToken({ ...STEWARD, purposes: ['pengawasan'] }) });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      sub: 'alice',
      kind: 'user',
      roles: ['steward'],
      unit: '32.01',
      purposes: ['pengawasan'],
    });
  });

  it('reads kind service and several roles, and ignores claims it does not know', async () => {
    const token = await hsToken({
      sub: 'svc-sync',
      roles: ['service', 'staff'],
      unit: 'RI',
      kind: 'service',
      extra: 1,
    });
    const res = await t.request('GET', '/v1/me', { token });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      sub: 'svc-sync',
      kind: 'service',
      roles: ['service', 'staff'],
      unit: 'RI',
      purposes: [],
    });
  });

  it('accepts the scheme name in any case (RFC 7235)', async () => {
    expect((await me(`bearer ${await hsToken()}`)).status).toBe(200);
  });

  it('refuses alg none (an unsigned token) with TOKEN_ALGORITHM_REJECTED', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(withRegistered(STEWARD))}.`;
    expectRefused(await me(`Bearer ${unsigned}`), 'TOKEN_ALGORITHM_REJECTED');
  });

  it('refuses an asymmetric algorithm where only HS256 is trusted', async () => {
    const token = await keyToken(await signingKey('RS256', 'k1'));
    expectRefused(await me(`Bearer ${token}`), 'TOKEN_ALGORITHM_REJECTED');
  });

  it('refuses HS384/HS512 with the right secret: the allowlist is HS256 only', async () => {
    const token = await new SignJWT(withRegistered(STEWARD))
      .setProtectedHeader({ alg: 'HS512' })
      .sign(new TextEncoder().encode(TEST_JWT_SECRET + TEST_JWT_SECRET));
    expectRefused(await me(`Bearer ${token}`), 'TOKEN_ALGORITHM_REJECTED');
  });

  it('refuses a token signed with another secret with TOKEN_SIGNATURE_INVALID', async () => {
    const token = await hsToken(STEWARD, { secret: 'another-secret-another-secret-another-1234' });
    expectRefused(await me(`Bearer ${token}`), 'TOKEN_SIGNATURE_INVALID');
  });

  it('refuses a token whose signature was altered', async () => {
    const [h, p, s] = (await hsToken()).split('.');
    const flipped = (s!.startsWith('A') ? 'B' : 'A') + s!.slice(1);
    expectRefused(await me(`Bearer ${h}.${p}.${flipped}`), 'TOKEN_SIGNATURE_INVALID');
  });

  it('refuses a tampered payload (roles raised to admin, old signature kept)', async () => {
    const [h, , s] = (await hsToken()).split('.');
    const raised = b64(withRegistered({ ...STEWARD, roles: ['admin'], unit: 'RI' }));
    expectRefused(await me(`Bearer ${h}.${raised}.${s}`), 'TOKEN_SIGNATURE_INVALID');
  });

  it('refuses an expired token (beyond the clock tolerance) with TOKEN_EXPIRED', async () => {
    const token = await hsToken({ ...STEWARD, iat: now() - 7200, exp: now() - 3600 });
    expectRefused(await me(`Bearer ${token}`), 'TOKEN_EXPIRED');
  });

  it('refuses a token without exp with TOKEN_LIFETIME_INVALID, every time it is presented', async () => {
    const token = await hsToken({ ...STEWARD, exp: undefined });
    for (let i = 0; i < 2; i++) {
      const res = await me(`Bearer ${token}`);
      expectRefused(res, 'TOKEN_LIFETIME_INVALID');
      expect(res.body.detail).toContain('exp');
    }
    // An admin token is no exception.
    expectRefused(
      await me(
        `Bearer ${await hsToken({ sub: 'root', roles: ['admin'], unit: 'RI', exp: undefined, iat: undefined })}`,
      ),
      'TOKEN_LIFETIME_INVALID',
    );
  });

  it('refuses a far-future exp (1e15) with or without iat', async () => {
    expectRefused(
      await me(`Bearer ${await hsToken({ ...STEWARD, exp: 1e15, iat: undefined })}`),
      'TOKEN_LIFETIME_INVALID',
    );
    expectRefused(await me(`Bearer ${await hsToken({ ...STEWARD, exp: 1e15 })}`), 'TOKEN_LIFETIME_INVALID');
  });

  it('measures the lifetime as exp − iat (JWT_MAX_TTL 24h by default, 30 s of clock tolerance)', async () => {
    const at = now();
    expect((await me(`Bearer ${await hsToken({ ...STEWARD, iat: at, exp: at + 86400 })}`)).status).toBe(200);
    expect((await me(`Bearer ${await hsToken({ ...STEWARD, iat: at, exp: at + 86400 + 20 })}`)).status).toBe(200);
    const long = await me(`Bearer ${await hsToken({ ...STEWARD, iat: at, exp: at + 86400 + 60 })}`);
    expectRefused(long, 'TOKEN_LIFETIME_INVALID');
    expect(long.body.detail).toContain('JWT_MAX_TTL 24h');
    // Issued two days ago and still valid for ten minutes: it was minted for longer than allowed.
    expectRefused(
      await me(`Bearer ${await hsToken({ ...STEWARD, iat: at - 2 * 86400, exp: at + 600 })}`),
      'TOKEN_LIFETIME_INVALID',
    );
    // Without iat, what is left of it counts.
    expect((await me(`Bearer ${await hsToken({ ...STEWARD, iat: undefined, exp: at + 3600 })}`)).status).toBe(200);
    expectRefused(
      await me(`Bearer ${await hsToken({ ...STEWARD, iat: undefined, exp: at + 2 * 86400 })}`),
      'TOKEN_LIFETIME_INVALID',
    );
  });

  it('does not let an iat in the future shorten the lifetime', async () => {
    const token = await hsToken({ ...STEWARD, iat: 1e15 - 60, exp: 1e15 });
    expectRefused(await me(`Bearer ${token}`), 'TOKEN_LIFETIME_INVALID');
  });

  it('refuses a token that is not yet valid with TOKEN_NOT_YET_VALID', async () => {
    const token = await hsToken({ ...STEWARD, nbf: now() + 3600 });
    expectRefused(await me(`Bearer ${token}`), 'TOKEN_NOT_YET_VALID');
  });

  it('refuses a token from another issuer with TOKEN_CLAIM_INVALID', async () => {
    expectRefused(await me(`Bearer ${await hsToken({ ...STEWARD, iss: 'https://evil.test' })}`), 'TOKEN_CLAIM_INVALID');
    expectRefused(await me(`Bearer ${await hsToken({ ...STEWARD, iss: undefined })}`), 'TOKEN_CLAIM_INVALID');
  });

  it('refuses a token for another audience with TOKEN_CLAIM_INVALID', async () => {
    expectRefused(await me(`Bearer ${await hsToken({ ...STEWARD, aud: 'other-service' })}`), 'TOKEN_CLAIM_INVALID');
    expectRefused(await me(`Bearer ${await hsToken({ ...STEWARD, aud: undefined })}`), 'TOKEN_CLAIM_INVALID');
  });

  it('refuses a signed token without sub', async () => {
    const res = await me(`Bearer ${await hsToken({ ...STEWARD, sub: undefined })}`);
    expectRefused(res, 'TOKEN_CLAIM_INVALID');
    expect(res.body.detail).toContain('sub');
  });

  it('refuses a signed token whose roles is not an array', async () => {
    for (const roles of ['steward', { steward: true }, null, [1]]) {
      const res = await me(`Bearer ${await hsToken({ ...STEWARD, roles })}`);
      expectRefused(res, 'TOKEN_CLAIM_INVALID');
      expect(res.body.detail).toContain('roles');
    }
    expectRefused(await me(`Bearer ${await hsToken({ ...STEWARD, roles: undefined })}`), 'TOKEN_CLAIM_INVALID');
  });

  it('refuses a signed token naming a role that does not exist in the policy set', async () => {
    const res = await me(`Bearer ${await hsToken({ ...STEWARD, roles: ['steward', 'superuser'] })}`);
    expectRefused(res, 'TOKEN_CLAIM_INVALID');
    expect(res.body.detail).toContain('superuser');
  });

  it('refuses a signed token with a bad unit, kind or purposes', async () => {
    for (const bad of [
      { unit: '3' },
      { unit: undefined },
      { unit: 'RI.32' },
      { kind: 'anonymous' },
      { kind: 'admin' },
      { purposes: 'all' },
    ]) {
      expectRefused(await me(`Bearer ${await hsToken({ ...STEWARD, ...bad })}`), 'TOKEN_CLAIM_INVALID');
    }
  });

  it('refuses a validly signed token over 8 KiB with TOKEN_TOO_LARGE before parsing it', async () => {
    const token = await hsToken({ ...STEWARD, padding: 'x'.repeat(9000) });
    expect(token.length).toBeGreaterThan(8192);
    expectRefused(await me(`Bearer ${token}`), 'TOKEN_TOO_LARGE');
    // Not even looked at: an oversized string of garbage gets the same answer.
    expectRefused(await me(`Bearer ${'%'.repeat(20_000)}`), 'TOKEN_TOO_LARGE');
  });

  it('refuses garbage in the Authorization header with TOKEN_MALFORMED', async () => {
    for (const header of [
      'Bearer not-a-jwt',
      'Bearer a.b',
      'Bearer a.b.c.d.e',
      `Bearer ${b64('{')}.${b64('{')}.c2ln`,
      'Bearer ü.ü.ü',
      '!!!',
      `Bearer ${b64('[1]')}.${b64('[]')}.x`,
    ]) {
      expectRefused(await me(header), 'TOKEN_MALFORMED');
    }
  });

  it('refuses Bearer with no token, and an empty header, with TOKEN_MALFORMED', async () => {
    expectRefused(await me('Bearer'), 'TOKEN_MALFORMED');
    expectRefused(await me('Bearer    '), 'TOKEN_MALFORMED');
    expectRefused(await me(''), 'TOKEN_MALFORMED');
  });

  it('refuses another scheme (Basic) with UNAUTHENTICATED instead of treating the caller as anonymous', async () => {
    expectRefused(await me(`Basic ${Buffer.from('alice:secret').toString('base64')}`), 'UNAUTHENTICATED');
    expectRefused(await me(`Token ${await hsToken()}`), 'UNAUTHENTICATED');
  });

  it('refuses a bad token on every route, not only /v1/me', async () => {
    const headers = { authorization: 'Bearer not-a-jwt' };
    for (const path of ['/openapi.json', '/v1/nowhere']) {
      expectRefused(await t.request('GET', path, { headers }), 'TOKEN_MALFORMED');
    }
  });
});

describe.each(databaseKinds())('with neither JWT_SECRET nor JWKS_URL on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(kind, { JWT_SECRET: '' });
  });
  afterAll(async () => t.close());

  it('refuses every bearer token (nothing can verify it) while anonymous calls still work', async () => {
    expect(t.deps.services.identity.mode).toBe('none');
    expectRefused(await t.request('GET', '/v1/me', { token: await hsToken() }), 'TOKEN_KEY_UNKNOWN');
    const unsigned = `${b64({ alg: 'none' })}.${b64(withRegistered(STEWARD))}.`;
    expectRefused(await t.request('GET', '/v1/me', { token: unsigned }), 'TOKEN_KEY_UNKNOWN');
    const anon = await t.request('GET', '/v1/me');
    expect(anon.status).toBe(200);
    expect(anon.body.kind).toBe('anonymous');
  });
});
