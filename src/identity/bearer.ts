import { ApiError, type ErrorCode } from '../http/problem.ts';

/** Tokens longer than this are refused before any parsing (8 KiB: far above any real JWT). */
export const MAX_TOKEN_BYTES = 8 * 1024;

/**
 * A 401 for a credential that is present but not acceptable. The challenge follows RFC 6750 §3;
 * the description is the stable code, never the token or key material.
 */
export function tokenError(code: ErrorCode, detail: string, cause?: unknown): ApiError {
  return new ApiError(code, detail, {
    headers: { 'www-authenticate': `Bearer realm="jaga", error="invalid_token", error_description="${code}"` },
    ...(cause === undefined ? {} : { cause }),
  });
}

// Compact JWS: three base64url segments (RFC 7515 §7.1). Anything else is not a token we can read.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * The bearer token of an `Authorization` header value, or a 401 explaining why there is none.
 * The size limit is checked first so an oversized header is never split or decoded.
 */
export function bearerToken(header: string): string {
  if (header.length > MAX_TOKEN_BYTES + 16) {
    throw tokenError('TOKEN_TOO_LARGE', `The Authorization header is longer than ${MAX_TOKEN_BYTES} bytes.`);
  }
  const match = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?:[ \t]+(.*))?$/.exec(header.trim());
  if (!match) throw tokenError('TOKEN_MALFORMED', 'The Authorization header is not "Bearer <token>".');
  if (match[1]!.toLowerCase() !== 'bearer') {
    throw tokenError('UNAUTHENTICATED', 'Only the Bearer scheme is accepted (Authorization: Bearer <JWT>).');
  }
  const token = (match[2] ?? '').trim();
  if (!token)
    throw tokenError('TOKEN_MALFORMED', 'The Authorization header names the Bearer scheme but carries no token.');
  if (token.length > MAX_TOKEN_BYTES) {
    throw tokenError('TOKEN_TOO_LARGE', `The bearer token is longer than ${MAX_TOKEN_BYTES} bytes.`);
  }
  if (!COMPACT_JWS.test(token))
    throw tokenError('TOKEN_MALFORMED', 'The bearer token is not a compact JWT (three base64url parts).');
  return token;
}
