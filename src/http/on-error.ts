import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { AuditEntryRefused } from '../audit/audit.entry.ts';
import { fromPostgresError, isConnectionError } from '../db/pg-errors.ts';
import { DomainError } from '../shared/errors.ts';
import type { Logger } from '../system/logger.ts';
import type { AppEnv } from './context.ts';
import { ApiError, ERRORS, toProblem, type ErrorCode } from './problem.ts';

/** Renders a domain error (an ApiError with its headers) as problem+json. */
export function problemResponse(c: Context<AppEnv>, error: DomainError): Response {
  const requestId = c.get('requestId') ?? crypto.randomUUID();
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    'x-request-id': requestId,
    ...(error.currentTag ? { etag: error.currentTag } : {}),
    ...(error instanceof ApiError ? error.headers : undefined),
  };
  // A refused body is left unread, so the connection cannot carry another request: say so, or a
  // keep-alive client sends its next request on a socket the server is about to drop.
  if (error.code === 'PAYLOAD_TOO_LARGE') headers.connection = 'close';
  // A limit that resets (an agreement's rows per day) says when to come back.
  const retryAfter = error.extensions?.retryAfter;
  if (typeof retryAfter === 'number' && Number.isSafeInteger(retryAfter)) headers['retry-after'] = String(retryAfter);
  return new Response(JSON.stringify(toProblem(error, requestId)), { status: ERRORS[error.code].status, headers });
}

const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/**
 * The one mapping of anything thrown to a domain error with a stable code: ours (DomainError,
 * ApiError), PostgreSQL's, Hono's; unknown ones become a generic 500.
 */
export function toApiError(error: unknown): { apiError: DomainError; unexpected: boolean } {
  if (error instanceof DomainError) return { apiError: error, unexpected: false };
  const pg = fromPostgresError(error);
  if (pg) return { apiError: pg, unexpected: pg.code === 'DATABASE_UNAVAILABLE' };
  if (isConnectionError(error)) {
    return { apiError: new ApiError('DATABASE_UNAVAILABLE', 'The database is not available.'), unexpected: true };
  }
  // Text the audit log cannot hold: the caller's input, which the door should have refused
  // (so it is logged as unexpected), and never a decision answered without its entry.
  if (error instanceof AuditEntryRefused) {
    return {
      apiError: new ApiError(
        'VALIDATION_FAILED',
        `The request holds text the audit log cannot record: ${error.message}.`,
      ),
      unexpected: true,
    };
  }
  if (error instanceof HTTPException) {
    const code = STATUS_CODES[error.status];
    if (code) return { apiError: new ApiError(code, error.message || undefined), unexpected: false };
  }
  return {
    apiError: new ApiError('INTERNAL', 'An internal error occurred; quote the requestId when reporting it.'),
    unexpected: true,
  };
}

// During an outage every request fails the same way: one warning per interval, with a count.
const OUTAGE_LOG_INTERVAL_MS = 5000;

/** The single onError: ours, Hono's, Postgres's and the unknown all leave as problem+json. */
export function onError(logger: Logger) {
  let lastOutageLog = -Infinity;
  let suppressed = 0;
  return (error: Error, c: Context<AppEnv>): Response => {
    const { apiError, unexpected } = toApiError(error);
    if (unexpected && apiError.code === 'DATABASE_UNAVAILABLE') {
      const now = performance.now();
      if (now - lastOutageLog < OUTAGE_LOG_INTERVAL_MS) suppressed += 1;
      else {
        logger.warn('database unavailable', {
          requestId: c.get('requestId'),
          error: error.message,
          sameSinceLastWarning: suppressed,
        });
        lastOutageLog = now;
        suppressed = 0;
      }
    } else if (unexpected) {
      logger.error('request failed', { requestId: c.get('requestId'), method: c.req.method, error });
    }
    return problemResponse(c, apiError);
  };
}
