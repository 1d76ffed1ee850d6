/**
 * Units are the offices of the jurisdiction tree, named by Kemendagri region codes:
 * `RI` (the national office) → `32` (province) → `32.01` (regency/city) → `32.01.05` (district).
 * "Within my unit" means the unit and its whole subtree; it is decided from the codes alone, so
 * the same test runs in memory (policies) and in SQL (row scope).
 */
export const NATIONAL_UNIT = 'RI';

export const UNIT_CODE = /^(RI|\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?)$/;

/** True when `unit` is `ancestor` or lies in its subtree. */
export function isWithin(unit: string | null | undefined, ancestor: string | null | undefined): boolean {
  if (!unit || !ancestor) return false;
  return ancestor === NATIONAL_UNIT || unit === ancestor || unit.startsWith(ancestor + '.');
}

/** The parent of a unit code (`32.01` → `32`, `32` → `RI`, `RI` → null). */
export function parentUnit(unit: string): string | null {
  if (unit === NATIONAL_UNIT) return null;
  const i = unit.lastIndexOf('.');
  return i < 0 ? NATIONAL_UNIT : unit.slice(0, i);
}
