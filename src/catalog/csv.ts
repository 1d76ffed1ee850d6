import { csvLine } from '../shared/csv.ts';

/** The registers as CSV (cells and formula defusing: src/shared/csv.ts); downloaded by the public. */
export function toCsv(header: string[], rows: unknown[][]): string {
  return csvLine(header) + rows.map(csvLine).join('');
}

/** What the registers are served as, by Accept (src/http/negotiate.ts); JSON unless asked otherwise. */
export const REGISTER_OFFERS: Readonly<Record<string, 'json' | 'csv'>> = {
  'application/json': 'json',
  'text/csv': 'csv',
};
