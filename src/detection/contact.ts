/**
 * Phone numbers and e-mail addresses (domain.md §6). Mobile: `+62 8…`, `62 8…` or `08…` with an
 * operator prefix from the table, 10–13 digits written with the leading 0. Landline: an area
 * code 2x–7x after the trunk 0 (or +62), 9–11 digits with the 0; digits alone look like too many
 * other numbers, so a landline must be written as one (a separator after the area code, brackets
 * or +62) unless the column is named for phones.
 */

const MOBILE_PREFIXES = new Set([
  '811',
  '812',
  '813',
  '814',
  '815',
  '816',
  '817',
  '818',
  '819',
  '821',
  '822',
  '823',
  '831',
  '832',
  '833',
  '838',
  '851',
  '852',
  '853',
  '855',
  '856',
  '857',
  '858',
  '859',
  '877',
  '878',
  '881',
  '882',
  '883',
  '884',
  '885',
  '886',
  '887',
  '888',
  '889',
  '895',
  '896',
  '897',
  '898',
  '899',
]);

const PHONE_CHARS = /^\+?[\d\s().-]+$/;

/** National form with the trunk 0 (`08…`, `021…`), or null when the prefix is not Indonesian. */
function national(value: string): string | null {
  const v = value.trim();
  if (!PHONE_CHARS.test(v)) return null;
  const d = v.replace(/[\s().-]/g, '');
  if (d.startsWith('+62')) return '0' + d.slice(3);
  if (d.startsWith('+')) return null;
  if (d.startsWith('62')) return '0' + d.slice(2);
  if (d.startsWith('0')) return d;
  return null;
}

export function isMobile(value: string): boolean {
  const n = national(value);
  if (n === null || n.length < 10 || n.length > 13 || n[1] !== '8') return false;
  return MOBILE_PREFIXES.has(n.slice(1, 4));
}

export function isLandline(value: string, hinted: boolean): boolean {
  const n = national(value);
  if (n === null || n.length < 9 || n.length > 11) return false;
  const area = n.charCodeAt(1) - 48;
  if (area < 2 || area > 7) return false;
  const v = value.trim();
  return hinted || v.startsWith('+62') || /^\(?0\d{1,3}\)?[\s-]/.test(v);
}

export const isPhone = (value: string, hinted: boolean) => isMobile(value) || isLandline(value, hinted);

const EMAIL =
  /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}$/;

export function isEmail(value: string): boolean {
  const v = value.trim();
  return v.length <= 254 && EMAIL.test(v) && !v.includes('..');
}
