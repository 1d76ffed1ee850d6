import type { Hono } from 'hono';
import { DecisionQuerySchema, ReportQuerySchema, VerifyQuerySchema } from '../../audit/audit.schema.ts';
import type { ReadContext } from '../../audit/audit.service.ts';
import { signedIn } from '../guard.ts';
import {
  csrfInput,
  h,
  labelled,
  render,
  show,
  table,
  type Child,
  type ConsoleEnv,
  type ConsoleServices,
  type Ctx,
} from '../html.ts';
import { layout } from '../layout.ts';
import { parseForm } from './forms.ts';

/** Each audit read from the console is the API's read: logged (event audit_read) before it answers. */
function readContext(c: Ctx): ReadContext {
  return { principal: signedIn(c), requestId: c.get('requestId'), traceId: c.get('traceId') };
}

/** The query's non-empty values among `names`. */
function filters(c: Ctx, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const value = c.req.query(n)?.trim();
    if (value) out[n] = value;
  }
  return out;
}

const SEARCH = ['principal', 'dataset', 'effect', 'event', 'action', 'purpose', 'unit', 'from', 'to', 'cursor'];
const REPORT = ['principal', 'dataset', 'unit', 'from', 'to', 'period'];

function input(id: string, text: string, value: string | undefined, type = 'text') {
  return labelled(id, text, h('input', { id, name: id, type, value: value ?? '' }));
}

function filterForm(c: Ctx, action: string, q: Record<string, string>, extra: Child[] = []) {
  const t = c.get('t');
  return h(
    'form',
    { method: 'get', action, class: 'controls', role: 'search' },
    input('principal', t.audit.principal, q.principal),
    input('dataset', t.audit.dataset, q.dataset),
    input('from', t.audit.from, q.from, 'date'),
    input('to', t.audit.to, q.to, 'date'),
    ...(extra as never[]),
    h('button', { type: 'submit' }, t.audit.search),
  );
}

const qs = (q: Record<string, string>) => new URLSearchParams(q).toString();

