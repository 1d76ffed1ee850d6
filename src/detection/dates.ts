/** Calendar checks for the dates packed into identifiers. */

export const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysIn(month: number, year: number): number {
  return month === 2 && isLeap(year) ? 29 : (DAYS[month - 1] ?? 0);
}

/** A real date of a four-digit year. */
export function isDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(month, year);
}

/**
 * A DDMMYY date whose century is unknown: real when it exists in 19YY or 20YY (so 29 Feb is real
 * in every year divisible by four, 00 included through 2000).
 */
export function isTwoDigitYearDate(day: number, month: number, yy: number): boolean {
  return isDate(1900 + yy, month, day) || isDate(2000 + yy, month, day);
}

/** Digits of `s` from `at`, `n` long, as a number. */
export const num = (s: string, at: number, n: number) => Number(s.slice(at, at + n));

/** Age in whole years at `now` of someone born on y-m-d. */
export function ageAt(now: Date, y: number, m: number, d: number): number {
  let age = now.getUTCFullYear() - y;
  const month = now.getUTCMonth() + 1;
  if (month < m || (month === m && now.getUTCDate() < d)) age--;
  return age;
}
