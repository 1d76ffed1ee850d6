import { ageAt, isDate } from './dates.ts';

/**
 * Value shapes behind the hint-led detectors, and the specific categories' value hints
 * (domain.md §6: diagnoses and disability words, criminal status words, birth dates of children).
 */

/** ICD-10-like code: a letter (not U), two digits, an optional subcode (`J45`, `A09.0`, `E11.65`). */
const ICD10 = /^[A-TV-Z]\d{2}(?:\.\d{1,2}[A-Z]?)?$/;

const HEALTH_WORDS =
  /\b(?:diabetes|hipertensi|hypertension|tbc|tuberkulosis|tuberculosis|hiv|aids|kanker|cancer|stroke|asma|asthma|jantung|gangguan jiwa|skizofrenia|depresi|depression|hepatitis|demam berdarah|dbd|tunanetra|tunarungu|tunawicara|tunadaksa|disabilitas|odgj|diabetes melitus|gagal ginjal|covid-19|malaria|epilepsi|autis)\b/i;

export function isHealthValue(v: string): boolean {
  const t = v.trim();
  return ICD10.test(t.toUpperCase()) || HEALTH_WORDS.test(t);
}

const CRIMINAL_WORDS =
  /\b(?:tersangka|terdakwa|terpidana|narapidana|terlapor|residivis|suspect|convicted|defendant)\b/i;
export const isCriminalValue = (v: string) => CRIMINAL_WORDS.test(v);

const SEX = new Set([
  'l',
  'p',
  'lk',
  'pr',
  'laki-laki',
  'laki laki',
  'lakilaki',
  'perempuan',
  'pria',
  'wanita',
  'male',
  'female',
  'm',
  'f',
]);
export const isSexValue = (v: string) => SEX.has(v.trim().toLowerCase());

const RELIGION = new Set([
  'islam',
  'kristen',
  'protestan',
  'kristen protestan',
  'katolik',
  'katholik',
  'kristen katolik',
  'hindu',
  'buddha',
  'budha',
  'konghucu',
  'khonghucu',
  'kepercayaan',
  'penghayat kepercayaan',
]);
export const isReligionValue = (v: string) => RELIGION.has(v.trim().toLowerCase());

/** A person's or a place's name: letters, spaces and name punctuation, no digits. */
const NAME = /^[\p{L}][\p{L}\p{M} .,'-]{1,79}$/u;
export const isNameLike = (v: string) => NAME.test(v.trim());

const ADDRESS =
  /\b(?:jl|jln|jalan|gg|gang|rt|rw|kel|kelurahan|desa|kec|kecamatan|kab|kabupaten|kota|blok|perum|komplek|dusun|kp|kampung|no)\b\.?|\b\d{5}\b/i;
export const isAddressLike = (v: string) => ADDRESS.test(v);

export const isAmount = (v: string) =>
  /^-?\d{1,15}(?:[.,]\d{1,2})?$/.test(
    v
      .trim()
      .replace(/^rp\.?\s*/i, '')
      .replace(/\.(?=\d{3}\b)/g, ''),
  );

/** A birth date as [year, month, day] (ISO, DD-MM-YYYY or DD/MM/YYYY), plausible at `now`. */
export function parseBirthDate(v: string, now: Date): [number, number, number] | null {
  const t = v.trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/.exec(t);
  let y: number, mo: number, d: number;
  if (m) [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else {
    m = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/.exec(t);
    if (!m) return null;
    [y, mo, d] = [Number(m[3]), Number(m[2]), Number(m[1])];
  }
  if (!isDate(y, mo, d) || y < 1900) return null;
  const age = ageAt(now, y, mo, d);
  return age >= 0 && age <= 120 ? [y, mo, d] : null;
}

/** A birth date of someone under 18 at `now` (UU PDP art. 4: a child's data is specific). */
export function isChildBirthDate(v: string, now: Date): boolean {
  const b = parseBirthDate(v, now);
  return b !== null && ageAt(now, b[0], b[1], b[2]) < 18;
}
