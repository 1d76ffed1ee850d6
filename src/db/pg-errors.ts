import postgres from 'postgres';
import { DomainError } from '../shared/errors.ts';

/** Maps a PostgreSQL error to the domain's error by SQLSTATE, never by message text. */
export function fromPostgresError(error: unknown): DomainError | undefined {
  if (!(error instanceof postgres.PostgresError)) return undefined;
  const where = error.constraint_name ? ` (${error.constraint_name})` : '';
  switch (error.code) {
    case '23505':
      return new DomainError('ALREADY_EXISTS', `A record with the same key already exists${where}.`, { cause: error });
    case '23503':
      return new DomainError('REFERENCE_NOT_FOUND', `The request refers to something that does not exist${where}.`, {
        cause: error,
      });
    case '23514':
    case '23502':
    case '22001':
    case '22003':
    case '22007':
    case '22008':
    case '22P02':
      return new DomainError('CONSTRAINT_VIOLATION', `The data breaks a rule of the database${where}.`, {
        cause: error,
      });
    case '40001':
    case '40P01':
      return new DomainError('CONFLICT', 'A concurrent change conflicted; retry the request.', { cause: error });
    case '57P01':
    case '57P02':
    case '57P03':
    case '08000':
    case '08003':
    case '08006':
      return new DomainError('DATABASE_UNAVAILABLE', 'The database is not available.', { cause: error });
    default:
      return undefined;
  }
}

// Cloudflare Workers' sockets (cloudflare:sockets, under nodejs_compat) fail with a bare Error and
// no code: a refused or unreachable address, a connection dropped.
const WORKERS_SOCKET_ERROR = /^(proxy request failed, cannot connect to the specified address|Network connection lost)/;

/** True for errors that mean the database cannot be reached at all (no SQLSTATE). */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === undefined && error instanceof Error && WORKERS_SOCKET_ERROR.test(error.message)) return true;
  return (
    typeof code === 'string' &&
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ENOTFOUND',
      'ETIMEDOUT',
      'CONNECT_TIMEOUT',
      'CONNECTION_CLOSED',
      'CONNECTION_ENDED',
      'CONNECTION_DESTROYED',
      'EPIPE',
      'ENOENT',
    ].includes(code)
  );
}

/**
 * True when PostgreSQL refused the data itself (SQLSTATE class 22, data exception, or 23,
 * integrity constraint): sending the same rows again fails the same way.
 */
export function isDataRefusal(error: unknown): error is InstanceType<typeof postgres.PostgresError> {
  return error instanceof postgres.PostgresError && /^2[23]/.test(error.code);
}
