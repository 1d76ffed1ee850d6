import { csvLine } from '../http/csv.ts';

/** The registers as CSV (cells and formula defusing: src/http/csv.ts); downloaded by the public. */
export function toCsv(header: string[], rows: unknown[][]): string {
  return csvLine(header) + rows.map(csvLine).join('');
}

/** True when the client asks for CSV rather than JSON. */
export function wantsCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const at = accept.toLowerCase().indexOf('text/csv');
  // JSON named before CSV wins; otherwise CSV was asked for.
  return at >= 0 && !accept.slice(0, at).toLowerCase().includes('application/json');
}
