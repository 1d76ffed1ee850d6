import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './context.ts';
import { problemResponse } from './on-error.ts';
import { ApiError } from './problem.ts';

/**
 * Bounds how long a request may take to produce its response (status and headers; a streamed
 * body then flows at its own pace). Jaga's own work per request is microseconds: what can take
 * long is waiting for the database (a connect that is not answered, a server that stopped
 * answering), so an expired deadline answers 503 DATABASE_UNAVAILABLE rather than leaving the
 * caller to wait. The handler goes on in the background; whatever it produces later is discarded
 * (a streamed body is cancelled), so nothing leaves after the 503; the `deadline` signal in the
 * context is aborted then, for work that must not count what did not leave.
 *
 * @param exempt requests whose work legitimately grows with the data (a record upload, verifying
 *   the whole chain); they are bounded by their own limits instead.
 */
export function deadline(ms: number, exempt: (method: string, path: string) => boolean): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (exempt(c.req.method, c.req.path)) return next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Work that must not take effect once the caller has its 503 (an agreement's row count) watches this.
    const given = new AbortController();
    c.set('deadline', given.signal);
    const work = next();
    const expired = await Promise.race([
      work.then(
        () => false,
        () => false,
      ),
      new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), ms))),
    ]);
    clearTimeout(timer);
    if (!expired) return work;
    given.abort();
    c.res = problemResponse(
      c,
      new ApiError(
        'DATABASE_UNAVAILABLE',
        `No answer within ${ms} ms: the database is slow or cannot be reached; retry later.`,
        {
          headers: { 'retry-after': '5' },
        },
      ),
    );
    const answered = c.res;
    // A late response goes nowhere: cancel its body, which may hold a page of records.
    void work.then(
      () => (c.res === answered ? undefined : c.res.body?.cancel().catch(() => {})),
      () => {},
    );
  };
}
