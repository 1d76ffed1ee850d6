export type ReadFormat = 'json' | 'ndjson' | 'csv';

export const CONTENT_TYPES: Record<ReadFormat, string> = {
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/** What a records read is served as, by Accept (src/http/negotiate.ts); JSON unless asked otherwise. */
export const READ_OFFERS: Readonly<Record<string, ReadFormat>> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'text/csv': 'csv',
};
