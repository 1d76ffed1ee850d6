import { Hono, type Context } from 'hono';
import { payloadTooLarge } from '../http/body-limit.ts';
import type { AppEnv } from '../http/context.ts';
import { describe, type ParameterSpec, type ResponseSpec } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import { valid } from '../http/validate.ts';
import { isHeaderSafe, isName, NAME_MAX, nameMessage } from '../shared/text.ts';
import { negotiate } from '../http/negotiate.ts';
import { CONTENT_TYPES, READ_OFFERS } from './formats.ts';
import { uploadFormat } from './ingest.parse.ts';
import type { IngestService } from './ingest.service.ts';
import type { PublicCatalog } from './public.service.ts';
import {
  MAX_LIMIT,
  type Filter,
  type FilterOp,
  type Omission,
  type ReadRequest,
  type ReadResult,
  type ReadService,
} from './read.service.ts';
import {
  DatasetParamSchema,
  IngestResultSchema,
  PublicDatasetPageSchema,
  PublicListQuerySchema,
  RecordPageSchema,
} from './records.schema.ts';

const TAGS = ['records'];
const problem = (description: string): ResponseSpec => ({ description });
const READ_TYPES = ['application/json', 'application/x-ndjson', 'text/csv'];
const RESERVED = new Set(['cursor', 'limit', 'purpose']);
const FILTER_KEY = /^([a-z][a-z0-9_]{0,62})(?:\[(eq|gt|gte|lt|lte)\])?$/;

/**
 * A declared purpose, a name (src/shared/text.ts). In X-Purpose only printable ASCII: Node reads
 * header bytes as latin1 while curl sends UTF-8 and fetch sends latin1, so any other byte would be
 * read differently from what the caller meant. `?purpose=` is percent-encoded UTF-8 and takes any name.
 */
function purposeOf(value: string | undefined, path: 'header.x-purpose' | 'query.purpose'): string | undefined {
  if (!value) return value;
  if (path === 'header.x-purpose' && !isHeaderSafe(value)) {
    throw new ApiError(
      'VALIDATION_FAILED',
      'X-Purpose must be printable ASCII; send a purpose with other characters as ?purpose= (percent-encoded UTF-8).',
      {
        errors: [{ path, message: 'must be printable ASCII' }],
      },
    );
  }
  if (!isName(value, NAME_MAX))
    throw new ApiError('VALIDATION_FAILED', 'The purpose is not valid.', {
      errors: [{ path, message: nameMessage(NAME_MAX) }],
    });
  return value;
}

/**
 * The query string of a records read: `cursor`, `limit`, `purpose`, and filters
 * `<field>=<value>` (equality) or `<field>[gt|gte|lt|lte|eq]=<value>` (ranges).
 */
export function readRequestOf(c: Context<AppEnv>, datasetId: string): ReadRequest {
  const format = negotiate(c, READ_OFFERS);
  const query = c.req.queries();
  const one = (name: string): string | undefined => {
    const all = query[name];
    if (all && all.length > 1)
      throw new ApiError('VALIDATION_FAILED', `Give ${name} once.`, {
        errors: [{ path: `query.${name}`, message: 'repeated' }],
      });
    return all?.[0];
  };
  const limitText = one('limit');
  let limit: number | undefined;
  if (limitText !== undefined) {
    limit = /^\d{1,4}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) {
      throw new ApiError('VALIDATION_FAILED', 'The limit is not valid.', {
        errors: [{ path: 'query.limit', message: `expected 1-${MAX_LIMIT}` }],
      });
    }
  }
  const filters: Filter[] = [];
  for (const [key, values] of Object.entries(query)) {
    if (RESERVED.has(key)) continue;
    const m = FILTER_KEY.exec(key);
    if (!m)
      throw new ApiError('VALIDATION_FAILED', `Unknown query parameter ${key}.`, {
        errors: [{ path: `query.${key}`, message: 'expected <field> or <field>[gt|gte|lt|lte]' }],
      });
    for (const value of values) filters.push({ field: m[1]!, op: (m[2] ?? 'eq') as FilterOp, value });
  }
  const headerPurpose = purposeOf(c.req.header('x-purpose')?.trim(), 'header.x-purpose');
  const queryPurpose = purposeOf(one('purpose')?.trim(), 'query.purpose');
  if (headerPurpose && queryPurpose && headerPurpose !== queryPurpose) {
    throw new ApiError('VALIDATION_FAILED', 'X-Purpose and ?purpose= disagree.', {
      errors: [{ path: 'query.purpose', message: 'differs from X-Purpose' }],
    });
  }
  return {
    datasetId,
    format,
    purpose: headerPurpose || queryPurpose || null,
    cursor: one('cursor'),
    limit,
    filters,
    requestId: c.get('requestId'),
    traceId: c.get('traceId') ?? null,
    gaveUp: c.get('deadline'),
  };
}

