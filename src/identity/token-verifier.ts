import {
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import * as v from 'valibot';
import type { Config } from '../config/config.ts';
import { formatDuration } from '../config/duration.ts';
import { ApiError } from '../http/problem.ts';
import type { Logger } from '../system/logger.ts';
import { bearerToken, tokenError } from './bearer.ts';
import { claimsSchema, principalFromClaims, type KnownRoles } from './claims.schema.ts';
import type { Principal } from './principal.ts';

/** Turns an `Authorization` header into a principal, or throws a 401 (bad token) / 503 (key set unreachable). */
export interface TokenVerifier {
  /** How tokens are trusted here: by a shared secret, a remote key set, or not at all. */
  readonly mode: 'secret' | 'jwks' | 'none';
  verifyAuthorization(header: string): Promise<Principal>;
}

// Explicit allowlists: a shared secret only ever verifies HS256, a key set only asymmetric algorithms,
// so a token cannot choose how it is checked (alg "none", HS256 keyed with a public key).
export const SECRET_ALGORITHMS = ['HS256'];
export const JWKS_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
/** Allowed clock skew between Jaga and the token issuer, in seconds (at most 60 by design). */
export const CLOCK_TOLERANCE_S = 30;

/** Raised inside the key lookup when the key set itself cannot be had: Jaga's outage, not the caller's fault. */
class KeySetUnavailable extends Error {}

// One remote key set per URL and settings for the life of the process, so its cache and cool-down
// survive re-wiring (the Workers entry wires per request).
const remoteSets = new Map<string, JWTVerifyGetKey>();

function remoteKeySet(url: string, cooldownMs: number, cacheMaxAgeMs: number): JWTVerifyGetKey {
  const id = `${url} ${cooldownMs} ${cacheMaxAgeMs}`;
  let set = remoteSets.get(id);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), {
      cooldownDuration: cooldownMs,
      cacheMaxAge: cacheMaxAgeMs,
      timeoutDuration: 5000,
    });
    remoteSets.set(id, set);
  }
  return set;
}

function keyLookup(getKey: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await getKey(header, token);
    } catch (error) {
      // "No such key" is the token's problem; jose iterates multiple candidates itself.
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      // Network failure, timeout, non-200 answer, malformed key set: the identity provider's.
      throw new KeySetUnavailable('the key set cannot be fetched', { cause: error });
    }
  };
}

/** Maps a jose failure to a stable code; the detail names what failed, never key material. */
function fromJoseError(error: unknown): ApiError {
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return tokenError(
      'TOKEN_ALGORITHM_REJECTED',
      'The token is signed with an algorithm this deployment does not accept.',
      error,
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return tokenError('TOKEN_SIGNATURE_INVALID', 'The token signature does not verify.', error);
  }
  if (error instanceof errors.JWTExpired) return tokenError('TOKEN_EXPIRED', 'The token has expired.', error);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return tokenError('TOKEN_NOT_YET_VALID', 'The token is not valid yet (nbf).', error);
    if (error.claim === 'iat' && error.reason === 'check_failed') {
      return tokenError('TOKEN_NOT_YET_VALID', 'The token claims to be issued in the future (iat).', error);
    }
    return tokenError('TOKEN_CLAIM_INVALID', `The token claim ${error.claim} is not valid (${error.reason}).`, error);
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return tokenError('TOKEN_KEY_UNKNOWN', 'No key of the trusted key set matches the token (kid/alg).', error);
  }
  if (error instanceof errors.JOSENotSupported) {
    return tokenError(
      'TOKEN_ALGORITHM_REJECTED',
      'The token uses an algorithm or header this deployment does not support.',
      error,
    );
  }
  return tokenError('TOKEN_MALFORMED', 'The bearer token cannot be parsed as a signed JWT.', error);
}

/**
 * Refuses a token without `exp`, or one that lives longer than `maxTtlSeconds` (JWT_MAX_TTL): its
 * lifetime is `exp − iat` when it says when it was issued, else what is left of it (`exp − now`),
 * so neither a missing `iat` nor a far-future `exp` buys a standing credential. An `iat` in the
 * future counts as now (jose does not check it), or it could shorten any lifetime. The clock
 * tolerance is allowed, as for `exp` itself. jose has already checked that `exp`/`iat` are numbers.
 */
function checkLifetime(payload: JWTPayload, maxTtlSeconds: number): void {
  if (payload.exp === undefined) {
    throw tokenError('TOKEN_LIFETIME_INVALID', 'The token has no exp claim; tokens must expire.');
  }
  const now = Math.floor(Date.now() / 1000);
  const from = Math.min(payload.iat ?? now, now);
  const lifetime = payload.exp - from;
  if (lifetime > maxTtlSeconds + CLOCK_TOLERANCE_S) {
    const measured = from === payload.iat ? 'exp − iat is' : 'exp − now is';
    throw tokenError(
      'TOKEN_LIFETIME_INVALID',
      `The token lives longer than this deployment accepts: ${measured} ${lifetime} s, the most is ${maxTtlSeconds} s (JWT_MAX_TTL ${formatDuration(maxTtlSeconds)}).`,
    );
  }
}

const CACHE_MAX = 10_000;
const CACHE_TTL_MS = 60_000;

/**
 * Remembers tokens whose signature verified, for at most a minute and never past their `exp`, so a
 * service presenting the same token on every call pays for the HMAC once. Only for the shared
 * secret: with a JWKS a removed key must stop working at the next refetch. Claims are still
 * validated on every call (a role removed by a policy reload is refused at once).
 */
