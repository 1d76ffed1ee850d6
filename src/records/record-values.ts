import type { FieldForRead } from '../catalog/catalog.service.ts';
import { isStorable, STORABLE_MESSAGE } from '../shared/text.ts';

/** A field's declared type (catalog api-contract: string, integer, number, boolean, date, datetime). */
export type FieldType = FieldForRead['type'];
export type Value = string | number | boolean | null;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

function validDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/**
 * Checks one value against its field's type and normalises it for storage: dates stay
 * `YYYY-MM-DD`, datetimes become UTC ISO strings (so text order is time order, which range
 * filters rely on). `fromText` accepts CSV's textual forms (numbers, `true`/`false`); JSON
 * values must already have the right JSON type; text must be storable (src/shared/text.ts).
 * Returns an error message when it does not fit.
 */
export function normaliseValue(type: FieldType, raw: unknown, fromText: boolean): { value: Value } | { error: string } {
  if (raw === null || raw === undefined || (fromText && raw === '')) return { value: null };
  switch (type) {
    case 'string':
      if (typeof raw !== 'string') return { error: 'expected a string' };
      // Stored in jsonb, which holds no NUL, and as UTF-8, which holds no lone surrogate.
      return isStorable(raw) ? { value: raw } : { error: `the text ${STORABLE_MESSAGE}` };
    case 'integer': {
      const n = fromText && typeof raw === 'string' && /^-?\d{1,16}$/.test(raw.trim()) ? Number(raw) : raw;
      return typeof n === 'number' && Number.isSafeInteger(n) ? { value: n } : { error: 'expected an integer' };
    }
    case 'number': {
      const n =
        fromText && typeof raw === 'string' && /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw.trim())
          ? Number(raw)
          : raw;
      return typeof n === 'number' && Number.isFinite(n) ? { value: n } : { error: 'expected a number' };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { value: raw };
      if (fromText && typeof raw === 'string' && /^(true|false)$/i.test(raw.trim()))
        return { value: raw.trim().toLowerCase() === 'true' };
      return { error: 'expected true or false' };
    }
    case 'date':
      return typeof raw === 'string' && validDate(raw.trim())
        ? { value: raw.trim() }
        : { error: 'expected a date YYYY-MM-DD' };
    case 'datetime': {
      if (typeof raw !== 'string' || !DATETIME.test(raw.trim()) || !validDate(raw.trim().slice(0, 10))) {
        return { error: 'expected a date-time with a zone, e.g. 2024-02-14T09:30:00+07:00' };
      }
      const t = new Date(raw.trim());
      return Number.isNaN(t.getTime()) ? { error: 'expected a valid date-time' } : { value: t.toISOString() };
    }
  }
}