/** X-Jaga-Omitted-Reason: why fields were left out, in words. */
function omittedReason(omission: Omission): string {
  const fields = omission.fields.join(',');
  // Exemptions and personal data withheld cite the law (DIK number and ground; UU 14/2008 art. 17 h).
  const law = omission.because !== 'purpose' && omission.law ? omission.law.filter(isHeaderSafe) : [];
  const cited = law.length ? `; ${law.join('; ')}` : '';
  if (omission.because === 'open-data') return `open data: only public fields are exported${cited}`;
  if (omission.because === 'policy') return `not granted to this principal by the policies: ${fields}${cited}`;
  if (omission.detail && isHeaderSafe(omission.detail)) return `${omission.detail}: personal data omitted (${fields})`;
  if (omission.purpose === null)
    return `no purpose declared: personal data omitted (${fields}); send X-Purpose with a purpose you hold`;
  return `${isHeaderSafe(omission.purpose) ? `purpose "${omission.purpose}"` : 'the declared purpose'} does not allow: ${fields}`;
}

/** The response of a read: what was decided, as headers, and the records. */
function send(result: ReadResult): Response {
  const headers: Record<string, string> = {
    'content-type': CONTENT_TYPES[result.format],
    'x-decision-id': result.decisionId,
    'x-jaga-fields-masked': result.masked.join(','),
    'x-jaga-fields-omitted': result.omitted.join(','),
    'cache-control': result.publicOnly ? 'public, max-age=60' : 'no-store',
    vary: 'Accept, Authorization, X-Purpose',
  };
  if (result.omission) headers['x-jaga-omitted-reason'] = omittedReason(result.omission);
  // Headers carry printable ASCII only (clients decode other bytes differently): a purpose
  // with other characters is not echoed rather than echoed garbled.
  if (result.purpose && isHeaderSafe(result.purpose)) headers['x-purpose'] = result.purpose;
  // JSON carries the next cursor in its body.
  if (result.format !== 'json' && result.nextCursor) headers['x-next-cursor'] = result.nextCursor;
  return new Response(result.body, { status: 200, headers });
}

/** Counts bytes as they stream by and stops the upload past the cap. */
async function* capped(body: ReadableStream<Uint8Array> | null, max: number): AsyncGenerator<Uint8Array> {
  if (!body) return;
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > max) throw payloadTooLarge(max, 'RECORDS_UPLOAD_MAX_BYTES');
    yield chunk;
  }
}

/** Query parameters and headers the read routes take from the raw request (names come from the data). */
const READ_PARAMETERS: ParameterSpec[] = [
  { name: 'cursor', in: 'query', description: 'Opaque cursor from the previous page (nextCursor / X-Next-Cursor)' },
  {
    name: 'limit',
    in: 'query',
    description: 'Page size (1–1000); without it a CSV / NDJSON read streams the whole export from `cursor`',
    schema: { type: 'integer', minimum: 1, maximum: 1000 },
  },
  { name: 'purpose', in: 'query', description: 'Purpose of use (any purpose name, percent-encoded UTF-8)' },
  {
    name: 'filters',
    in: 'query',
    freeForm: true,
    description:
      'Row filters on fields seen whole: `<field>=<value>` (equality, indexed) or `<field>[gt|gte|lt|lte]=<value>` (ranges; indexed on fields declared `filter: "range"`)',
  },
  { name: 'X-Purpose', in: 'header', description: 'Purpose of use (printable ASCII); `?purpose=` for other text' },
];

const READ_HEADERS = {
  'X-Decision-Id': 'The audit entry recording this disclosure',
  'X-Jaga-Fields-Masked': 'Fields sent masked, comma-separated',
  'X-Jaga-Fields-Omitted': 'Fields left out, comma-separated',
  'X-Jaga-Omitted-Reason': 'Why fields were left out',
  'X-Next-Cursor': 'Cursor of the next page (paged CSV / NDJSON reads)',
  'X-Purpose': 'The purpose the read was decided under (echoed when printable ASCII)',
};

