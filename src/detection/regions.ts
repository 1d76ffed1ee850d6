/**
 * The 38 province codes of Kemendagri (domain.md §5): the first two digits of a NIK, KK or
 * region-coded number. 93–96 are the 2022 Papua provinces (assignment per recent lists).
 */
export const PROVINCE_CODES: ReadonlySet<string> = new Set([
  '11',
  '12',
  '13',
  '14',
  '15',
  '16',
  '17',
  '18',
  '19',
  '21',
  '31',
  '32',
  '33',
  '34',
  '35',
  '36',
  '51',
  '52',
  '53',
  '61',
  '62',
  '63',
  '64',
  '65',
  '71',
  '72',
  '73',
  '74',
  '75',
  '76',
  '81',
  '82',
  '91',
  '92',
  '93',
  '94',
  '95',
  '96',
]);

/** Regencies are 01–69, cities 71–99 (domain.md §5); 00 and 70 name nothing. */
export function isRegencyCode(two: string): boolean {
  const n = Number(two);
  return (n >= 1 && n <= 69) || (n >= 71 && n <= 99);
}

/** A district within a regency: 01–99. */
export const isDistrictCode = (two: string) => two !== '00';

/** Province, regency/city and district digits of a 16-digit number. */
export function validRegion(digits: string): boolean {
  return (
    PROVINCE_CODES.has(digits.slice(0, 2)) && isRegencyCode(digits.slice(2, 4)) && isDistrictCode(digits.slice(4, 6))
  );
}
