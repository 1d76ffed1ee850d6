import type { Hono } from 'hono';
import type { DatasetView, LabelEventView } from '../../catalog/catalog.schema.ts';
import { LabelDatasetSchema, LabelFieldSchema, ListDatasetsQuerySchema } from '../../catalog/catalog.schema.ts';
import { etagOf } from '../../catalog/dataset-version.ts';
import { DomainError } from '../../shared/errors.ts';
import { formText, requestContext, signedIn } from '../guard.ts';
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
import { GROUNDS, type Messages } from '../i18n.ts';
import { layout, notice } from '../layout.ts';
import { many, parseForm } from './forms.ts';
import { uploadForm } from './upload.ts';

const PAGE = 50;

export function classificationText(t: Messages, c: string | null): string {
  return c === null ? t.cls.null : ((t.cls as Record<string, string>)[c] ?? c);
}

/** The dataset list's filters as the API's query (validated by the same schema). */
function listQuery(c: Ctx) {
  const q = c.req.query();
  const query: Record<string, string> = {};
  if (q.classification) query.classification = q.classification;
  if (q.unit) query.unit = q.unit;
  if (q.search) query.search = q.search;
  if (q.cursor) query.cursor = q.cursor;
  if (q.state === 'unlabelled') query.unlabelled = 'true';
  if (q.state === 'pending') query.pending = 'true';
  if (q.state === 'overdue') query.reviewOverdue = 'true';
  if (q.state === 'suggestions') query.openSuggestions = 'true';
  if (q.state === 'quarantined') query.quarantined = 'true';
  query.limit = String(PAGE);
  return parseForm(ListDatasetsQuerySchema, query);
}

function option(value: string, text: string, selected: string | undefined) {
  return h('option', { value, ...(value === (selected ?? '') ? { selected: true } : {}) }, text);
}

/** Stewards' pages: the unit's datasets, a dataset with its label history, the label and exemption form. */
export function stewardPages(app: Hono<ConsoleEnv>, services: ConsoleServices) {
  const { catalog } = services;

  app.get('/console/datasets', async (c) => {
    const p = signedIn(c);
    const t = c.get('t');
    const q = c.req.query();
    const page = await catalog.listDatasets(p, listQuery(c));
    const next = new URL(c.req.url);
    if (page.nextCursor) next.searchParams.set('cursor', page.nextCursor);
    const results = h(
      'div',
      { id: 'results' },
      page.items.length
        ? table(
            t.nav.datasets,
            [t.col.id, t.col.title, t.col.unit, t.col.classification, t.col.status, t.col.reviewBy],
            page.items.map((d) => [
              h('a', { href: `/console/datasets/${encodeURIComponent(d.id)}` }, d.id),
              d.title,
              d.ownerUnit,
              classificationText(t, d.classification),
              (t.status as Record<string, string>)[d.labelStatus] ?? d.labelStatus,
              d.label.reviewBy ?? t.none,
            ]),
          )
        : h('p', null, t.registers.empty),
      page.nextCursor ? h('p', null, h('a', { href: next.pathname + next.search, rel: 'next' }, t.filters.next)) : null,
    );
    return render(
      c,
      layout(
        c,
        t.nav.datasets,
        h(
          'form',
          {
            method: 'get',
            action: '/console/datasets',
            class: 'controls',
            role: 'search',
            'hx-get': '/console/datasets',
            'hx-target': '#results',
            'hx-select': '#results',
            'hx-swap': 'outerHTML',
            'hx-push-url': 'true',
          },
          labelled(
            'search',
            t.filters.search,
            h('input', { id: 'search', name: 'search', type: 'search', value: q.search ?? '' }),
          ),
          labelled(
            'state',
            t.col.status,
            h(
              'select',
              { id: 'state', name: 'state' },
              option('', t.filters.any, q.state),
              option('unlabelled', t.filters.unlabelled, q.state),
              option('pending', t.filters.pending, q.state),
              option('overdue', t.filters.overdue, q.state),
              option('suggestions', t.filters.suggestions, q.state),
              option('quarantined', t.filters.quarantined, q.state),
            ),
          ),
          labelled(
            'classification-filter',
            t.col.classification,
            h(
              'select',
              { id: 'classification-filter', name: 'classification' },
              option('', t.filters.any, q.classification),
              option('public', t.cls.public, q.classification),
              option('restricted', t.cls.restricted, q.classification),
              option('exempt', t.cls.exempt, q.classification),
            ),
          ),
          labelled('unit', t.col.unit, h('input', { id: 'unit', name: 'unit', value: q.unit ?? '', size: 10 })),
          h('button', { type: 'submit' }, t.filters.apply),
        ),
        results,
      ),
    );
  });

  app.get('/console/datasets/:id', async (c) => {
    const p = signedIn(c);
    const d = await catalog.getDataset(p, c.req.param('id'));
    // A restricted dataset that is not the caller's to read: its public DIP metadata, as anyone sees it.
    if (!('labelStatus' in d)) return render(c, layout(c, `${d.title} (${d.id})`, show(d, c.get('t').none) as never));
    let history: LabelEventView[] | null = null;
    try {
      history = await catalog.history(p, d.id);
    } catch (error) {
      if (!(error instanceof DomainError) || (error.code !== 'FORBIDDEN' && error.code !== 'NOT_FOUND')) throw error;
    }
    return render(c, datasetPage(c, d, history));
  });

  app.post('/console/datasets/:id/label', async (c) => {
    const p = signedIn(c);
    const id = c.req.param('id');
    const form = await c.req.parseBody({ all: true });
    const classification = formText(form, 'classification');
    const input: Record<string, unknown> = { classification };
    const justification = formText(form, 'justification');
    if (justification) input.justification = justification;
    if (classification === 'exempt') Object.assign(input, exemptionInput(form));
    const version = formText(form, 'version');
    const result = await catalog.labelDataset(
      p,
      id,
      parseForm(LabelDatasetSchema, input),
      version && /^\d+$/.test(version) ? etagOf(Number(version)) : undefined,
      requestContext(c),
    );
    return c.redirect(
      `/console/datasets/${encodeURIComponent(id)}?done=${result.status === 202 ? 'proposed' : 'saved'}`,
      303,
    );
  });

  app.post('/console/datasets/:id/field-label', async (c) => {
    const p = signedIn(c);
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const field = formText(form, 'field') ?? '';
    const chosen = formText(form, 'fieldClassification');
    const justification = formText(form, 'fieldJustification');
    const input = parseForm(LabelFieldSchema, {
      // "inherit" removes the field's own label: it then follows the dataset's.
      classification: chosen === 'inherit' ? null : chosen,
      ...(justification ? { justification } : {}),
    });
    const version = formText(form, 'version');
    await catalog.labelField(
      p,
      id,
      field,
      input,
      version && /^\d+$/.test(version) ? etagOf(Number(version)) : undefined,
      requestContext(c),
    );
    return c.redirect(`/console/datasets/${encodeURIComponent(id)}?done=saved`, 303);
  });
}

