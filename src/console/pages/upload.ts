import type { Hono } from 'hono';
import type { DatasetView } from '../../catalog/catalog.schema.ts';
import { ApiError } from '../../http/problem.ts';
import type { IngestResult } from '../../records/ingest.service.ts';
import { DomainError } from '../../shared/errors.ts';
import { requestContext, signedIn } from '../guard.ts';
import { csrfInput, h, labelled, render, table, type ConsoleEnv, type ConsoleServices, type Ctx } from '../html.ts';
import { layout } from '../layout.ts';

/**
 * A file sent by the plain form (no script) is parsed whole before the ingest reads it; above this
 * size the page's script, which streams the file as the request body, is the way.
 */
export const FORM_UPLOAD_MAX_BYTES = 32 * 1024 * 1024;

export const UPLOAD_PATH = /^\/console\/datasets\/[^/]+\/records$/;

/** The steward's CSV upload on the dataset page; the console's script shows its progress. */
export function uploadForm(c: Ctx, d: DatasetView) {
  const t = c.get('t');
  return h(
    'section',
    { 'aria-labelledby': 'upload-title' },
    h('h2', { id: 'upload-title' }, t.upload.title),
    h('p', { class: 'gloss' }, t.upload.help),
    h(
      'form',
      {
        id: 'upload',
        method: 'post',
        action: `/console/datasets/${encodeURIComponent(d.id)}/records`,
        enctype: 'multipart/form-data',
      },
      csrfInput(c),
      labelled(
        'upload-file',
        t.upload.file,
        h('input', { id: 'upload-file', name: 'file', type: 'file', accept: '.csv,text/csv', required: true }),
      ),
      h('button', { type: 'submit' }, t.upload.submit),
      h(
        'div',
        { class: 'control', id: 'upload-progress-box', hidden: true },
        h('label', { for: 'upload-progress' }, t.upload.progress),
        h('progress', { id: 'upload-progress', max: 100, value: 0 }),
      ),
    ),
    h('div', { id: 'upload-result', role: 'status', 'aria-live': 'polite' }),
  );
}

async function* capped(body: ReadableStream<Uint8Array> | null, max: number): AsyncGenerator<Uint8Array> {
  if (!body) return;
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > max)
      throw new ApiError('PAYLOAD_TOO_LARGE', `The request body exceeds ${max} bytes (RECORDS_UPLOAD_MAX_BYTES).`);
    yield chunk;
  }
}

/**
 * POST /console/datasets/:id/records: the records ingest service, as `POST /v1/datasets/:id/records`
 * with text/csv (same policy decision, transaction, quarantine and audit entry). The page's script
 * sends the file as the body (text/csv, the CSRF token in `x-jaga-csrf`), which streams; the plain
 * form sends multipart/form-data. Either way the answer is a page whose `#upload-result` says how
 * many rows were accepted or refused and what was quarantined.
 */
export function uploadPages(app: Hono<ConsoleEnv>, services: ConsoleServices, uploadMaxBytes: number) {
  const { ingest } = services;

  app.post('/console/datasets/:id/records', async (c) => {
    const p = signedIn(c);
    const t = c.get('t');
    const id = c.req.param('id');
    const type = c.req.header('content-type') ?? '';
    let body: AsyncIterable<Uint8Array>;
    if (/^text\/csv\b/i.test(type)) {
      body = capped(c.req.raw.body, uploadMaxBytes);
    } else {
      // Parsed (and its CSRF token checked) by the console's form-token middleware already.
      const form = await c.req.parseBody();
      const file = form.file;
      if (!(file instanceof File) || file.size === 0) {
        throw new DomainError('VALIDATION_FAILED', t.upload.noFile, {
          errors: [{ path: 'file', message: t.upload.noFile }],
        });
      }
      body = capped(file.stream(), uploadMaxBytes);
    }
    let result: IngestResult | null = null;
    let refused: { count: number; errors: { path: string; message: string }[] } | null = null;
    try {
      result = await ingest.ingest(p, id, 'csv', body, requestContext(c));
    } catch (error) {
      if (!(error instanceof DomainError) || (error.code !== 'RECORDS_INVALID' && error.code !== 'MALFORMED_BODY'))
        throw error;
      const count = Number(error.extensions?.invalidRecords ?? 0);
      refused = { count, errors: error.errors ?? [{ path: 'file', message: error.message }] };
    }
    const link = `/console/datasets/${encodeURIComponent(id)}`;
    const answer = h(
      'div',
      { id: 'upload-result', role: 'status', 'aria-live': 'polite' },
      h(
        'dl',
        { class: 'kv' },
        h('dt', null, t.upload.accepted),
        h('dd', { id: 'rows-accepted' }, String(result?.inserted ?? 0)),
        h('dt', null, t.upload.refused),
        h('dd', { id: 'rows-refused' }, String(refused?.count ?? 0)),
      ),
      refused
        ? h(
            'div',
            { class: 'error' },
            h('p', null, t.upload.refusedNote),
            h('ul', null, ...refused.errors.map((e) => h('li', null, `${e.path}: ${e.message}`))),
          )
        : null,
      result?.quarantined?.length
        ? table(
            t.upload.quarantined,
            [t.col.fields, t.detect.found, t.detect.confidence],
            result.quarantined.map((q) => [
              h('code', null, q.field),
              `${q.personalData} (${q.scope})`,
              `${Math.round(q.confidence * 100)}%`,
            ]),
            { id: 'upload-quarantine' },
          )
        : null,
      h(
        'p',
        null,
        h('a', { href: link }, `← ${id}`),
        result?.quarantined?.length ? ' · ' : null,
        result?.quarantined?.length ? h('a', { href: `${link}/suggestions` }, t.detect.link) : null,
      ),
    );
    return render(c, layout(c, t.upload.doneTitle, answer), refused ? 422 : 200);
  });
}
