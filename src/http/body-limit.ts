import type { MiddlewareHandler } from 'hono';
import { bodyLimit as readingBodyLimit } from 'hono/body-limit';
import type { AppEnv } from './context.ts';
import { ApiError } from './problem.ts';

/** The 413 for a body over `maxBytes`; its answer closes the connection (see on-error.ts). */
export function payloadTooLarge(maxBytes: number, setting: string): ApiError {
  return new ApiError('PAYLOAD_TOO_LARGE', `The request body exceeds ${maxBytes} bytes (${setting}).`);
}

/**
 * Refuses request bodies over `maxBytes` with 413 PAYLOAD_TOO_LARGE, deciding from the headers
 * whenever they can tell:
 * - `Content-Length` without `Transfer-Encoding`: the header alone decides (Node's parser holds
 *   the body to it). The body is not touched here: on @hono/node-server, `c.req.raw.body` builds a
 *   web stream per request, which costs more than the rest of a check.
 * - `Transfer-Encoding` (chunked): the body is read up to the limit, then refused.
 * - neither, on GET/HEAD: no body. Otherwise (a `Request` built in-process, HTTP/2) the body is
 *   measured by reading it, as for chunked.
 * `streamed`: the route reads the body as a stream and counts it itself (record uploads), so
 * only the header check applies here.
 */
export function bodyLimit(
  maxBytes: number,
  setting: string,
  options: { streamed?: boolean } = {},
): MiddlewareHandler<AppEnv> {
  const reading = readingBodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw payloadTooLarge(maxBytes, setting);
    },
  });
  return (c, next) => {
    const length = c.req.header('content-length');
    const chunked = c.req.header('transfer-encoding') !== undefined;
    if (length !== undefined && !chunked) {
      if (Number(length) > maxBytes) throw payloadTooLarge(maxBytes, setting);
      return next();
    }
    if (options.streamed || c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    return reading(c, next);
  };
}
