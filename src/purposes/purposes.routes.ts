import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../http/context.ts';
import { describe, type ResponseSpec } from '../http/openapi.ts';
import { negotiate } from '../http/negotiate.ts';
import { valid } from '../http/validate.ts';
import { REGISTER_OFFERS, csvStream } from '../catalog/csv.ts';
import type { PurposesService } from './purposes.service.ts';
import {
  CreatePurposeSchema,
  ProcessingEntrySchema,
  ProcessingQuerySchema,
  PurposeParamSchema,
  PurposeViewSchema,
  UpdatePurposeSchema,
  type ProcessingEntry,
} from './purposes.schema.ts';

const TAGS = ['registers'];
const problem = (description: string): ResponseSpec => ({ description });
const ctxOf = (c: Context<AppEnv>) => ({ requestId: c.get('requestId'), traceId: c.get('traceId') ?? null });

const PROCESSING_CSV_HEADER = [
  'dataset',
  'title',
  'ownerUnit',
  'categories',
  'purpose',
  'description',
  'lawfulBasis',
  'purposeCategories',
  'recipients',
  'retention',
];
/** One line per dataset and purpose; a dataset no purpose covers gets one line with the purpose empty. */
const processingCsvRows = (e: ProcessingEntry): unknown[][] =>
  e.purposes.length
    ? e.purposes.map((p) => [
        e.dataset,
        e.title,
        e.ownerUnit,
        e.categories,
        p.id,
        p.description,
        p.lawfulBasis,
        p.categories,
        p.recipients,
        p.retention,
      ])
    : [[e.dataset, e.title, e.ownerUnit, e.categories, null, null, null, [], [], null]];

export function purposesRoutes(deps: { purposes: PurposesService }) {
  const { purposes } = deps;
  return new Hono<AppEnv>()
    .get(
      '/v1/purposes',
      describe({
        operationId: 'listPurposes',
        description:
          'Every registered processing purpose with its lawful basis (UU 27/2022 art. 20(2)), the datasets or personal-data categories it may use, recipients and retention. PPIDs, administrators and auditors.',
        summary: 'The register of processing purposes (UU 27/2022 art. 20, 31)',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: { description: '{ items }', schema: v.object({ items: v.array(PurposeViewSchema) }) },
          401: problem('UNAUTHENTICATED'),
        },
      }),
      async (c) => c.json({ items: await purposes.list(c.get('principal')) }),
    )
    .post(
      '/v1/purposes',
      describe({
        operationId: 'createPurpose',
        description:
          'A purpose named in a token or X-Purpose discloses personal data only once registered here for that dataset or category; the change reaches every instance like a label change.',
        summary: 'Register a processing purpose with its lawful basis (PPID or administrator)',
        tags: TAGS,
        security: 'bearer',
        responses: {
          201: { description: 'The purpose', schema: PurposeViewSchema },
          400: problem('VALIDATION_FAILED (lawfulBasis one of UU 27/2022 art. 20(2))'),
          403: problem('FORBIDDEN'),
          409: problem('ALREADY_EXISTS'),
        },
      }),
      valid('json', CreatePurposeSchema),
      async (c) => {
        const made = await purposes.create(c.get('principal'), c.req.valid('json'), ctxOf(c));
        c.header('location', `/v1/purposes/${made.id}`);
        return c.json(made, 201);
      },
    )
    .patch(
      '/v1/purposes/:id',
      describe({
        operationId: 'updatePurpose',
        description:
          'Changes a purpose’s description, lawful basis, datasets, categories, recipients or retention; logged in the audit trail.',
        summary: 'Change a registered purpose (PPID or administrator)',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: { description: 'The purpose', schema: PurposeViewSchema },
          400: problem('VALIDATION_FAILED'),
          403: problem('FORBIDDEN'),
          404: problem('NOT_FOUND'),
        },
      }),
      valid('param', PurposeParamSchema),
      valid('json', UpdatePurposeSchema),
      async (c) =>
        c.json(await purposes.update(c.get('principal'), c.req.valid('param').id, c.req.valid('json'), ctxOf(c))),
    )
    .get(
      '/v1/registers/processing',
      describe({
        operationId: 'getProcessingRegister',
        description:
          'What a data-protection officer asks for first: for each dataset holding personal data, the categories it holds and every registered purpose that may use it, with lawful basis, recipients and retention. PPIDs, administrators and auditors.',
        summary:
          'The record of processing (UU 27/2022 art. 31): per dataset holding personal data, its categories and the registered purposes with their lawful bases, recipients and retention; JSON or CSV',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: {
            description: '{ items, nextCursor }, or CSV of every entry (one line per dataset and purpose)',
            schema: v.object({ items: v.array(ProcessingEntrySchema), nextCursor: v.nullable(v.string()) }),
            contentTypes: ['application/json', 'text/csv'],
          },
          401: problem('UNAUTHENTICATED'),
          403: problem('FORBIDDEN: PPID, administrators and auditors'),
          406: problem('NOT_ACCEPTABLE'),
        },
      }),
      valid('query', ProcessingQuerySchema),
      async (c) => {
        const q = c.req.valid('query');
        const p = c.get('principal');
        if (negotiate(c, REGISTER_OFFERS) === 'csv') {
          const pages = (cursor: string | undefined) =>
            purposes
              .processing(p, cursor, 500)
              .then((page) => ({ ...page, items: page.items.flatMap(processingCsvRows) }));
          return c.body(await csvStream(PROCESSING_CSV_HEADER, (row: unknown[]) => row, pages), 200, {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': 'attachment; filename="record-of-processing.csv"',
          });
        }
        return c.json(await purposes.processing(p, q.cursor, q.limit ?? 100));
      },
    );
}
