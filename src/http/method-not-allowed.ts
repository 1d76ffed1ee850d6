import type { Hono } from 'hono';
import { methodNotAllowed as honoMethodNotAllowed } from 'hono/method-not-allowed';
import type { AppEnv } from './context.ts';
import { problemResponse } from './on-error.ts';
import { ApiError } from './problem.ts';

/**
 * Turns a 404 on a path that exists under other methods into a 405 problem with `Allow`.
 * Hono finds the methods from the app's routes (a GET route also allows HEAD, which Hono answers).
 */
export function methodNotAllowed(app: Hono<AppEnv>) {
  return honoMethodNotAllowed<AppEnv>({
    app,
    onMethodNotAllowed: (c, methods) =>
      problemResponse(
        c,
        new ApiError(
          'METHOD_NOT_ALLOWED',
          `${c.req.method} is not allowed on ${c.req.path}; use ${methods.join(', ')}.`,
          {
            headers: { allow: methods.join(', ') },
          },
        ),
      ),
  });
}
