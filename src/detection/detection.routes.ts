import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import { DatasetParamSchema, DatasetViewSchema, FieldParamSchema } from '../catalog/catalog.schema.ts';
import type { AppEnv } from '../http/context.ts';
import { describe, type ResponseSpec } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import { parseOrThrow, valid } from '../http/validate.ts';
import { DecideSuggestionSchema, ScanResultSchema, SuggestionViewSchema } from './detection.schema.ts';
import type { DetectionService } from './scan.service.ts';

const TAGS = ['detection'];
const problem = (description: string): ResponseSpec => ({ description });
const ctxOf = (c: Context<AppEnv>) => ({ requestId: c.get('requestId'), traceId: c.get('traceId') ?? null });

/** Accept and reject take an optional JSON body `{ justification? }`. */
async function optionalBody(c: Context<AppEnv>) {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(c.req.header('content-type') ?? '')) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ApiError('MALFORMED_JSON', (error as Error).message);
  }
  return parseOrThrow(DecideSuggestionSchema, body, 'body.');
}

export function detectionRoutes(deps: { detection: DetectionService }) {
  const { detection } = deps;
  const decide = (decision: 'accept' | 'reject') =>
    [
      describe({
        operationId: decision === 'accept' ? 'acceptSuggestion' : 'rejectSuggestion',
        summary:
          decision === 'accept'
            ? 'Accept a scan suggestion: the field takes the kind found (provenance confirmed); quarantine lifts'
            : 'Reject a scan suggestion: the declared kind stands; quarantine lifts; the same finding does not quarantine again',
        description: 'Optional JSON body { justification? }. A label event in the history and the audit log.',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: { description: 'The dataset', schema: DatasetViewSchema },
          403: problem('FORBIDDEN: not a steward of the owning unit'),
          404: problem('NOT_FOUND'),
          409: problem('NO_OPEN_SUGGESTION'),
        },
      }),
      valid('param', FieldParamSchema),
      async (c: Context<AppEnv, string, { out: { param: v.InferOutput<typeof FieldParamSchema> } }>) => {
        const { id, field } = c.req.valid('param');
        return c.json(await detection.decide(c.get('principal'), id, field, decision, await optionalBody(c), ctxOf(c)));
      },
    ] as const;

  return new Hono<AppEnv>()
    .post(
      '/v1/datasets/:id/scan',
      describe({
        operationId: 'scanDataset',
        summary: 'Scan a dataset’s records for personal data (stewards and administrators of the unit)',
        description:
          'Samples the records (DETECTION_SAMPLE_SIZE), runs the detectors per field and stores a suggestion per field. ' +
          'Never changes a declared kind; a confident finding stricter than the declared kind quarantines the field.',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: { description: '{ suggestions, quarantined }', schema: ScanResultSchema },
          403: problem('FORBIDDEN'),
          404: problem('NOT_FOUND'),
        },
      }),
      valid('param', DatasetParamSchema),
      async (c) => c.json(await detection.scan(c.get('principal'), c.req.valid('param').id, ctxOf(c))),
    )
    .get(
      '/v1/datasets/:id/suggestions',
      describe({
        operationId: 'listSuggestions',
        description:
          'One suggestion per field from the latest scan or ingest: the personal-data category and kind found, the classification and mask it calls for, a confidence, and evidence (detector, values matched of those sampled, the column-name hint) that never holds a value.',
        summary: 'The latest scan’s suggestion per field, with evidence (never values)',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: { description: '{ items }', schema: v.object({ items: v.array(SuggestionViewSchema) }) },
          403: problem('FORBIDDEN'),
          404: problem('NOT_FOUND'),
        },
      }),
      valid('param', DatasetParamSchema),
      async (c) => c.json(await detection.suggestions(c.get('principal'), c.req.valid('param').id)),
    )
    .post('/v1/datasets/:id/fields/:field/suggestion/accept', ...decide('accept'))
    .post('/v1/datasets/:id/fields/:field/suggestion/reject', ...decide('reject'));
}