/** Auditors' pages: audit search and CSV export, the disclosures report and its chart, denied attempts, chain verification. */
export function auditorPages(app: Hono<ConsoleEnv>, services: ConsoleServices) {
  const { auditReads } = services;

  app.get('/console/audit', async (c) => {
    const ctx = readContext(c);
    const t = c.get('t');
    const q = filters(c, SEARCH);
    const answer = await auditReads.decisions(ctx, parseForm(DecisionQuerySchema, { ...q, limit: '50' }), 'json');
    const body = answer.kind === 'json' ? answer.body : { items: [], nextCursor: null };
    const { cursor: _cursor, ...exportQuery } = q;
    return render(
      c,
      layout(
        c,
        t.audit.title,
        filterForm(c, '/console/audit', q, [
          input('action', t.col.action, q.action),
          labelled(
            'effect',
            t.audit.effect,
            h(
              'select',
              { id: 'effect', name: 'effect' },
              ...['', 'allow', 'deny'].map((x) =>
                h('option', { value: x, ...(x === (q.effect ?? '') ? { selected: true } : {}) }, x || t.filters.any),
              ),
            ),
          ),
          labelled(
            'event',
            t.col.event,
            h(
              'select',
              { id: 'event', name: 'event' },
              ...['', 'decision', 'disclosure', 'label_change', 'catalog_change', 'audit_read'].map((x) =>
                h('option', { value: x, ...(x === (q.event ?? '') ? { selected: true } : {}) }, x || t.filters.any),
              ),
            ),
          ),
        ]),
        h('p', null, h('a', { href: `/console/audit/export.csv?${qs(exportQuery)}`, download: '' }, t.audit.export)),
        table(
          t.audit.title,
          [
            t.col.at,
            t.col.event,
            t.col.principal,
            t.col.action,
            t.col.resource,
            t.col.effect,
            t.col.rule,
            t.col.fields,
            t.col.reason,
          ],
          body.items.map((e) => [
            h('time', { datetime: e.at }, e.at),
            e.event,
            `${e.principal.sub ?? 'anonymous'} (${e.principal.roles.join(', ')})`,
            e.action,
            `${e.resource.type}${e.resource.id ? ` ${e.resource.id}` : ''}`,
            e.effect,
            e.ruleId ?? t.none,
            show(e.fields, t.none),
            h('span', null, e.reason, e.details && Object.keys(e.details).length ? show(e.details, t.none) : null),
          ]),
        ),
        body.nextCursor
          ? h(
              'p',
              null,
              h('a', { href: `/console/audit?${qs({ ...q, cursor: body.nextCursor })}`, rel: 'next' }, t.filters.next),
            )
          : null,
      ),
    );
  });

  // The API's CSV export of the same search, streamed.
  app.get('/console/audit/export.csv', async (c) => {
    const answer = await auditReads.decisions(
      readContext(c),
      parseForm(DecisionQuerySchema, filters(c, SEARCH)),
      'csv',
    );
    if (answer.kind === 'json') return c.json(answer.body);
    return c.body(answer.body as never, 200, {
      'content-type': answer.contentType,
      'content-disposition': 'attachment; filename="jaga-audit.csv"',
    });
  });

  app.get('/console/audit/disclosures', async (c) => {
    const ctx = readContext(c);
    const t = c.get('t');
    const q = filters(c, REPORT);
    const answer = await auditReads.disclosures(ctx, parseForm(ReportQuerySchema, q), 'json');
    const items = answer.kind === 'json' ? answer.body.items : [];
    const cut = answer.kind === 'json' && 'truncated' in answer.body && answer.body.truncated;
    const period = q.period ?? 'month';
    return render(
      c,
      layout(
        c,
        t.audit.disclosuresTitle,
        filterForm(c, '/console/audit/disclosures', q, [
          labelled(
            'period',
            t.audit.period,
            h(
              'select',
              { id: 'period', name: 'period' },
              ...['day', 'month', 'year'].map((x) =>
                h('option', { value: x, ...(x === period ? { selected: true } : {}) }, x),
              ),
            ),
          ),
        ]),
        // The chart the API draws (GET /v1/audit/reports/disclosures.svg), served through the console's session.
        h(
          'figure',
          null,
          h('img', {
            src: `/console/audit/disclosures.svg?${qs({ ...q, period })}`,
            alt: t.audit.disclosuresTitle,
            width: 640,
          }),
        ),
        h('p', null, h('a', { href: `/console/audit/disclosures.csv?${qs(q)}`, download: '' }, t.audit.export)),
        cut ? h('p', { role: 'status', class: 'notice' }, t.audit.truncated) : null,
        table(
          t.audit.disclosuresTitle,
          ['period', t.col.principal, 'dataset', 'purpose', 'whole', 'masked', 'disclosures', 'rows'],
          items.map((r) => [
            r.period,
            r.principal ?? t.none,
            r.dataset ?? t.none,
            r.purpose ?? t.none,
            show(r.fieldsWhole, t.none),
            show(r.fieldsMasked, t.none),
            r.disclosures,
            r.rows,
          ]),
        ),
      ),
    );
  });

  app.get('/console/audit/disclosures.svg', async (c) => {
    const svg = await auditReads.disclosureChart(readContext(c), parseForm(ReportQuerySchema, filters(c, REPORT)));
    return c.body(svg, 200, { 'content-type': 'image/svg+xml; charset=utf-8' });
  });

  app.get('/console/audit/disclosures.csv', async (c) => {
    const answer = await auditReads.disclosures(
      readContext(c),
      parseForm(ReportQuerySchema, filters(c, REPORT)),
      'csv',
    );
    if (answer.kind === 'json') return c.json(answer.body);
    return c.body(answer.body as never, 200, {
      'content-type': answer.contentType,
      'content-disposition': 'attachment; filename="jaga-disclosures.csv"',
    });
  });

  app.get('/console/audit/denied', async (c) => {
    const ctx = readContext(c);
    const t = c.get('t');
    const q = filters(c, REPORT);
    const answer = await auditReads.denied(ctx, parseForm(ReportQuerySchema, q), 'json');
    const items = answer.kind === 'json' ? answer.body.items : [];
    const cut = answer.kind === 'json' && 'truncated' in answer.body && answer.body.truncated;
    return render(
      c,
      layout(
        c,
        t.audit.deniedTitle,
        filterForm(c, '/console/audit/denied', q),
        cut ? h('p', { role: 'status', class: 'notice' }, t.audit.truncated) : null,
        table(
          t.audit.deniedTitle,
          [t.col.principal, 'kind', t.col.unit, 'attempts', 'datasets', t.col.action, 'first', 'last'],
          items.map((r) => [
            r.principal ?? 'anonymous',
            r.kind,
            r.principalUnit ?? t.none,
            r.attempts,
            r.datasets,
            show(r.actions, t.none),
            r.first,
            r.last,
          ]),
        ),
      ),
    );
  });

  app.get('/console/audit/verify', async (c) => {
    const ctx = readContext(c);
    const t = c.get('t');
    const result = c.req.query('run') ? await auditReads.verify(ctx, parseForm(VerifyQuerySchema, {})) : null;
    return render(
      c,
      layout(
        c,
        t.audit.verifyTitle,
        h(
          'form',
          { method: 'get', action: '/console/audit/verify' },
          h('input', { type: 'hidden', name: 'run', value: '1' }),
          h('button', { type: 'submit' }, t.audit.verifyRun),
        ),
        result
          ? h(
              'p',
              { class: result.ok ? 'notice' : 'error', role: 'status', id: 'verify-result' },
              `${result.ok ? t.audit.ok : t.audit.bad} · ${t.audit.checked}: ${result.checked}`,
              result.ok ? '' : ` · ${JSON.stringify((result as { firstBad?: unknown }).firstBad ?? null)}`,
            )
          : null,
        // A checkpoint is written when it is taken: a form post, with the session's token.
        h(
          'form',
          { method: 'post', action: '/console/audit/checkpoint' },
          csrfInput(c),
          h('button', { type: 'submit' }, t.audit.checkpoint),
        ),
      ),
    );
  });

  app.post('/console/audit/checkpoint', async (c) => {
    const checkpoint = await auditReads.checkpoint(readContext(c));
    return c.body(JSON.stringify(checkpoint, null, 2), 200, {
      'content-type': 'application/json',
      'content-disposition': `attachment; filename="jaga-checkpoint-${checkpoint.seq}.json"`,
    });
  });
}
