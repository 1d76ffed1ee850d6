import { SignJWT } from 'jose';
import type { Claims } from './claims.schema.ts';

/** A token lifetime: a whole number of seconds, minutes, hours or days (`90s`, `15m`, `1h`, `7d`). */
export const TTL = /^(\d{1,7})(s|m|h|d)$/;
const SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
/** Minted tokens are for local use: a month at most. */
export const MAX_TTL_SECONDS = 30 * 86400;

/** Seconds in a TTL string, or null when it is not one or exceeds the maximum. */
export function ttlSeconds(ttl: string): number | null {
  const m = TTL.exec(ttl);
  if (!m) return null;
  const seconds = Number(m[1]) * SECONDS[m[2] as keyof typeof SECONDS];
  return seconds > 0 && seconds <= MAX_TTL_SECONDS ? seconds : null;
}

/** Signs claims with the HS256 shared secret, adding `iss`/`aud` when the deployment checks them. */
export async function mintToken(options: {
  secret: string;
  claims: Claims;
  ttlSeconds: number;
  issuer?: string | undefined;
  audience?: string | undefined;
}): Promise<string> {
  const { sub, roles, unit, purposes, kind } = options.claims;
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({ roles, unit, purposes, kind })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + options.ttlSeconds);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
