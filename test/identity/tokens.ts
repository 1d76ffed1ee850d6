import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { expect } from 'vitest';
import { TEST_JWT_SECRET, type TestResponse } from '../helpers/app.ts';

export const ISSUER = 'https://idp.jaga.test';
export const AUDIENCE = 'jaga';
export const STEWARD = { sub: 'alice', roles: ['steward'], unit: '32.01' };

const now = () => Math.floor(Date.now() / 1000);

/** An HS256 test token with the usual registered claims; `claims` may override or drop (undefined) any. */
export async function hsToken(
  claims: Record<string, unknown> = STEWARD,
  options: { secret?: string | Uint8Array; header?: Record<string, unknown> } = {},
): Promise<string> {
  const payload = withRegistered(claims);
  const key =
    typeof options.secret === 'string' || options.secret === undefined
      ? new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET)
      : options.secret;
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', ...options.header }).sign(key);
}

/** The registered claims a well-formed token carries, merged under `claims` (undefined removes one). */
export function withRegistered(claims: Record<string, unknown>): JWTPayload {
  const merged: Record<string, unknown> = { iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 600, ...claims };
  return Object.fromEntries(Object.entries(merged).filter(([, val]) => val !== undefined));
}

export interface SigningKey {
  alg: 'RS256' | 'ES256' | 'EdDSA';
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function signingKey(alg: SigningKey['alg'], kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export async function keyToken(key: SigningKey, claims: Record<string, unknown> = STEWARD): Promise<string> {
  return new SignJWT(withRegistered(claims)).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.privateKey);
}

/** A JWKS endpoint on loopback whose key set (or failure) the test controls; counts fetches. */
export interface JwksServer {
  url: string;
  fetches: number;
  keys: JWK[];
  status: number;
  close(): Promise<void>;
}

export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const state = { fetches: 0, keys, status: 200 };
  const server: Server = createServer((_req, res) => {
    state.fetches += 1;
    res.writeHead(state.status, { 'content-type': 'application/json' });
    res.end(state.status === 200 ? JSON.stringify({ keys: state.keys }) : '{"error":"down"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  return Object.assign(state, {
    url: `http://127.0.0.1:${address.port}/.well-known/jwks.json`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/**
 * A refused credential: 401 problem+json with the stable code and the RFC 6750 challenge, and no
 * principal in the body (the route never ran as anyone).
 */
export function expectRefused(res: TestResponse, code: string): void {
  expect(res.status, res.text).toBe(401);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body.code).toBe(code);
  expect(res.body.status).toBe(401);
  expect(res.body.requestId).toEqual(expect.any(String));
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
  expect(res.body.sub).toBeUndefined();
  expect(res.body.roles).toBeUndefined();
}

/** base64url of a JSON value, for hand-built tokens. */
export const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
