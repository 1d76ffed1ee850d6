import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './context.ts';

// A caller's id is honoured only if it is short and plain, so it is safe in logs and headers.
const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

/** Gives every request an id (the caller's if well-formed) and echoes it as `x-request-id`. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const given = c.req.header('x-request-id');
  const id = given && WELL_FORMED.test(given) ? given : crypto.randomUUID();
  c.set('requestId', id);
  c.header('x-request-id', id);
  await next();
  c.res.headers.set('x-request-id', id);
});