function datasetPage(c: Ctx, d: DatasetView, history: LabelEventView[] | null) {
  const t = c.get('t');
  const done = c.req.query('done');
  const lang = c.get('lang');
  return layout(
    c,
    `${d.title} (${d.id})`,
    notice(done === 'saved' ? t.dataset.saved : done === 'proposed' ? t.dataset.proposed : undefined),
    h(
      'dl',
      { class: 'kv' },
      h('dt', null, t.col.unit),
      h('dd', null, d.ownerUnit),
      h('dt', null, t.col.description),
      h('dd', null, d.description || t.none),
      h('dt', null, t.col.effective),
      h('dd', { id: 'classification-now' }, classificationText(t, d.classification)),
      h('dt', null, t.col.status),
      h('dd', null, (t.status as Record<string, string>)[d.labelStatus] ?? d.labelStatus),
      h('dt', null, t.dataset.label),
      h('dd', null, show(d.label, t.none, t.terms) as never),
    ),
    suggestionsLink(c, d),
    d.pending
      ? h(
          'section',
          { 'aria-labelledby': 'pending' },
          h('h2', { id: 'pending' }, t.dataset.pendingProposal),
          show(d.pending, t.none, t.terms) as never,
        )
      : null,
    table(
      t.col.fields,
      [t.col.fields, t.col.type, t.col.personalData, t.col.kind, t.col.classification, t.col.effective],
      d.fields.map((f) => {
        // Fields render generically past the known columns: provenance, quarantine and what else a field gains.
        const {
          name,
          type,
          personalData,
          personalDataKind,
          classification,
          effectiveClassification,
          description,
          ...rest
        } = f as typeof f & Record<string, unknown>;
        return [
          h(
            'span',
            null,
            h('code', null, name),
            description ? h('span', { class: 'gloss' }, ` — ${description}`) : null,
            Object.keys(rest).length ? show(rest, t.none, t.terms) : null,
          ) as Child,
          type,
          personalData,
          personalDataKind,
          classificationText(t, classification),
          classificationText(t, effectiveClassification),
        ];
      }),
    ),
    labelForm(c, d),
    fieldLabelForm(c, d),
    uploadForm(c, d),
    h('h2', { id: 'history' }, t.dataset.labelHistory),
    history === null
      ? h('p', null, t.none)
      : h(
          'ol',
          { class: 'timeline', 'aria-labelledby': 'history' },
          ...history.map((e) =>
            h(
              'li',
              null,
              h(
                'time',
                { datetime: e.at },
                new Date(e.at).toLocaleString(lang === 'id' ? 'id-ID' : 'en-GB', { timeZone: 'UTC' }) + ' UTC',
              ),
              ' — ',
              h('strong', null, e.event),
              e.field ? ` [${e.field}]` : '',
              `: ${classificationText(t, e.from)} → ${classificationText(t, e.to)} · ${e.by.sub}`,
              e.grounds?.length ? ` · ${t.col.grounds}: ${e.grounds.join(', ')}` : '',
              e.justification ? h('p', null, e.justification) : null,
              e.decisionRef ? h('p', null, `${t.ppid.decisionRef}: ${e.decisionRef}`) : null,
            ),
          ),
        ),
  );
}