function cached(verify: (token: string) => Promise<JWTPayload>): (token: string) => Promise<JWTPayload> {
  const seen = new Map<string, { payload: JWTPayload; until: number }>();
  return async (token) => {
    const now = Date.now();
    const hit = seen.get(token);
    if (hit && hit.until > now) return hit.payload;
    if (hit) seen.delete(token);
    // Only what `verify` accepted (signature, registered claims, lifetime) is ever remembered.
    const payload = await verify(token);
    const until = Math.min(now + CACHE_TTL_MS, typeof payload.exp === 'number' ? payload.exp * 1000 : 0);
    if (seen.size >= CACHE_MAX) seen.delete(seen.keys().next().value!);
    seen.set(token, { payload, until });
    return payload;
  };
}

/**
 * Builds the verifier from configuration: HS256 with `JWT_SECRET`, or the remote key set at
 * `JWKS_URL` (cached, refetched at most once per cool-down for an unknown `kid`). With neither,
 * every presented token is refused while anonymous calls still work.
 */
export function createTokenVerifier(
  jwt: Config['jwt'],
  options: { knownRoles: KnownRoles; logger?: Logger },
): TokenVerifier {
  const schema = claimsSchema(options.knownRoles);
  const checks: JWTVerifyOptions = {
    clockTolerance: CLOCK_TOLERANCE_S,
    ...(jwt.issuer ? { issuer: jwt.issuer } : {}),
    ...(jwt.audience ? { audience: jwt.audience } : {}),
  };

  const accepted = (payload: JWTPayload): JWTPayload => {
    checkLifetime(payload, jwt.maxTtlSeconds);
    return payload;
  };

  let verify: ((token: string) => Promise<JWTPayload>) | undefined;
  let mode: TokenVerifier['mode'] = 'none';
  if (jwt.jwksUrl) {
    mode = 'jwks';
    const getKey = keyLookup(remoteKeySet(jwt.jwksUrl, jwt.jwksCooldownMs, jwt.jwksCacheMaxAgeMs));
    verify = async (token) =>
      accepted((await jwtVerify(token, getKey, { ...checks, algorithms: JWKS_ALGORITHMS })).payload);
  } else if (jwt.secret) {
    mode = 'secret';
    // Imported once: jose would otherwise import the raw secret on every verification.
    const key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(jwt.secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    verify = cached(async (token) =>
      accepted((await jwtVerify(token, await key, { ...checks, algorithms: SECRET_ALGORITHMS })).payload),
    );
  }

  const principals = principalCache(options.knownRoles);
  return {
    mode,
    async verifyAuthorization(header) {
      // Shared secret: a header seen before, verified and not yet expired, with the same policy
      // roles, is the same principal (what `cached` would say, minus the parsing and the claims).
      if (mode === 'secret') {
        const known = principals.get(header);
        if (known) return known;
      }
      const token = bearerToken(header);
      if (!verify) {
        throw tokenError(
          'TOKEN_KEY_UNKNOWN',
          'This deployment trusts no token keys (neither JWT_SECRET nor JWKS_URL is set).',
        );
      }
      let payload: JWTPayload;
      try {
        payload = await verify(token);
      } catch (error) {
        if (error instanceof KeySetUnavailable) {
          options.logger?.warn('JWKS unavailable', { url: jwt.jwksUrl, error: error.cause });
          throw new ApiError(
            'IDENTITY_UNAVAILABLE',
            'The identity provider’s key set cannot be fetched; try again later.',
            {
              headers: { 'retry-after': '5' },
            },
          );
        }
        if (error instanceof ApiError) throw error;
        throw fromJoseError(error);
      }
      // A key set verifies the signature every time (a removed key stops working at the refetch);
      // the principal built from those claims is the same as long as the roles are.
      const known = principals.get(header);
      if (known) return known;
      const roles = options.knownRoles();
      const claims = v.safeParse(schema, payload);
      if (!claims.success) {
        const issue = claims.issues[0];
        const path = v.getDotPath(issue) ?? 'claims';
        throw tokenError('TOKEN_CLAIM_INVALID', `The token claim ${path} is not valid: ${issue.message}.`);
      }
      return principals.set(header, frozen(principalFromClaims(claims.output)), roles, payload.exp);
    },
  };
}

/** A principal shared by the requests that present its token: nobody may change it. */
function frozen(p: Principal): Principal {
  Object.freeze(p.roles);
  Object.freeze(p.purposes);
  return Object.freeze(p);
}

/**
 * The finished principal per `Authorization` header, bounded (oldest out first), for at most
 * CACHE_TTL_MS and never past the token's `exp`. An entry holds the role set of the policy that
 * validated its claims (`knownRoles()` returns a new set on each policy reload): after a reload
 * the claims are validated again, so a role the new policy removed is refused at once.
 */
function principalCache(knownRoles: KnownRoles) {
  const seen = new Map<string, { principal: Principal; roles: ReadonlySet<string>; until: number }>();
  return {
    get(header: string): Principal | undefined {
      const hit = seen.get(header);
      if (!hit) return undefined;
      if (hit.until > Date.now() && hit.roles === knownRoles()) return hit.principal;
      seen.delete(header);
      return undefined;
    },
    set(header: string, principal: Principal, roles: ReadonlySet<string>, exp: number | undefined): Principal {
      if (typeof exp !== 'number') return principal;
      if (seen.size >= CACHE_MAX) seen.delete(seen.keys().next().value!);
      seen.set(header, { principal, roles, until: Math.min(Date.now() + CACHE_TTL_MS, exp * 1000) });
      return principal;
    },
  };
}
