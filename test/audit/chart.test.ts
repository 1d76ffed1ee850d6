import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disclosureChartSvg, fillPeriods, MAX_BARS, TooManyPeriods } from '../../src/audit/disclosure-chart.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { entry, getAs, tokenFor } from './helpers.ts';

/**
 * Checks that `text` is one well-formed XML document whose root is an SVG element: tags nest and
 * close, attributes are quoted, `&` only starts an entity. Returns the bars (`<g class="bar">`).
 */
function parseSvg(text: string): { period: string; whole: number; masked: number }[] {
  const doc = text.trim();
  const stack: string[] = [];
  let roots = 0;
  let rest = doc;
  while (rest.length) {
    const lt = rest.indexOf('<');
    const content = lt === -1 ? rest : rest.slice(0, lt);
    expect(content, 'text outside tags').toMatch(/^(?:[^&<>]|&(?:amp|lt|gt|quot|apos|#\d+);)*$/);
    if (lt === -1) break;
    if (stack.length === 0) expect(content.trim(), 'text outside the root').toBe('');
    const gt = rest.indexOf('>', lt);
    expect(gt).toBeGreaterThan(lt);
    const tag = rest.slice(lt, gt + 1);
    rest = rest.slice(gt + 1);
    const close = /^<\/([A-Za-z][\w:.-]*)\s*>$/.exec(tag);
    if (close) {
      expect(stack.pop(), `closing ${close[1]}`).toBe(close[1]);
      continue;
    }
    const open =
      /^<([A-Za-z][\w:.-]*)((?:\s+[A-Za-z][\w:.-]*="(?:[^"<&]|&(?:amp|lt|gt|quot|#\d+);)*")*)\s*(\/?)>$/.exec(tag);
    expect(open, `malformed tag ${tag}`).not.toBeNull();
    if (stack.length === 0) {
      roots++;
      expect(open![1]).toBe('svg');
      expect(tag).toContain('xmlns="http://www.w3.org/2000/svg"');
    }
    if (!open![3]) stack.push(open![1]!);
  }
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
  expect(doc).not.toMatch(/<script|on[a-z]+=|javascript:|href=/i);
  return [...doc.matchAll(/<g class="bar" data-period="([^"]+)" data-whole="(\d+)" data-masked="(\d+)">/g)].map(
    (m) => ({
      period: m[1]!,
      whole: Number(m[2]),
      masked: Number(m[3]),
    }),
  );
}

describe('disclosure chart rendering', () => {
  it('draws one bar per period from the first to the last, empty periods included', () => {
    const points = [
      { period: '2026-01', whole: 3, masked: 1 },
      { period: '2026-04', whole: 0, masked: 2 },
      { period: '2026-02', whole: 5, masked: 0 },
    ];
    const bars = parseSvg(disclosureChartSvg(points, { period: 'month', title: 'Disclosures <per month> & more' }));
    expect(bars).toEqual([
      { period: '2026-01', whole: 3, masked: 1 },
      { period: '2026-02', whole: 5, masked: 0 },
      { period: '2026-03', whole: 0, masked: 0 },
      { period: '2026-04', whole: 0, masked: 2 },
    ]);
    expect(
      fillPeriods(
        [
          { period: '2024-02-28', whole: 1, masked: 0 },
          { period: '2024-03-01', whole: 1, masked: 0 },
        ],
        'day',
      ).map((p) => p.period),
    ).toEqual(['2024-02-28', '2024-02-29', '2024-03-01']);
    expect(
      fillPeriods(
        [
          { period: '2024', whole: 1, masked: 0 },
          { period: '2026', whole: 1, masked: 0 },
        ],
        'year',
      ),
    ).toHaveLength(3);
  });

  it('draws bar heights in proportion, the whole part below the masked part', () => {
    const svg = disclosureChartSvg(
      [
        { period: '2026-01-01', whole: 2, masked: 2 },
        { period: '2026-01-02', whole: 1, masked: 0 },
      ],
      { period: 'day', title: 't' },
    );
    const heights = [
      ...svg.matchAll(/<rect class="(whole|masked)" x="[\d.]+" y="[\d.]+" width="16" height="([\d.]+)"\/>/g),
    ].map((m) => [m[1], Number(m[2])]);
    const [w1, m1, w2, m2] = heights as [string, number][];
    expect(w1![1]).toBeCloseTo(m1![1]);
    expect(w1![1]).toBeCloseTo(2 * w2![1]);
    expect(m2![1]).toBe(0);
  });

  it('draws an empty chart when nothing was disclosed, and refuses more than a year of bars', () => {
    expect(parseSvg(disclosureChartSvg([], { period: 'day', title: 'none' }))).toEqual([]);
    const far = [
      { period: '2024-01-01', whole: 1, masked: 0 },
      { period: '2025-06-01', whole: 1, masked: 0 },
    ];
    expect(() => disclosureChartSvg(far, { period: 'day', title: 't' })).toThrow(TooManyPeriods);
    expect(MAX_BARS).toBe(366);
  });
});

describe.each(databaseKinds())('disclosure chart over HTTP on %s', (kind) => {
  let t: TestApp;
  const auditor = () => tokenFor('aud-1', ['auditor']);
  beforeAll(async () => {
    t = await startApp(kind);
    const log = t.deps.services.audit;
    const in32 = { sub: 'u-32', kind: 'user', roles: ['staff'], unit: '32.01' };
    const in33 = { sub: 'u-33', kind: 'user', roles: ['staff'], unit: '33' };
    const at32 = { type: 'Dataset', id: 'voters', classification: 'restricted', unit: '32' };
    for (let i = 0; i < 4; i++)
      await log.appendDurable(entry({ event: 'disclosure', principal: in32, resource: at32 }));
    for (let i = 0; i < 3; i++)
      await log.appendDurable(
        entry({
          event: 'disclosure',
          principal: in32,
          resource: at32,
          fields: { whole: [], masked: ['nik'], omitted: [] },
        }),
      );
    await log.appendDurable(
      entry({
        event: 'disclosure',
        principal: in33,
        resource: { type: 'Dataset', id: 'reports', classification: 'exempt', unit: '33' },
        fields: { whole: ['nik'], masked: [], omitted: [] },
      }),
    );
    // Not personal-data disclosures: nothing whole or masked; a deny.
    await log.appendDurable(
      entry({
        event: 'disclosure',
        principal: in33,
        resource: { type: 'Dataset', id: 'rulings', unit: '33' },
        fields: { whole: [], masked: [], omitted: ['nik'] },
      }),
    );
    await log.appendDurable(entry({ event: 'disclosure', effect: 'deny', principal: in33, resource: at32 }));
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers a valid SVG with one bar per period, agreeing with the disclosures report', async () => {
    for (const period of ['day', 'month'] as const) {
      const res = await getAs(t, await auditor(), `/v1/audit/reports/disclosures.svg?period=${period}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      const bars = parseSvg(res.text);
      const report = await getAs(t, await auditor(), `/v1/audit/reports/disclosures?period=${period}`);
      const perPeriod = new Map<string, number>();
      for (const r of report.body.items as { period: string; disclosures: number }[])
        perPeriod.set(r.period, (perPeriod.get(r.period) ?? 0) + r.disclosures);
      // Entries are stamped by the database clock: usually one period, two if the run crossed a boundary.
      expect(bars.map((b) => b.period)).toEqual([...perPeriod.keys()].sort());
      expect(bars.map((b) => b.whole + b.masked)).toEqual([...perPeriod.keys()].sort().map((k) => perPeriod.get(k)));
      expect(bars.reduce((n, b) => n + b.whole, 0)).toBe(5);
      expect(bars.reduce((n, b) => n + b.masked, 0)).toBe(3);
    }
  });

  it('applies the filters and the PPID scope, and refuses others', async () => {
    const ppid33 = await tokenFor('ppid-33', ['ppid'], '33');
    const scoped = parseSvg((await getAs(t, ppid33, '/v1/audit/reports/disclosures.svg?period=month')).text);
    expect(scoped.reduce((n, b) => n + b.whole + b.masked, 0)).toBe(1);
    const filtered = parseSvg(
      (await getAs(t, await auditor(), '/v1/audit/reports/disclosures.svg?dataset=voters')).text,
    );
    expect(filtered.reduce((n, b) => n + b.whole + b.masked, 0)).toBe(7);
    expect(
      parseSvg((await getAs(t, await auditor(), '/v1/audit/reports/disclosures.svg?from=2999-01-01')).text),
    ).toEqual([]);
    expect((await t.request('GET', '/v1/audit/reports/disclosures.svg')).status).toBe(401);
    expect(
      (await getAs(t, await tokenFor('staff-32', ['staff'], '32'), '/v1/audit/reports/disclosures.svg')).status,
    ).toBe(403);
    const json = await getAs(t, await auditor(), '/v1/audit/reports/disclosures.svg', { accept: 'application/json' });
    expect(json.status).toBe(406);
    expect(json.body.code).toBe('NOT_ACCEPTABLE');
    const bad = await getAs(t, await auditor(), '/v1/audit/reports/disclosures.svg?period=week');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
  });
});
