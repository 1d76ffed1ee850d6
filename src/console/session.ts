import { EncryptJWT, jwtDecrypt } from 'jose';
import * as v from 'valibot';
import { PrincipalSchema, type Principal } from '../identity/principal.ts';

/**
 * The console's session: the principal it signed in as, a CSRF token and how it signed in, sealed
 * in an encrypted JWT (`dir` + A256GCM, so the browser can neither read nor alter it) that expires
 * after SESSION_TTL. Nothing is stored on the server: no migration, and any instance with the same
 * SESSION_SECRET reads it.
 */
export interface Session {
  principal: Principal;
  csrf: string;
  via: 'oidc' | 'development';
  /** The identity provider's ID token, kept (encrypted) only as the id_token_hint of RP-initiated logout. */
  idToken?: string;
  /** Seconds since the epoch at which the session ends. */
  exp: number;
}

const SessionClaims = v.object({
  p: PrincipalSchema,
  csrf: v.pipe(v.string(), v.minLength(16)),
  via: v.picklist(['oidc', 'development']),
  idt: v.optional(v.pipe(v.string(), v.maxLength(8192))),
  exp: v.number(),
});

const ISSUER = 'jaga-console';

/** Derives the 256-bit content key from SESSION_SECRET (or a key made at start when it is unset). */
export async function sessionKey(secret: string | undefined): Promise<Uint8Array> {
  const material = secret ? new TextEncoder().encode(secret) : crypto.getRandomValues(new Uint8Array(32));
  return new Uint8Array(await crypto.subtle.digest('SHA-256', material));
}

export function randomToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url');
}

/** Seals any small JSON object for `purpose` ('session', 'oidc-flow'), valid for `ttlSeconds`. */
export async function seal(key: Uint8Array, purpose: string, payload: Record<string, unknown>, ttlSeconds: number) {
  const now = Math.floor(Date.now() / 1000);
  return new EncryptJWT(payload)
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setIssuer(ISSUER)
    .setAudience(purpose)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .encrypt(key);
}

/** Opens what `seal` made for `purpose`; null when it is missing, altered, for another purpose or expired. */
export async function unseal(key: Uint8Array, purpose: string, token: string | undefined) {
  if (!token) return null;
  try {
    const { payload } = await jwtDecrypt(token, key, { issuer: ISSUER, audience: purpose, clockTolerance: 0 });
    return payload as Record<string, unknown>;
  } catch {
    return null;
  }
}

export async function sealSession(key: Uint8Array, s: Omit<Session, 'exp'>, ttlSeconds: number): Promise<string> {
  return seal(
    key,
    'session',
    { p: s.principal, csrf: s.csrf, via: s.via, ...(s.idToken ? { idt: s.idToken } : {}) },
    ttlSeconds,
  );
}

/** The session in the cookie, or null (none, tampered, or expired: the caller is sent to sign in). */
export async function openSession(key: Uint8Array, token: string | undefined): Promise<Session | null> {
  const payload = await unseal(key, 'session', token);
  if (!payload) return null;
  const parsed = v.safeParse(SessionClaims, payload);
  if (!parsed.success) return null;
  const { p, csrf, via, idt, exp } = parsed.output;
  return { principal: p, csrf, via, ...(idt ? { idToken: idt } : {}), exp };
}
