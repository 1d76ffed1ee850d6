import { ApiError } from '../http/problem.ts';

export type ReadFormat = 'json' | 'ndjson' | 'csv';

export const CONTENT_TYPES: Record<ReadFormat, string> = {
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/** The representation the Accept header asks for (first acceptable in the header's order). */
export function negotiate(accept: string | undefined): ReadFormat {
  if (!accept || accept.trim() === '') return 'json';
  const ranges = accept
    .split(',')
    .map((part) => {
      const [type, ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((x) => x.trim()).find((x) => x.startsWith('q='));
      return { type: type!.trim(), q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { type } of ranges) {
    if (type === 'application/json' || type === 'application/*' || type === '*/*') return 'json';
    if (type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl') return 'ndjson';
    if (type === 'text/csv' || type === 'text/*') return 'csv';
  }
  throw new ApiError('NOT_ACCEPTABLE', 'Records are served as application/json, application/x-ndjson or text/csv.');
}
