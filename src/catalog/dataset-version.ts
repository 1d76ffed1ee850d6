import { DomainError } from '../shared/errors.ts';

/** A dataset's version as its ETag; If-Match checks it before a change (optimistic concurrency). */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * Checks an If-Match header against the current version. `required` answers 428 when it is
 * missing; a stale one answers 412.
 */
export function checkIfMatch(header: string | undefined, version: number, required: boolean): void {
  if (header === undefined || header.trim() === '') {
    if (required)
      throw new DomainError('PRECONDITION_REQUIRED', 'Send If-Match with the ETag of the dataset you read.');
    return;
  }
  if (header.trim() === '*') return;
  const tags = header.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (!tags.includes(etagOf(version))) {
    throw new DomainError(
      'PRECONDITION_FAILED',
      `The dataset has changed (its ETag is now ${etagOf(version)}); read it again.`,
      {
        currentTag: etagOf(version),
      },
    );
  }
}
