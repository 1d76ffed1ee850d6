import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../http/context.ts';
import { ANONYMOUS } from './principal.ts';
import type { TokenVerifier } from './token-verifier.ts';

/**
 * The single place that sets `c.var.principal`. No `Authorization` header: the anonymous public.
 * A header that is present but not a valid token is a 401 — never a silent fall-back to anonymous,
 * so a caller always knows their credentials were not used.
 */
export function authenticate(verifier: TokenVerifier) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.raw.headers.get('authorization');
    c.set('principal', header === null ? ANONYMOUS : await verifier.verifyAuthorization(header));
    await next();
  });
}
