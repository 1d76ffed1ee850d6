import { exportSPKI, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { freePort } from '../helpers/process.ts';
import {
  AUDIENCE,
  b64,
  expectRefused,
  hsToken,
  ISSUER,
  keyToken,
  signingKey,
  startJwksServer,
  STEWARD,
  withRegistered,
  type JwksServer,
  type SigningKey,
} from './tokens.ts';

/** A JWKS-configured app: no shared secret, issuer and audience required. */
const jwksEnv = (url: string, extra: Record<string, string> = {}) => ({
  JWT_SECRET: '',
  JWKS_URL: url,
  JWT_ISSUER: ISSUER,
  JWT_AUDIENCE: AUDIENCE,
  ...extra,
});

describe.each(databaseKinds())('bearer tokens verified against a remote JWKS on %s', (kind) => {
  let rsa: SigningKey;
  let ec: SigningKey;
  let ed: SigningKey;
  let jwks: JwksServer;
  let t: TestApp;
  beforeAll(async () => {
    [rsa, ec, ed] = await Promise.all([
      signingKey('RS256', 'rsa-1'),
      signingKey('ES256', 'ec-1'),
      signingKey('EdDSA', 'ed-1'),
    ]);
    jwks = await startJwksServer([rsa.publicJwk, ec.publicJwk, ed.publicJwk]);
    // Cool-down 0: an unknown kid refetches the set at once, so rotation is visible without waiting.
    t = await startApp(kind, jwksEnv(jwks.url, { JWKS_COOLDOWN_MS: '0' }));
  });
  afterAll(async () => {
    await t.close();
    await jwks.close();
  });

  const me = (token: string) => t.request('GET', '/v1/me', { token });

  it('accepts RS256, ES256 and EdDSA tokens from keys in the set', async () => {
    expect(t.deps.services.identity.mode).toBe('jwks');
    for (const key of [rsa, ec, ed]) {
      const res = await me(await keyToken(key));
      expect(res.status, `${key.alg}: ${res.text}`).toBe(200);
      expect(res.body).toMatchObject({ sub: 'alice', roles: ['steward'], unit: '32.01' });
    }
  });

  it('refuses a token from the key set without exp, or living longer than JWT_MAX_TTL, with TOKEN_LIFETIME_INVALID', async () => {
    expectRefused(await me(await keyToken(rsa, { ...STEWARD, exp: undefined })), 'TOKEN_LIFETIME_INVALID');
    expectRefused(await me(await keyToken(ec, { ...STEWARD, exp: 1e15, iat: undefined })), 'TOKEN_LIFETIME_INVALID');
    const at = Math.floor(Date.now() / 1000);
    expectRefused(await me(await keyToken(ed, { ...STEWARD, iat: at, exp: at + 7 * 86400 })), 'TOKEN_LIFETIME_INVALID');
  });

  it('refuses an HS256 token signed with the RSA public key PEM as secret (key confusion)', async () => {
    // The classic attack: the verifier's public key is public, so sign HS256 with its PEM text.
    const pem = await exportSPKI(rsa.publicKey);
    expect(pem).toContain('BEGIN PUBLIC KEY');
    const confused = await new SignJWT(withRegistered(STEWARD))
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
      .sign(new TextEncoder().encode(pem));
    expectRefused(await me(confused), 'TOKEN_ALGORITHM_REJECTED');
  });

  it('refuses alg none even with a kid from the set', async () => {
    const unsigned = `${b64({ alg: 'none', kid: rsa.kid })}.${b64(withRegistered(STEWARD))}.`;
    expectRefused(await me(unsigned), 'TOKEN_ALGORITHM_REJECTED');
  });

  it('refuses a token signed by a key outside the set with TOKEN_KEY_UNKNOWN', async () => {
    expectRefused(await me(await keyToken(await signingKey('RS256', 'stranger'))), 'TOKEN_KEY_UNKNOWN');
  });

  it('refuses a forged signature under a known kid with TOKEN_SIGNATURE_INVALID', async () => {
    const impostor: SigningKey = { ...(await signingKey('RS256', 'x')), kid: rsa.kid };
    expectRefused(await me(await keyToken(impostor)), 'TOKEN_SIGNATURE_INVALID');
  });

  it('checks issuer and audience, which are required with a JWKS', async () => {
    expectRefused(await me(await keyToken(rsa, { ...STEWARD, iss: 'https://evil.test' })), 'TOKEN_CLAIM_INVALID');
    expectRefused(await me(await keyToken(rsa, { ...STEWARD, aud: 'other' })), 'TOKEN_CLAIM_INVALID');
  });

  it('validates the claims of a JWKS token like any other (unknown role refused)', async () => {
    expectRefused(await me(await keyToken(rsa, { ...STEWARD, roles: ['root'] })), 'TOKEN_CLAIM_INVALID');
  });

  it('follows a key rotation: new-key tokens accepted, removed-key tokens refused', async () => {
    const before = await keyToken(rsa);
    expect((await me(before)).status).toBe(200);

    const next = await signingKey('RS256', 'rsa-2');
    const afterRotation = await keyToken(next);
    // Not in the cached set yet, and the server does not have it either: unknown.
    expectRefused(await me(afterRotation), 'TOKEN_KEY_UNKNOWN');

    // The identity provider publishes rsa-2 and retires rsa-1.
    jwks.keys = [next.publicJwk, ec.publicJwk, ed.publicJwk];
    const fetched = jwks.fetches;
    const res = await me(afterRotation);
    expect(res.status, res.text).toBe(200);
    expect(jwks.fetches).toBeGreaterThan(fetched); // the unknown kid made Jaga refetch the set
    expectRefused(await me(before), 'TOKEN_KEY_UNKNOWN');
    expectRefused(await me(await keyToken(rsa)), 'TOKEN_KEY_UNKNOWN');
    expect((await me(await keyToken(next))).status).toBe(200);
  });

  it('does not accept HS256 tokens signed with any secret', async () => {
    expectRefused(await me(await hsToken()), 'TOKEN_ALGORITHM_REJECTED');
  });
});

describe.each(databaseKinds())('JWKS cache and outages on %s', (kind) => {
  let key: SigningKey;
  beforeAll(async () => {
    key = await signingKey('ES256', 'ec-cache');
  });

  it('answers 503 IDENTITY_UNAVAILABLE (not 401) when the JWKS cannot be reached, anonymous calls still work', async () => {
    const url = `http://127.0.0.1:${await freePort()}/jwks.json`;
    const t = await startApp(kind, jwksEnv(url));
    try {
      const res = await t.request('GET', '/v1/me', { token: await keyToken(key) });
      expect(res.status, res.text).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.body.code).toBe('IDENTITY_UNAVAILABLE');
      expect(res.body.sub).toBeUndefined();
      expect((await t.request('GET', '/v1/me')).body.kind).toBe('anonymous');
    } finally {
      await t.close();
    }
  });

  it('answers 503 when the JWKS endpoint fails, and recovers when it is back', async () => {
    const jwks = await startJwksServer([key.publicJwk]);
    jwks.status = 500;
    const t = await startApp(kind, jwksEnv(jwks.url, { JWKS_COOLDOWN_MS: '0' }));
    try {
      const token = await keyToken(key);
      expect((await t.request('GET', '/v1/me', { token })).body.code).toBe('IDENTITY_UNAVAILABLE');
      jwks.status = 200;
      expect((await t.request('GET', '/v1/me', { token })).status).toBe(200);
    } finally {
      await t.close();
      await jwks.close();
    }
  });

  it('fetches the set once and, during the cool-down, does not refetch it for unknown kids', async () => {
    const jwks = await startJwksServer([key.publicJwk]);
    // A long cool-down: a flood of tokens with invented kids cannot make Jaga hammer the provider.
    const t = await startApp(kind, jwksEnv(jwks.url, { JWKS_COOLDOWN_MS: '600000' }));
    try {
      expect((await t.request('GET', '/v1/me', { token: await keyToken(key) })).status).toBe(200);
      expect(jwks.fetches).toBe(1);
      for (let i = 0; i < 5; i++) {
        const res = await t.request('GET', '/v1/me', {
          token: await keyToken(await signingKey('ES256', `invented-${i}`)),
        });
        expectRefused(res, 'TOKEN_KEY_UNKNOWN');
      }
      expect((await t.request('GET', '/v1/me', { token: await keyToken(key) })).status).toBe(200);
      expect(jwks.fetches).toBe(1);
    } finally {
      await t.close();
      await jwks.close();
    }
  });
});
