import { createMiddleware } from 'hono/factory';
import { requestId as honoRequestId } from 'hono/request-id';
import type { AppEnv } from './context.ts';

// Hono honours a caller's id only if it is at most `limitLength` characters of [A-Za-z0-9_=-],
// so it is safe in logs and headers; anything else is replaced by a fresh UUID.
const assign = honoRequestId({ limitLength: 128, headerName: 'x-request-id' });

/**
 * Gives every request an id (the caller's if well-formed) and echoes it as `x-request-id`.
 * Hono's middleware puts the header on responses built with `c.*`; a route that returns its own
 * `Response` (the streamed records read) would lack it, so it is set after the route where it is missing.
 */
export const requestId = createMiddleware<AppEnv>((c, next) =>
  assign(c, async () => {
    await next();
    if (!c.res.headers.has('x-request-id')) c.res.headers.set('x-request-id', c.get('requestId'));
  }),
);