function labelForm(c: Ctx, d: DatasetView) {
  const t = c.get('t');
  const lang = c.get('lang');
  const current = d.pending ? 'exempt' : (d.classification ?? 'public');
  return h(
    'section',
    { 'aria-labelledby': 'label-form' },
    h('h2', { id: 'label-form' }, t.dataset.labelForm),
    h(
      'form',
      { method: 'post', action: `/console/datasets/${encodeURIComponent(d.id)}/label` },
      csrfInput(c),
      h('input', { type: 'hidden', name: 'version', value: String(d.version) }),
      labelled(
        'classification',
        t.col.classification,
        h(
          'select',
          { id: 'classification', name: 'classification' },
          ...(['public', 'restricted', 'exempt'] as const).map((x) =>
            h('option', { value: x, ...(x === current ? { selected: true } : {}) }, classificationText(t, x)),
          ),
        ),
      ),
      labelled(
        'justification',
        t.dataset.justification,
        h('textarea', { id: 'justification', name: 'justification', rows: 3 }),
      ),
      h(
        'fieldset',
        { id: 'exemption' },
        h('legend', null, t.dataset.exemption),
        h('p', { class: 'gloss' }, t.dataset.exemptionHelp),
        h(
          'fieldset',
          null,
          h('legend', null, `${t.col.grounds} (UU 14/2008 pasal 17)`),
          ...GROUNDS.map((g) =>
            h(
              'div',
              null,
              h('input', { type: 'checkbox', id: `ground-${g.code}`, name: 'grounds', value: g.code }),
              h(
                'label',
                { for: `ground-${g.code}` },
                ` ${g.code}: ${g.id}`,
                lang === 'en' ? h('span', { class: 'gloss' }, ` (${g.en})`) : null,
              ),
            ),
          ),
        ),
        h(
          'p',
          null,
          h('strong', null, t.dataset.consequence),
          h('span', { class: 'gloss' }, ` — ${t.dataset.consequenceGloss}`),
        ),
        labelled('subject', t.exemption.subject, h('input', { id: 'subject', name: 'subject', size: 60 })),
        labelled('statute', t.exemption.statute, h('input', { id: 'statute', name: 'statute', size: 40 })),
        labelled('harm', t.col.harm, h('textarea', { id: 'harm', name: 'harm', rows: 3 })),
        labelled(
          'protectedInterest',
          t.exemption.protectedInterest,
          h('textarea', { id: 'protectedInterest', name: 'protectedInterest', rows: 2 }),
        ),
        labelled(
          'publicInterest',
          t.col.publicInterest,
          h('textarea', { id: 'publicInterest', name: 'publicInterest', rows: 3 }),
        ),
        labelled('balance', t.exemption.balance, h('textarea', { id: 'balance', name: 'balance', rows: 2 })),
        labelled(
          'conclusion',
          t.exemption.conclusion,
          h('textarea', { id: 'conclusion', name: 'conclusion', rows: 2 }),
        ),
        labelled(
          'timing',
          t.exemption.timing,
          h(
            'select',
            { id: 'timing', name: 'timing' },
            ...(['before_request', 'at_request', 'commission_order'] as const).map((v) =>
              h('option', { value: v }, t.exemption.timings[v]),
            ),
          ),
        ),
        labelled('testRecordNo', t.exemption.testRecordNo, h('input', { id: 'testRecordNo', name: 'testRecordNo' })),
        labelled('testDate', t.exemption.testDate, h('input', { id: 'testDate', name: 'testDate', type: 'date' })),
        labelled(
          'participants',
          t.exemption.participants,
          h('textarea', { id: 'participants', name: 'participants', rows: 2 }),
        ),
        labelled(
          'periodUntil',
          t.exemption.periodUntil,
          h('input', { id: 'periodUntil', name: 'periodUntil', type: 'date' }),
        ),
        labelled(
          'periodEvent',
          t.exemption.periodEvent,
          h('input', { id: 'periodEvent', name: 'periodEvent', size: 60 }),
        ),
        h(
          'div',
          null,
          h('input', { type: 'checkbox', id: 'periodIndefinite', name: 'periodIndefinite', value: 'true' }),
          h('label', { for: 'periodIndefinite' }, ` ${t.exemption.periodIndefinite}`),
        ),
        labelled(
          'liftConditions',
          t.exemption.liftConditions,
          h('textarea', { id: 'liftConditions', name: 'liftConditions', rows: 2 }),
        ),
        labelled('reviewBy', t.col.reviewBy, h('input', { id: 'reviewBy', name: 'reviewBy', type: 'date' })),
      ),
      h('button', { type: 'submit' }, t.dataset.submit),
    ),
  );
}

