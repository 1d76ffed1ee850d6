/**
 * CSV (RFC 4180) for everything Jaga serves as text/csv: registers, records, audit exports.
 * Text a spreadsheet would read as a formula (=, +, -, @, tab or CR first) gets a leading
 * apostrophe and quotes (CSV injection: titles, notes and record values are user input). Numbers
 * and booleans are values, never formulas. Lists join with `; `; other objects go as JSON.
 */

const SPECIAL = /[",\r\n]/;

/** Whether text starts like a spreadsheet formula (checked by character code: once per cell). */
function formulaLike(v: string): boolean {
  const c = v.charCodeAt(0);
  return c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13;
}

function textCell(v: string): string {
  const formula = formulaLike(v);
  if (!formula && !SPECIAL.test(v)) return v;
  return `"${(formula ? `'${v}` : v).replaceAll('"', '""')}"`;
}

/** One cell. */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return textCell(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  return textCell(Array.isArray(v) ? v.join('; ') : JSON.stringify(v));
}

/** One line, CRLF-terminated. */
export function csvLine(cells: readonly unknown[]): string {
  let out = '';
  for (let i = 0; i < cells.length; i++) out += (i ? ',' : '') + csvCell(cells[i]);
  return out + '\r\n';
}
