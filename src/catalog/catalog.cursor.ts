import { DomainError } from '../shared/errors.ts';

/** Opaque keyset cursors: the last id of the page, base64url-encoded. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z0-9][a-z0-9-]{1,63}$/.test(id)) {
    throw new DomainError('VALIDATION_FAILED', 'The cursor is not valid.', {
      errors: [{ path: 'query.cursor', message: 'not a cursor this API issued' }],
    });
  }
  return id;
}
