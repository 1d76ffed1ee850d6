import { SignJWT } from 'jose';
import type { Claims } from './claims.schema.ts';

/** The lifetime `npm run token` gives a token unless told otherwise (shortened to JWT_MAX_TTL when that is less). */
export const DEFAULT_TTL_SECONDS = 3600;

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
