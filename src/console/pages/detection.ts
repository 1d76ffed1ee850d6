import type { Hono } from 'hono';
import type { DatasetView } from '../../catalog/catalog.schema.ts';
import { ListDatasetsQuerySchema } from '../../catalog/catalog.schema.ts';
import { DecideSuggestionSchema } from '../../detection/detection.schema.ts';
import type { SuggestionView } from '../../detection/scan.service.ts';
import { formText, requestContext, signedIn } from '../guard.ts';
import { csrfInput, h, labelled, render, table, type ConsoleEnv, type ConsoleServices } from '../html.ts';
import type { Messages } from '../i18n.ts';
import { layout, notice } from '../layout.ts';
import { parseForm } from './forms.ts';
import { classificationText } from './steward.ts';

const PAGE = 50;

function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => String(values[k] ?? ''));
}

export function evidenceText(t: Messages, s: SuggestionView): string {
  const e = s.evidence;
  const main = fill(t.detect.evidenceText, { matched: e.matched, sampled: e.sampled, detector: e.detector });
  return e.hint ? `${main}; ${t.detect.hint}: ${e.hint}` : main;
}

/** The field's quarantine badges (whole field held back, or identifiers in its text redacted). */
function badges(t: Messages, f: DatasetView['fields'][number] | undefined) {
  if (!f) return null;
  return h(
    'span',
    null,
    f.quarantined ? h('span', { class: 'badge quarantine' }, t.detect.quarantinedBadge) : null,
    f.redactSpans ? h('span', { class: 'badge quarantine' }, t.detect.spansBadge) : null,
  );
}

/**
 * Detection's pages (issue 18's API): a dataset's suggestions with their evidence, accepted or
 * rejected by its stewards, a scan on demand, and the quarantine: every decision is the detection
 * service's own (policy, label history, audit entry).
 */
export function detectionPages(app: Hono<ConsoleEnv>, services: ConsoleServices) {
  const { catalog, detection } = services;

  app.get('/console/datasets/:id/suggestions', async (c) => {
    const p = signedIn(c);
    const t = c.get('t');
    const d = await catalog.getDataset(p, c.req.param('id'));
    if (!('labelStatus' in d)) return c.notFound();
    const { items } = await detection.suggestions(p, d.id);
    const done = c.req.query('done');
    const fields = new Map(d.fields.map((f) => [f.name, f]));
    const path = `/console/datasets/${encodeURIComponent(d.id)}`;
    return render(
      c,
      layout(
        c,
        `${t.detect.title}: ${d.title} (${d.id})`,
        notice(
          done === 'scanned'
            ? t.detect.scanned
            : done === 'accept'
              ? t.detect.accepted
              : done === 'reject'
                ? t.detect.rejected
                : undefined,
        ),
        h('p', null, t.detect.lead),
        h('p', null, h('a', { href: path }, `← ${d.title}`)),
        h(
          'form',
          { method: 'post', action: `${path}/scan` },
          csrfInput(c),
          h('button', { type: 'submit' }, t.detect.scan),
        ),
        items.length
          ? table(
              t.detect.title,
              [
                t.col.fields,
                t.detect.declared,
                t.detect.found,
                t.col.classification,
                t.detect.confidence,
                t.detect.evidence,
                t.detect.statusCol,
              ],
              items.map((s) => {
                const f = fields.get(s.field);
                return [
                  h('span', null, h('code', null, s.field), ' ', badges(t, f)),
                  f
                    ? `${f.personalData} (${(t.detect.provenances as Record<string, string>)[f.provenance] ?? f.provenance})`
                    : t.none,
                  `${s.personalData} · ${s.personalDataKind}${s.mask ? ` · mask ${s.mask}` : ''}`,
                  s.classification ? classificationText(t, s.classification) : t.none,
                  `${Math.round(s.confidence * 100)}%`,
                  evidenceText(t, s),
                  (t.detect.statuses as Record<string, string>)[s.status] ?? s.status,
                ];
              }),
              { id: 'suggestions' },
            )
          : h('p', null, t.detect.none),
        ...items
          .filter((s) => s.status === 'open')
          .map((s) =>
            h(
              'section',
              { class: 'suggestion', 'aria-labelledby': `decide-${s.field}` },
              h('h2', { id: `decide-${s.field}` }, `${t.detect.decision}: ${s.field} → ${s.personalData}`),
              h(
                'form',
                {
                  method: 'post',
                  action: `${path}/suggestions/${encodeURIComponent(s.field)}`,
                  class: 'controls',
                },
                csrfInput(c),
                labelled(
                  `justification-${s.field}`,
                  t.dataset.justification,
                  h('input', { id: `justification-${s.field}`, name: 'justification', size: 50 }),
                ),
                h('button', { type: 'submit', name: 'decision', value: 'accept' }, t.detect.accept),
                h('button', { type: 'submit', name: 'decision', value: 'reject' }, t.detect.reject),
              ),
            ),
          ),
      ),
    );
  });

  app.post('/console/datasets/:id/scan', async (c) => {
    const p = signedIn(c);
    const id = c.req.param('id');
    await detection.scan(p, id, requestContext(c));
    return c.redirect(`/console/datasets/${encodeURIComponent(id)}/suggestions?done=scanned`, 303);
  });

  app.post('/console/datasets/:id/suggestions/:field', async (c) => {
    const p = signedIn(c);
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const decision = formText(form, 'decision');
    if (decision !== 'accept' && decision !== 'reject') return c.notFound();
    const justification = formText(form, 'justification');
    const input = parseForm(DecideSuggestionSchema, justification ? { justification } : {});
    await detection.decide(p, id, c.req.param('field'), decision, input, requestContext(c));
    return c.redirect(`/console/datasets/${encodeURIComponent(id)}/suggestions?done=${decision}`, 303);
  });

  app.get('/console/quarantine', async (c) => {
    const p = signedIn(c);
    const t = c.get('t');
    const cursor = c.req.query('cursor');
    // The same list as GET /v1/datasets?quarantined=true: filtered and paged in SQL, within the caller's scope.
    const page = await catalog.listDatasets(
      p,
      parseForm(ListDatasetsQuerySchema, {
        quarantined: 'true',
        limit: String(PAGE),
        ...(cursor ? { cursor } : {}),
      }),
    );
    const rows = page.items.flatMap((d) =>
      d.fields
        .filter((f) => f.quarantined || f.redactSpans)
        .map((f) => [
          h('a', { href: `/console/datasets/${encodeURIComponent(d.id)}` }, d.id),
          h('code', null, f.name),
          badges(t, f),
          `${f.personalData} (${(t.detect.provenances as Record<string, string>)[f.provenance] ?? f.provenance})`,
          classificationText(t, f.effectiveClassification),
          h('a', { href: `/console/datasets/${encodeURIComponent(d.id)}/suggestions` }, t.detect.open),
        ]),
    );
    return render(
      c,
      layout(
        c,
        t.detect.quarantineTitle,
        h('p', null, t.detect.quarantineLead),
        rows.length
          ? table(
              t.detect.quarantineTitle,
              [t.col.id, t.col.fields, t.detect.statusCol, t.detect.declared, t.col.effective, t.detect.title],
              rows,
              { id: 'quarantine' },
            )
          : h('p', null, t.detect.quarantineEmpty),
        page.nextCursor
          ? h(
              'p',
              null,
              h(
                'a',
                { href: `/console/quarantine?cursor=${encodeURIComponent(page.nextCursor)}`, rel: 'next' },
                t.filters.next,
              ),
            )
          : null,
      ),
    );
  });
}