/** The exemption record (DIK) from the form, as PUT …/label takes it; the service says what is missing. */
function exemptionInput(form: Record<string, string | File | (string | File)[]>): Record<string, unknown> {
  const text = (name: string) => formText(form, name);
  const lines = (name: string) =>
    (text(name) ?? '')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean);
  const some = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && !v.length)));
  const grounds = many(form.grounds);
  const test = some({
    harm: text('harm'),
    protectedInterest: text('protectedInterest'),
    publicInterest: text('publicInterest'),
    balance: text('balance'),
    conclusion: text('conclusion'),
    timing: text('timing'),
    testRecordNo: text('testRecordNo'),
    testDate: text('testDate'),
    participants: lines('participants'),
  });
  const period = some({
    until: text('periodUntil'),
    untilEvent: text('periodEvent'),
    indefinite: text('periodIndefinite') === 'true' ? true : undefined,
  });
  return some({
    subject: text('subject'),
    grounds: grounds.length ? grounds : undefined,
    statute: text('statute'),
    consequenceTest: Object.keys(test).length ? test : undefined,
    period: Object.keys(period).length ? period : undefined,
    liftConditions: lines('liftConditions'),
    reviewBy: text('reviewBy'),
  });
}

function fieldLabelForm(c: Ctx, d: DatasetView) {
  const t = c.get('t');
  return h(
    'section',
    { 'aria-labelledby': 'field-label-form' },
    h('h2', { id: 'field-label-form' }, t.dataset.fieldLabel),
    h(
      'form',
      { method: 'post', action: `/console/datasets/${encodeURIComponent(d.id)}/field-label`, class: 'controls' },
      csrfInput(c),
      h('input', { type: 'hidden', name: 'version', value: String(d.version) }),
      labelled(
        'field',
        t.col.fields,
        h('select', { id: 'field', name: 'field' }, ...d.fields.map((f) => h('option', { value: f.name }, f.name))),
      ),
      labelled(
        'fieldClassification',
        t.col.classification,
        h(
          'select',
          { id: 'fieldClassification', name: 'fieldClassification' },
          h('option', { value: 'inherit' }, t.dataset.inherit),
          ...(['public', 'restricted', 'exempt'] as const).map((x) =>
            h('option', { value: x }, classificationText(t, x)),
          ),
        ),
      ),
      labelled(
        'fieldJustification',
        t.dataset.justification,
        h('input', { id: 'fieldJustification', name: 'fieldJustification' }),
      ),
      h('button', { type: 'submit' }, t.dataset.fieldSubmit),
    ),
  );
}

/** The dataset page's link to its personal-data suggestions, marked when one awaits a steward or a field is quarantined. */
function suggestionsLink(c: Ctx, d: DatasetView) {
  const t = c.get('t');
  const open = d.fields.some((f) => f.provenance === 'suggested' || f.quarantined || f.redactSpans);
  return h(
    'p',
    null,
    h('a', { href: `/console/datasets/${encodeURIComponent(d.id)}/suggestions` }, t.detect.link),
    open ? h('span', { class: 'badge' }, t.detect.statuses.open) : null,
  );
}
