import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../http/context.ts';
import { ANONYMOUS } from './principal.ts';

/** Placeholder until token verification lands: every caller is the anonymous public. */
export function authenticate() {
  return createMiddleware<AppEnv>(async (c, next) => {
    c.set('principal', ANONYMOUS);
    await next();
  });
}
