import type { Hono } from 'hono';
import { csvLine } from '../../shared/csv.ts';
import { requestContext } from '../guard.ts';
import { h, render, show, table, type Child, type ConsoleEnv, type ConsoleServices, type Ctx } from '../html.ts';
import { layout } from '../layout.ts';

const REGISTER_PAGE = 100;
/** Registers hold one row per dataset; a CSV download takes them all, page by page. */
const CSV_MAX_PAGES = 1000;

type Entry = Record<string, unknown>;

/**
 * The columns of a register page: the entries' own keys, a few first when present. Entries are
 * rendered generically, so a register that gains fields shows them without a change here.
 */
function columns(items: Entry[], first: string[]): string[] {
  const keys = new Set<string>();
  for (const item of items) for (const k of Object.keys(item)) keys.add(k);
  return [...first.filter((k) => keys.has(k)), ...[...keys].filter((k) => !first.includes(k))];
}

function registerTable(caption: string, items: Entry[], first: string[], none: string): Child {
  const cols = columns(items, first);
  return table(
    caption,
    cols,
    items.map((item) => cols.map((k) => show(item[k], none))),
  );
}

async function allEntries(
  next: (cursor: string | undefined) => Promise<{ items: unknown[]; nextCursor: string | null }>,
) {
  const all: Entry[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < CSV_MAX_PAGES; i++) {
    const page = await next(cursor);
    all.push(...(page.items as Entry[]));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return all;
}

function csvOf(items: Entry[], first: string[]): string {
  const cols = columns(items, first);
  return csvLine(cols) + items.map((item) => csvLine(cols.map((k) => item[k]))).join('');
}

function csvResponse(c: Ctx, name: string, body: string | ReadableStream<Uint8Array>) {
  return c.body(body as never, 200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${name}.csv"`,
  });
}

function pager(c: Ctx, nextCursor: string | null): Child {
  if (!nextCursor) return null;
  const url = new URL(c.req.url);
  url.searchParams.set('cursor', nextCursor);
  return h(
    'p',
    { class: 'noprint' },
    h('a', { href: url.pathname + url.search, rel: 'next' }, c.get('t').filters.next),
  );
}

const DIP_FIRST = ['registerNo', 'id', 'title', 'summary', 'holdingUnit', 'ownerUnit', 'ownerUnitName'];
const DIK_FIRST = ['dikNo', 'id', 'subject', 'title', 'ownerUnit', 'ownerUnitName', 'grounds', 'statute'];

/** Pages anyone may see without signing in: home, the two registers, the open-data catalogue. */
export function publicPages(app: Hono<ConsoleEnv>, services: ConsoleServices) {
  const { catalog, openData, reads } = services;

  app.get('/console', (c) => {
    const t = c.get('t');
    return render(
      c,
      layout(
        c,
        t.home.title,
        h('p', null, t.home.lead),
        h('p', null, t.home.publicPart),
        h(
          'ul',
          null,
          h('li', null, h('a', { href: '/console/registers/public' }, t.nav.dip)),
          h('li', null, h('a', { href: '/console/registers/exempt' }, t.nav.dik)),
          h('li', null, h('a', { href: '/console/open-data' }, t.nav.openData)),
        ),
      ),
    );
  });

  app.get('/console/registers/public', async (c) => {
    const t = c.get('t');
    const page = await catalog.publicRegister(c.req.query('cursor'), REGISTER_PAGE);
    return render(
      c,
      layout(
        c,
        t.registers.dipTitle,
        h('p', { class: 'gloss' }, t.registers.dipGloss),
        h('p', { class: 'noprint' }, h('a', { href: '/console/registers/public.csv', download: '' }, t.registers.csv)),
        page.items.length
          ? registerTable(t.registers.dipTitle, page.items as unknown as Entry[], DIP_FIRST, t.none)
          : h('p', null, t.registers.empty),
        pager(c, page.nextCursor),
      ),
    );
  });

  app.get('/console/registers/public.csv', async (c) =>
    csvResponse(
      c,
      'daftar-informasi-publik',
      csvOf(await allEntries((cur) => catalog.publicRegister(cur, 1000)), DIP_FIRST),
    ),
  );

  app.get('/console/registers/exempt', async (c) => {
    const t = c.get('t');
    const page = await catalog.exemptRegister(c.req.query('cursor'), REGISTER_PAGE);
    return render(
      c,
      layout(
        c,
        t.registers.dikTitle,
        h('p', { class: 'gloss' }, t.registers.dikGloss),
        h('p', { class: 'noprint' }, h('a', { href: '/console/registers/exempt.csv', download: '' }, t.registers.csv)),
        page.items.length
          ? registerTable(t.registers.dikTitle, page.items as unknown as Entry[], DIK_FIRST, t.none)
          : h('p', null, t.registers.empty),
        pager(c, page.nextCursor),
      ),
    );
  });

  app.get('/console/registers/exempt.csv', async (c) =>
    csvResponse(
      c,
      'informasi-dikecualikan',
      csvOf(await allEntries((cur) => catalog.exemptRegister(cur, 1000)), DIK_FIRST),
    ),
  );

  app.get('/console/open-data', async (c) => {
    const t = c.get('t');
    const page = await openData.list(c.req.query('cursor'), REGISTER_PAGE);
    return render(
      c,
      layout(
        c,
        t.openData.title,
        h('p', null, t.openData.lead),
        page.items.length
          ? table(
              t.openData.title,
              [t.col.id, t.col.title, t.col.unit, t.col.fields, 'CSV'],
              page.items.map((d) => [
                d.id,
                d.title,
                d.ownerUnit,
                d.fields.map((f) => `${f.name} (${f.type})`).join(', ') || t.none,
                h(
                  'a',
                  { href: `/console/open-data/${encodeURIComponent(d.id)}/records.csv`, download: '' },
                  `${t.openData.download}: ${d.id}`,
                ),
              ]),
            )
          : h('p', null, t.registers.empty),
        pager(c, page.nextCursor),
      ),
    );
  });

  // The open-data export itself (public fields of a public dataset), logged as the API's is.
  app.get('/console/open-data/:id/records.csv', async (c) => {
    const id = c.req.param('id');
    const ctx = requestContext(c);
    const result = await reads.readPublic({
      datasetId: id,
      format: 'csv',
      purpose: null,
      cursor: undefined,
      limit: undefined,
      filters: [],
      requestId: ctx.requestId ?? null,
      traceId: ctx.traceId ?? null,
    });
    return csvResponse(c, id, result.body as ReadableStream<Uint8Array>);
  });
}
