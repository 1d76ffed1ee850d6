/**
 * A server-rendered SVG bar chart of personal-data disclosures per period (no scripts, no
 * libraries): one stacked bar per period, `whole` (at least one field disclosed whole) below
 * `masked` (fields disclosed only masked). Periods without disclosures between the first and the
 * last get an empty bar, so the axis is time.
 */
export type ChartPeriod = 'day' | 'month' | 'year';

export interface ChartPoint {
  /** `YYYY-MM-DD`, `YYYY-MM` or `YYYY`, as the disclosure report names periods. */
  period: string;
  whole: number;
  masked: number;
}

/** Most bars in one chart: a year of days. Beyond it, ask for a coarser period or a shorter range. */
export const MAX_BARS = 366;

export class TooManyPeriods extends Error {}

const SLOT = 22;
const BAR = 16;
const HEIGHT = 320;
const TOP = 48;
const BOTTOM = 70;
const LEFT = 56;
const RIGHT = 24;

/** Every period from the first to the last, with zeros where nothing was disclosed. */
export function fillPeriods(points: ChartPoint[], period: ChartPeriod): ChartPoint[] {
  if (points.length === 0) return [];
  const byKey = new Map(points.map((p) => [p.period, p]));
  const sorted = [...byKey.keys()].sort();
  const out: ChartPoint[] = [];
  let cursor = parsePeriod(sorted[0]!, period);
  const last = parsePeriod(sorted[sorted.length - 1]!, period);
  while (cursor.getTime() <= last.getTime()) {
    if (out.length >= MAX_BARS) throw new TooManyPeriods(`more than ${MAX_BARS} periods`);
    const key = periodKey(cursor, period);
    out.push(byKey.get(key) ?? { period: key, whole: 0, masked: 0 });
    cursor = next(cursor, period);
  }
  return out;
}

export function periodKey(d: Date, period: ChartPeriod): string {
  return d.toISOString().slice(0, period === 'day' ? 10 : period === 'month' ? 7 : 4);
}

function parsePeriod(key: string, period: ChartPeriod): Date {
  const full = period === 'day' ? key : period === 'month' ? `${key}-01` : `${key}-01-01`;
  return new Date(`${full}T00:00:00Z`);
}

function next(d: Date, period: ChartPeriod): Date {
  const n = new Date(d);
  if (period === 'day') n.setUTCDate(n.getUTCDate() + 1);
  else if (period === 'month') n.setUTCMonth(n.getUTCMonth() + 1);
  else n.setUTCFullYear(n.getUTCFullYear() + 1);
  return n;
}

/** An integer axis step (1, 2 or 5 × 10^k) giving about four gridlines up to `max`. */
function axisStep(max: number): number {
  const rough = Math.max(1, max / 4);
  const p = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 5, 10]) if (m * p >= rough) return m * p;
  return 10 * p;
}

const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

export function disclosureChartSvg(points: ChartPoint[], options: { period: ChartPeriod; title: string }): string {
  const bars = fillPeriods(points, options.period);
  // Wide enough for the legend even with a few bars.
  const plotWidth = Math.max(bars.length * SLOT, 300);
  const width = LEFT + plotWidth + RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const step = axisStep(Math.max(0, ...bars.map((b) => b.whole + b.masked)));
  const top = step * Math.max(1, Math.ceil(Math.max(0, ...bars.map((b) => b.whole + b.masked)) / step));
  const y = (v: number) => TOP + plotHeight - (v / top) * plotHeight;
  const labelEvery = Math.max(1, Math.ceil(bars.length / 40));
  const total = bars.reduce((n, b) => n + b.whole + b.masked, 0);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEIGHT}" viewBox="0 0 ${width} ${HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" font-family="sans-serif" font-size="11">`,
    `<title id="chart-title">${esc(options.title)}</title>`,
    `<desc id="chart-desc">${esc(`${total} disclosures in ${bars.length} periods (${options.period}); per period: disclosures with a field whole, and with fields only masked.`)}</desc>`,
    `<style>.whole{fill:#b3261e}.masked{fill:#f2b8b5}.axis{stroke:#444;stroke-width:1}.grid{stroke:#ddd;stroke-width:1}</style>`,
    `<text x="${LEFT}" y="18" font-size="14" font-weight="bold">${esc(options.title)}</text>`,
    `<rect class="whole" x="${LEFT}" y="26" width="10" height="10"/><text x="${LEFT + 14}" y="35">whole (a field disclosed whole)</text>`,
    `<rect class="masked" x="${LEFT + 200}" y="26" width="10" height="10"/><text x="${LEFT + 214}" y="35">masked only</text>`,
  );
  for (let v = 0; v <= top; v += step) {
    const yy = y(v).toFixed(1);
    parts.push(`<line class="grid" x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${yy}" y2="${yy}"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${v}</text>`);
  }
  parts.push(`<line class="axis" x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${TOP + plotHeight}"/>`);
  parts.push(
    `<line class="axis" x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${TOP + plotHeight}" y2="${TOP + plotHeight}"/>`,
  );
  if (bars.length === 0) {
    parts.push(
      `<text x="${LEFT + plotWidth / 2}" y="${TOP + plotHeight / 2}" text-anchor="middle">No disclosures</text>`,
    );
  }
  bars.forEach((b, i) => {
    const x = LEFT + i * SLOT + (SLOT - BAR) / 2;
    const yWhole = y(b.whole);
    const yMasked = y(b.whole + b.masked);
    parts.push(
      `<g class="bar" data-period="${esc(b.period)}" data-whole="${b.whole}" data-masked="${b.masked}">` +
        `<title>${esc(`${b.period}: ${b.whole} whole, ${b.masked} masked only`)}</title>` +
        `<rect class="whole" x="${x}" y="${yWhole.toFixed(1)}" width="${BAR}" height="${(TOP + plotHeight - yWhole).toFixed(1)}"/>` +
        `<rect class="masked" x="${x}" y="${yMasked.toFixed(1)}" width="${BAR}" height="${(yWhole - yMasked).toFixed(1)}"/>` +
        `</g>`,
    );
    if (i % labelEvery === 0) {
      const lx = x + BAR / 2;
      const ly = TOP + plotHeight + 12;
      parts.push(
        `<text x="${lx}" y="${ly}" text-anchor="end" transform="rotate(-45 ${lx} ${ly})">${esc(b.period)}</text>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
