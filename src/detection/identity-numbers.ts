import { isTwoDigitYearDate, num } from './dates.ts';
import { validRegion } from './regions.ts';

/**
 * NIK and KK (domain.md §6): 16 digits, region 6 (province, regency/city, district), a DDMMYY date,
 * a serial of 4. A NIK's day is the birth day, plus 40 for women; a KK's is the issue date.
 */

/** Spaces, dots and dashes removed: how people write these numbers. */
export function digitsOf(value: string): string {
  return value.replace(/[\s.-]/g, '');
}

const SIXTEEN = /^\d{16}$/;

export function isNik(value: string): boolean {
  const s = digitsOf(value);
  if (!SIXTEEN.test(s) || !validRegion(s)) return false;
  let day = num(s, 6, 2);
  if (day > 40) day -= 40;
  if (!isTwoDigitYearDate(day, num(s, 8, 2), num(s, 10, 2))) return false;
  return s.slice(12) !== '0000';
}

/** A woman's NIK (day + 40): what a family-card number never is. */
export function isFemaleNik(value: string): boolean {
  const s = digitsOf(value);
  return isNik(s) && num(s, 6, 2) > 40;
}

export function isKk(value: string): boolean {
  const s = digitsOf(value);
  if (!SIXTEEN.test(s) || !validRegion(s)) return false;
  if (!isTwoDigitYearDate(num(s, 6, 2), num(s, 8, 2), num(s, 10, 2))) return false;
  return s.slice(12) !== '0000';
}

/** Birth date of a NIK as [yy, month, day]; null when it is not a NIK. */
export function nikBirth(value: string): [number, number, number] | null {
  const s = digitsOf(value);
  if (!isNik(s)) return null;
  const day = num(s, 6, 2);
  return [num(s, 10, 2), num(s, 8, 2), day > 40 ? day - 40 : day];
}
