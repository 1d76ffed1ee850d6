import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { DomainError } from '../shared/errors.ts';
import type { DisclosureKey, ReportPeriod } from './audit-query.repo.ts';

/** What a disclosures report's cursor belongs to: its grouping, period and filters. */
export interface ReportCursorScope {
  period: 'day' | 'month' | 'year';
  range: ReportPeriod;
  principal?: string | undefined;
  dataset?: string | undefined;
  unit?: string | undefined;
}

const VERSION = 1;
const day = v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}$/));
const text = v.nullable(v.pipe(v.string(), v.maxLength(1000)));
const list = v.pipe(v.array(v.pipe(v.string(), v.maxLength(1000))), v.maxLength(500));
const CursorSchema = v.strictTuple([
  v.literal(VERSION),
  v.pipe(v.string(), v.length(16)),
  day,
  text,
  text,
  text,
  text,
  list,
  list,
]);

/** A short digest of the report a cursor was issued for: a cursor of another report is refused. */
function reportTag(s: ReportCursorScope): string {
  const canon = JSON.stringify([
    s.period,
    s.range.from.toISOString(),
    s.range.to.toISOString(),
    s.principal ?? null,
    s.dataset ?? null,
    s.unit ?? null,
  ]);
  return createHash('sha256').update(canon).digest('base64url').slice(0, 16);
}

/** The cursor of the page after the group `k` (opaque: base64url JSON). */
export function encodeReportCursor(k: DisclosureKey, s: ReportCursorScope): string {
  const json = JSON.stringify([
    VERSION,
    reportTag(s),
    k.period.toISOString().slice(0, 10),
    k.principal,
    k.dataset,
    k.purpose,
    k.unit,
    k.whole,
    k.masked,
  ]);
  return Buffer.from(json, 'utf8').toString('base64url');
}

const periodStart = (d: Date, period: ReportCursorScope['period']) =>
  period === 'day' ? d : new Date(Date.UTC(d.getUTCFullYear(), period === 'month' ? d.getUTCMonth() : 0, 1));

/**
 * The group a cursor names, if it is one this API issued for this very report (same grouping,
 * period and filters, a period start inside it); anything else is refused with VALIDATION_FAILED.
 */
export function decodeReportCursor(cursor: string, s: ReportCursorScope): DisclosureKey {
  const refuse = (message: string) =>
    new DomainError('VALIDATION_FAILED', 'The cursor is not valid.', {
      errors: [{ path: 'query.cursor', message }],
    });
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse('not a cursor this API issued');
  }
  const parsed = v.safeParse(CursorSchema, raw);
  if (!parsed.success) throw refuse('not a cursor this API issued');
  const [, tag, periodText, principal, dataset, purpose, unit, whole, masked] = parsed.output;
  if (tag !== reportTag(s))
    throw refuse('a cursor of another report: give the same period, from, to and filters as the page it came from');
  const period = new Date(`${periodText}T00:00:00Z`);
  if (
    Number.isNaN(period.getTime()) ||
    period.toISOString().slice(0, 10) !== periodText ||
    periodStart(period, s.period).getTime() !== period.getTime() ||
    period < periodStart(s.range.from, s.period) ||
    period >= s.range.to
  )
    throw refuse('not a cursor this API issued');
  return { period, principal, dataset, purpose, unit, whole, masked };
}
