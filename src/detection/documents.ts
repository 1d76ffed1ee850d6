import { digitsOf } from './identity-numbers.ts';
import { luhn } from './tax.ts';

/**
 * Numbers that look like many others, so said only when the column is named for them
 * (domain.md §6: passport and BPJS by context; bank accounts only with a hint).
 */

/** Indonesian passport: one or two letters and 6–7 digits (e.g. `A1234567`, `XC123456`). */
export function isPassport(value: string): boolean {
  return /^[A-Z]{1,2}\d{6,7}$/.test(value.trim().toUpperCase());
}

/** BPJS Kesehatan / JKN card: 13 digits. */
export function isBpjs(value: string): boolean {
  return /^\d{13}$/.test(digitsOf(value));
}

/** A bank account: 10–16 digits; a payment card (13–19 digits passing Luhn) counts too. */
export function isBankAccount(value: string): boolean {
  const s = digitsOf(value);
  if (/^\d{10,16}$/.test(s) && !/^0+$/.test(s)) return true;
  return /^\d{13,19}$/.test(s) && luhn(s);
}