const readDoc = (summary: string, security: 'optional' | 'none', operationId: string) =>
  describe({
    summary,
    operationId,
    description:
      'Accept: application/json ({ items, nextCursor }), application/x-ndjson or text/csv (streamed; without `limit` the whole export from `cursor`, ' +
      'with `limit` one page and the next cursor in X-Next-Cursor). Filters: `<field>=<value>`, `<field>[gt|gte|lt|lte]=<value>` on fields seen whole. ' +
      'Purpose: `X-Purpose` (printable ASCII) or `?purpose=` (any purpose name, percent-encoded UTF-8).',
    tags: TAGS,
    security,
    parameters: READ_PARAMETERS,
    responses: {
      200: {
        description: 'Records as the policies allow',
        schema: RecordPageSchema,
        contentTypes: READ_TYPES,
        headers: READ_HEADERS,
      },
      400: problem(
        'VALIDATION_FAILED: bad cursor, limit, filter or purpose (text with a NUL or a lone surrogate, a non-ASCII X-Purpose)',
      ),
      403: problem(
        security === 'optional'
          ? 'FILTER_NOT_ALLOWED, PURPOSE_NOT_HELD; a service principal without an agreement covering the read: NO_AGREEMENT, AGREEMENT_EXPIRED, PURPOSE_NOT_IN_AGREEMENT (docs/agreements.md)'
          : 'FILTER_NOT_ALLOWED, PURPOSE_NOT_HELD',
      ),
      404: problem('NOT_FOUND (also when not visible)'),
      406: problem('NOT_ACCEPTABLE'),
      ...((security === 'optional'
        ? {
            409: problem('CONFLICT: the agreement the read rests on changed during it; ask again'),
            429: problem(
              "AGREEMENT_ROW_LIMIT: the agreement's rows for today are used up (`limit`, `resetAt`, Retry-After)",
            ),
          }
        : {}) as Record<number, ResponseSpec>),
      503: problem('AUDIT_UNAVAILABLE: the disclosure could not be recorded; nothing was sent'),
    },
  });

export function recordsRoutes(deps: {
  ingest: IngestService;
  reads: ReadService;
  openData: PublicCatalog;
  /** RECORDS_UPLOAD_MAX_BYTES */
  uploadMaxBytes: number;
}) {
  const { ingest, reads, openData } = deps;
  return new Hono<AppEnv>()
    .post(
      '/v1/datasets/:id/records',
      describe({
        operationId: 'ingestRecords',
        summary: 'Load records into a dataset (JSON array, NDJSON or CSV; streamed; all or nothing)',
        description:
          'Each record is checked against the dataset fields and types; a record may name its office in `_unit` (or `unit`), within the owner unit. ' +
          'Any invalid record rejects the whole upload with RECORDS_INVALID listing `line N: field` (up to 100).',
        tags: TAGS,
        security: 'bearer',
        requestContentTypes: ['application/x-ndjson', 'text/csv'],
        responses: {
          201: { description: '{ inserted }', schema: IngestResultSchema },
          400: problem('MALFORMED_BODY'),
          403: problem('FORBIDDEN: not a steward of the owning unit'),
          404: problem('NOT_FOUND'),
          413: problem('PAYLOAD_TOO_LARGE'),
          415: problem('UNSUPPORTED_MEDIA_TYPE'),
          422: problem('RECORDS_INVALID: nothing stored; errors list line numbers and fields'),
        },
      }),
      valid('param', DatasetParamSchema),
      async (c) => {
        const format = uploadFormat(c.req.header('content-type'));
        if (!format)
          throw new ApiError(
            'UNSUPPORTED_MEDIA_TYPE',
            'Send records as application/json (an array), application/x-ndjson or text/csv.',
          );
        const result = await ingest.ingest(
          c.get('principal'),
          c.req.valid('param').id,
          format,
          capped(c.req.raw.body, deps.uploadMaxBytes),
          {
            requestId: c.get('requestId'),
            traceId: c.get('traceId') ?? null,
          },
        );
        return c.json(result, 201);
      },
    )
    .get(
      '/v1/datasets/:id/records',
      readDoc(
        'Read a dataset’s records through the policies: row scope, fields whole/masked/omitted, purpose of use',
        'optional',
        'readRecords',
      ),
      valid('param', DatasetParamSchema),
      async (c) => send(await reads.read(c.get('principal'), readRequestOf(c, c.req.valid('param').id))),
    )
    .get(
      '/v1/public/datasets',
      describe({
        operationId: 'listOpenDatasets',
        description:
          'Anonymous. Public datasets and the public fields their open-data export carries; the same answer for every caller.',
        summary: 'Open data: the public datasets and the fields their export carries (anonymous)',
        tags: TAGS,
        security: 'none',
        responses: {
          200: { description: '{ items, nextCursor }', schema: PublicDatasetPageSchema },
          400: problem('VALIDATION_FAILED'),
        },
      }),
      valid('query', PublicListQuerySchema),
      async (c) => {
        const q = c.req.valid('query');
        return c.json(await openData.list(q.cursor, q.limit ?? 100));
      },
    )
    .get(
      '/v1/public/datasets/:id/records',
      readDoc(
        'Open data: the records of a public dataset, public fields only, the same for every caller (anonymous)',
        'none',
        'readOpenRecords',
      ),
      valid('param', DatasetParamSchema),
      async (c) => send(await reads.readPublic(readRequestOf(c, c.req.valid('param').id))),
    );
}
