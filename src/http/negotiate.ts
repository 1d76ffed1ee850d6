import type { Context } from 'hono';
import { accepts } from 'hono/accepts';
import { ApiError } from './problem.ts';

type Match = NonNullable<Parameters<typeof accepts>[1]['match']>;
/** One media range of an Accept header, as Hono parses it (type, params, q). */
export type MediaRange = Parameters<Match>[0][number];

const NONE = '';

/** How closely `range` names `type`: 3 exactly, 2 by `main/*`, 1 by `*\/*`, 0 not at all. */
function specificity(range: string, type: string): number {
  const r = range.toLowerCase();
  if (r === type) return 3;
  if (r === '*/*' || r === '*') return 1;
  if (r.endsWith('/*') && type.startsWith(r.slice(0, -1))) return 2;
  return 0;
}

/**
 * RFC 9110 §12.5.1: each offered type takes the quality of the most specific range that matches it
 * (0 when none does); the highest quality wins. Ties go to the type named more specifically, then to
 * the range named first, then to the server's order. `NONE` when every offer has quality 0.
 */
export function pickOffer(ranges: readonly MediaRange[], offers: readonly string[]): string {
  if (ranges.length === 0) return offers[0]!; // no usable range: as if Accept were absent
  let best = NONE;
  let bestRank = [0, 0, 0];
  for (const offer of offers) {
    let q = 0;
    let spec = 0;
    let at = 0;
    // Hono lists ranges by quality, highest first (stable): the first of equally specific ranges wins.
    ranges.forEach((range, i) => {
      const s = specificity(range.type, offer);
      if (s > spec) [spec, q, at] = [s, range.q, i];
    });
    if (q <= 0) continue;
    const rank = [q, spec, -at];
    const better =
      rank[0]! > bestRank[0]! ||
      (rank[0] === bestRank[0] && (rank[1]! > bestRank[1]! || (rank[1] === bestRank[1] && rank[2]! > bestRank[2]!)));
    if (best === NONE || better) [best, bestRank] = [offer, rank];
  }
  return best;
}

/**
 * The one content negotiation of the API (records, audit exports and reports, registers): the
 * representation Accept prefers among `offers` (media type → what the caller renders; the first is
 * the default when Accept is absent), or 406 NOT_ACCEPTABLE naming what is served.
 */
export function negotiate<Format extends string>(c: Context, offers: Readonly<Record<string, Format>>): Format {
  const types = Object.keys(offers);
  const chosen = accepts(c, {
    header: 'Accept',
    supports: types,
    default: types[0]!,
    match: (ranges) => pickOffer(ranges, types),
  });
  const format = offers[chosen];
  if (format === undefined) {
    const served = [...new Set(types)];
    throw new ApiError(
      'NOT_ACCEPTABLE',
      `This is served as ${served.slice(0, -1).join(', ')}${served.length > 1 ? ' or ' : ''}${served.at(-1)}.`,
    );
  }
  return format;
}
