import { getRequestListener, RequestError } from '@hono/node-server';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../system/logger.ts';
import { ApiError, toProblem, type ErrorCode } from './problem.ts';

/** Node's parser and timeout errors, as Jaga's codes; anything else the parser refuses is MALFORMED_REQUEST. */
const NODE_REFUSALS: Partial<Record<string, ErrorCode>> = {
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'PAYLOAD_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
};

const DETAILS: Partial<Record<ErrorCode, string>> = {
  HEADERS_TOO_LARGE: 'The request headers exceed the server’s limit (16 KiB in all by default).',
  PAYLOAD_TOO_LARGE: 'The chunk extensions of the request body are too large.',
  REQUEST_TIMEOUT: 'The request did not arrive in time.',
  MALFORMED_REQUEST: 'The request is not valid HTTP/1.1.',
};

/** How long a closing connection may go on sending before it is cut (so its answer is read, not reset). */
const LINGER_MS = 2000;

function problemOf(code: ErrorCode, detail: string | undefined, requestId: string): { status: number; body: string } {
  const problem = toProblem(new ApiError(code, detail ?? DETAILS[code]), requestId);
  return { status: problem.status, body: JSON.stringify(problem) };
}

/** The complete HTTP/1.1 response, problem+json, for a request Node refused before Jaga saw it. */
export function clientErrorResponse(errorCode: string | undefined, requestId: string): string {
  const { status, body } = problemOf(
    (errorCode && NODE_REFUSALS[errorCode]) || 'MALFORMED_REQUEST',
    undefined,
    requestId,
  );
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Content-Type: application/problem+json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `X-Request-Id: ${requestId}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** A refusal answered before the request reaches Hono, closing the connection. */
function refuse(res: ServerResponse, code: ErrorCode, detail: string): void {
  const requestId = crypto.randomUUID();
  const { status, body } = problemOf(code, detail, requestId);
  res.writeHead(status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
    connection: 'close',
  });
  res.end(body);
}

/**
 * Half-closes the socket, reads and drops whatever the client still sends, and destroys it when the
 * client closes or after LINGER_MS. Closing a socket with unread bytes makes the kernel send a
 * reset, and a client still writing a refused body would see that reset (EPIPE, "other side
 * closed") instead of the 413 waiting in its receive buffer.
 */
function lingeringClose(socket: Duplex): void {
  socket.end();
  socket.resume();
  const cut = setTimeout(() => socket.destroy(), LINGER_MS);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
}

function discard(req: IncomingMessage): void {
  req.removeAllListeners('data');
  req.on('data', () => {});
  req.resume();
}

/**
 * The `clientError` handler: Node's own refusals (headers too large, a request the parser cannot
 * read, a request timeout) answer problem+json like every other error, instead of Node's bare
 * status line. Like Node's default, nothing is written when the socket is gone or a response on
 * it has begun.
 */
export function answerClientError(logger: Logger) {
  return (error: Error & { code?: string }, socket: Duplex): void => {
    // The parser may report again for bytes that follow; the first answer stands.
    if (socket.writableEnded || socket.destroyed) return;
    const attached = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || attached?.headersSent) {
      socket.destroy();
      return;
    }
    const requestId = crypto.randomUUID();
    logger.debug('request refused by the HTTP parser', { requestId, code: error.code });
    socket.write(clientErrorResponse(error.code, requestId));
    lingeringClose(socket);
  };
}

/**
 * The Node HTTP server for the app. What happens below Hono follows the same rules as the routes:
 * - Node's own refusals answer problem+json: parser errors through `clientError`; the missing
 *   `Host` check (RFC 9112 §3.2) is done here instead of by Node (`requireHostHeader: false`);
 *   a request the adapter cannot turn into a URL is a 400 too.
 * - A connection that ends with `Connection: close` (a 413 whose body was left unread) closes by
 *   lingering instead of at once, draining what the client still sends. Node's HTTP server closes
 *   such a connection through `socket.destroySoon()`, so that is what each socket is given.
 */
export function createNodeServer(
  fetch: Parameters<typeof getRequestListener>[0],
  options: { hostname: string; logger: Logger },
): Server {
  const { logger } = options;
  const listener = getRequestListener(fetch, {
    hostname: options.hostname,
    errorHandler: (error) => {
      const requestId = crypto.randomUUID();
      if (error instanceof RequestError) {
        const { status, body } = problemOf(
          'MALFORMED_REQUEST',
          `The request cannot be read: ${error.message}.`,
          requestId,
        );
        return new Response(body, {
          status,
          headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId, connection: 'close' },
        });
      }
      logger.error('request failed below the app', { requestId, error });
      const { status, body } = problemOf(
        'INTERNAL',
        'An internal error occurred; quote the requestId when reporting it.',
        requestId,
      );
      return new Response(body, {
        status,
        headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId },
      });
    },
  });
  const server = createServer({ requireHostHeader: false }, (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.host === undefined && req.httpVersion === '1.1') {
      refuse(res, 'MALFORMED_REQUEST', 'An HTTP/1.1 request must carry a Host header.');
      return;
    }
    // A body refused before its end: whoever was reading it (a web stream the app left behind)
    // stops, and the rest is dropped as it arrives, so the lingering close reads it off the wire
    // and the client reaches the answer.
    res.once('finish', () => {
      if (!req.complete) discard(req);
    });
    void listener(req, res);
  });
  server.on('clientError', answerClientError(logger));
  server.on('connection', (socket: Socket) => {
    socket.destroySoon = () => lingeringClose(socket);
  });
  return server;
}
