/**
 * CSV (RFC 4180) for the registers. A cell that a spreadsheet would read as a formula
 * (=, +, -, @, tab, CR at the start) is prefixed with an apostrophe: titles are user input and
 * the registers are downloaded by the public (CSV injection).
 */
export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : Array.isArray(value) ? value.join('; ') : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** True when the client asks for CSV rather than JSON. */
export function wantsCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const at = accept.toLowerCase().indexOf('text/csv');
  // JSON named before CSV wins; otherwise CSV was asked for.
  return at >= 0 && !accept.slice(0, at).toLowerCase().includes('application/json');
}
