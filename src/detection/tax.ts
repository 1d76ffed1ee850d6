import { digitsOf, isNik } from './identity-numbers.ts';

/**
 * NPWP (domain.md §6): the legacy 15 digits `AA.BBB.BBB.C-DDD.EEE`, whose first 9 digits pass Luhn;
 * the 16-digit form is the NIK for residents, else `0` followed by the legacy number.
 */

export function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const PUNCTUATED = /^\d{2}\.\d{3}\.\d{3}\.\d-\d{3}\.\d{3}$/;

/** The legacy 15-digit number: with its punctuation, or bare digits (only with an NPWP hint). */
export function isLegacyNpwp(value: string, bareAllowed: boolean): boolean {
  const v = value.trim();
  const punctuated = PUNCTUATED.test(v);
  if (!punctuated && !(bareAllowed && /^\d{15}$/.test(v))) return false;
  const s = digitsOf(v);
  return luhn(s.slice(0, 9)) && s.slice(9, 12) !== '' && !/^0+$/.test(s.slice(0, 9));
}

/** The 16-digit form: `0` + a legacy number (Luhn), or a NIK; only said with an NPWP hint. */
export function isNpwp16(value: string): boolean {
  const s = digitsOf(value);
  if (!/^\d{16}$/.test(s)) return false;
  if (s[0] === '0') return luhn(s.slice(1, 10)) && !/^0+$/.test(s.slice(1, 10));
  return isNik(s);
}
