import { isDate, num } from './dates.ts';
import { digitsOf } from './identity-numbers.ts';

/**
 * NIP of a civil servant (domain.md §6): 18 digits — birth date YYYYMMDD, appointment YYYYMM,
 * sex 1 (man) or 2 (woman), serial 3 (never 000). Born 1940 or later; appointed at 14 or
 * older, after 1960, and not after `now`.
 */
export function isNip(value: string, now: Date): boolean {
  const s = digitsOf(value);
  if (!/^\d{18}$/.test(s)) return false;
  const by = num(s, 0, 4);
  if (by < 1940 || !isDate(by, num(s, 4, 2), num(s, 6, 2))) return false;
  const ay = num(s, 8, 4);
  const am = num(s, 12, 2);
  if (am < 1 || am > 12 || ay < 1960 || ay < by + 14) return false;
  const thisYear = now.getUTCFullYear();
  if (ay > thisYear || (ay === thisYear && am > now.getUTCMonth() + 1)) return false;
  if (s[14] !== '1' && s[14] !== '2') return false;
  return s.slice(15) !== '000';
}
