import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../http/context.ts';
import { negotiate } from '../http/negotiate.ts';
import { describe, type ResponseSpec } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import { parseOrThrow, valid } from '../http/validate.ts';
import { csvLine } from '../shared/csv.ts';
import type { AgreementReports } from './agreement.reports.ts';
import {
  AgreementEventViewSchema,
  AgreementParamSchema,
  AgreementViewSchema,
  CreateAgreementSchema,
  DecideAgreementSchema,
  ListAgreementsQuerySchema,
  ReportQuerySchema,
  UpdateAgreementSchema,
} from './agreement.schema.ts';
import type { AgreementService } from './agreement.service.ts';

const TAGS = ['agreements'];
const problem = (description: string): ResponseSpec => ({ description });
const OFFERS: Readonly<Record<string, 'json' | 'csv'>> = { 'application/json': 'json', 'text/csv': 'csv' };
const REPORT = (description: string): ResponseSpec => ({ description, contentTypes: ['application/json', 'text/csv'] });
const DEFAULT_EXPIRING_DAYS = 30;

const ctxOf = (c: Context<AppEnv>) => ({ requestId: c.get('requestId'), traceId: c.get('traceId') ?? null });

/** A lifecycle step's body is optional: `{ note? }` as JSON, or nothing. */
async function optionalBody(c: Context<AppEnv>): Promise<v.InferOutput<typeof DecideAgreementSchema>> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ApiError('MALFORMED_JSON', (error as Error).message);
  }
  return parseOrThrow(DecideAgreementSchema, parsed, 'body.');
}

/** `{ items }` as JSON, or as CSV (columns from `header`; lists joined with `;`) when asked for. */
function report(c: Context<AppEnv>, name: string, header: string[], items: object[]) {
  if (negotiate(c, OFFERS) !== 'csv') return c.json({ items });
  const cell = (x: unknown) => (Array.isArray(x) ? x.join(';') : x);
  const body =
    csvLine(header) + items.map((i) => csvLine(header.map((h) => cell((i as Record<string, unknown>)[h])))).join('');
  return c.body(body, 200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${name}.csv"`,
  });
}

const LIFECYCLE_DESCRIPTIONS = {
  approve:
    'A PPID of the datasets’ unit approves a draft (never its own): active at once when validFrom has come, approved until then. Logged in the history and the audit log.',
  suspend:
    'Suspends an approved or active agreement: every read under it is refused at once on every instance (reads check the agreement in their own transaction); checks within the snapshot bound.',
  revoke: 'Revokes an agreement for good: no read or check is granted under it again.',
} as const;

export function agreementRoutes(deps: { agreements: AgreementService; reports: AgreementReports }) {
  const { agreements, reports } = deps;
  const lifecycle = (step: 'approve' | 'suspend' | 'revoke', summary: string) =>
    [
      `/v1/agreements/:id/${step}`,
      describe({
        summary,
        operationId: `${step}Agreement`,
        description: LIFECYCLE_DESCRIPTIONS[step],
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: { description: 'The agreement as it now is', schema: AgreementViewSchema },
          403: problem(
            step === 'approve'
              ? 'FORBIDDEN: not a PPID of the datasets’ unit; SELF_APPROVAL: the drafter'
              : 'FORBIDDEN: not a PPID of the datasets’ unit',
          ),
          404: problem('NOT_FOUND (also when not visible)'),
          409: problem('CONFLICT: not possible from the agreement’s status'),
        },
      }),
      valid('param', AgreementParamSchema),
      async (c: Context<AppEnv>) => {
        const { id } = (c.req as unknown as { valid(t: 'param'): { id: string } }).valid('param');
        const body = await optionalBody(c);
        return c.json(await agreements.transition(c.get('principal'), id, step, body.note ?? null, ctxOf(c)));
      },
    ] as const;

  return new Hono<AppEnv>()
    .post(
      '/v1/agreements',
      describe({
        operationId: 'createAgreement',
        description:
          'A steward of every covered dataset drafts an agreement: recipient agency and its service principals, legal basis, purposes, datasets and fields (whole or masked), validity and an optional row limit per day. It grants nothing until a PPID approves it.',
        summary: 'Draft a data-sharing agreement (steward of every dataset it covers)',
        tags: TAGS,
        security: 'bearer',
        responses: {
          201: { description: 'The agreement, status draft', schema: AgreementViewSchema },
          400: problem('VALIDATION_FAILED'),
          403: problem('FORBIDDEN: not a steward of every dataset named'),
          422: problem('REFERENCE_NOT_FOUND: a dataset or field that does not exist'),
        },
      }),
      valid('json', CreateAgreementSchema),
      async (c) => {
        const a = await agreements.create(c.get('principal'), c.req.valid('json'), ctxOf(c));
        c.header('location', `/v1/agreements/${a.id}`);
        return c.json(a, 201);
      },
    )
    .get(
      '/v1/agreements',
      describe({
        operationId: 'listAgreements',
        description:
          'Stewards and PPIDs see the agreements of their units’ datasets, auditors every one; filters by recipient, status and expiry.',
        summary: 'The agreements the caller may see; `expiring=30d`: active ones ending within 30 days',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: { description: '{ items }', schema: v.object({ items: v.array(AgreementViewSchema) }) },
          400: problem('VALIDATION_FAILED'),
        },
      }),
      valid('query', ListAgreementsQuerySchema),
      async (c) => c.json(await agreements.list(c.get('principal'), c.req.valid('query'))),
    )
    .get(
      '/v1/agreements/reports/disclosures',
      describe({
        operationId: 'getAgreementDisclosureReport',
        description:
          'From the audit log: each disclosure under an agreement, by day, with the rows sent, the fields sent whole or masked, and apart the reads that let exempt content out (exemptReads) and its fields (fieldsExempt).',
        summary: 'Disclosures per agreement and day: reads, rows, fields whole and masked (JSON or CSV)',
        tags: TAGS,
        security: 'bearer',
        responses: { 200: REPORT('{ items }, or CSV'), 406: problem('NOT_ACCEPTABLE') },
      }),
      valid('query', ReportQuerySchema),
      async (c) =>
        report(
          c,
          'agreement-disclosures',
          ['agreementId', 'day', 'reads', 'rows', 'fieldsWhole', 'fieldsMasked', 'exemptReads', 'fieldsExempt'],
          await reports.disclosures(c.get('principal'), c.req.valid('query')),
        ),
    )
    .get(
      '/v1/agreements/reports/expiring',
      describe({
        operationId: 'getExpiringAgreementsReport',
        description:
          'Active agreements whose validity ends within the given number of days, soonest first, so renewals are started in time.',
        summary: 'Active agreements ending within `within` days (default 30d; JSON or CSV)',
        tags: TAGS,
        security: 'bearer',
        responses: { 200: REPORT('{ items }, or CSV'), 406: problem('NOT_ACCEPTABLE') },
      }),
      valid('query', ReportQuerySchema),
      async (c) => {
        const within = c.req.valid('query').within;
        const days = within ? Number(within.slice(0, -1)) : DEFAULT_EXPIRING_DAYS;
        return report(
          c,
          'agreements-expiring',
          ['id', 'title', 'recipient', 'validTo', 'daysLeft'],
          await reports.expiring(c.get('principal'), days),
        );
      },
    )
    .get(
      '/v1/agreements/reports/unused',
      describe({
        operationId: 'getUnusedAgreementsReport',
        description:
          'Approved or active agreements with no disclosure under them: candidates for revocation (data minimisation).',
        summary: 'Approved agreements under which nothing was ever disclosed (JSON or CSV)',
        tags: TAGS,
        security: 'bearer',
        responses: { 200: REPORT('{ items }, or CSV'), 406: problem('NOT_ACCEPTABLE') },
      }),
      async (c) =>
        report(
          c,
          'agreements-unused',
          ['id', 'title', 'recipient', 'status', 'validFrom', 'validTo'],
          await reports.unused(c.get('principal')),
        ),
    )
    .get(
      '/v1/agreements/reports/refusals',
      describe({
        operationId: 'getAgreementRefusalsReport',
        description:
          'Reads and checks by service principals refused with an agreement reason code (NO_AGREEMENT, AGREEMENT_EXPIRED, PURPOSE_NOT_IN_AGREEMENT, FIELD_NOT_IN_AGREEMENT).',
        summary: 'Service reads and checks refused for want of an agreement, newest first (JSON or CSV)',
        tags: TAGS,
        security: 'bearer',
        responses: { 200: REPORT('{ items }, or CSV'), 406: problem('NOT_ACCEPTABLE') },
      }),
      valid('query', ReportQuerySchema),
      async (c) =>
        report(
          c,
          'agreement-refusals',
          ['at', 'principal', 'action', 'datasetId', 'purpose', 'code', 'decisionId'],
          await reports.refusals(c.get('principal'), c.req.valid('query')),
        ),
    )
    .get(
      '/v1/registers/agreements',
      describe({
        operationId: 'getAgreementRegister',
        description:
          'Anonymous. The active agreements a PPID chose to publish: recipient, purposes, legal basis and period; never field lists or principals.',
        summary:
          'The public register of active data-sharing agreements the PPID chose to publish: recipient, purposes, legal basis, period — never field lists',
        tags: ['registers'],
        security: 'none',
        responses: { 200: REPORT('{ items }, or CSV'), 406: problem('NOT_ACCEPTABLE') },
      }),
      async (c) =>
        report(
          c,
          'register-perjanjian-kerja-sama',
          ['id', 'title', 'reference', 'recipient', 'purposes', 'legalBasis', 'validFrom', 'validTo'],
          await reports.register(),
        ),
    )
    .get(
      '/v1/agreements/:id',
      describe({
        operationId: 'getAgreement',
        description: 'The agreement with its status computed for now (an approved agreement past validTo is expired).',
        summary: 'One agreement, its status as of now',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: { description: 'The agreement', schema: AgreementViewSchema },
          404: problem('NOT_FOUND (also when not visible)'),
        },
      }),
      valid('param', AgreementParamSchema),
      async (c) => c.json(await agreements.get(c.get('principal'), c.req.valid('param').id)),
    )
    .get(
      '/v1/agreements/:id/history',
      describe({
        operationId: 'listAgreementHistory',
        description:
          'Drafting, changes, approval, suspension, revocation and publication, with who and when; append-only.',
        summary: 'Every change of the agreement, oldest first (append-only)',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: { description: '{ items }', schema: v.object({ items: v.array(AgreementEventViewSchema) }) },
          404: problem('NOT_FOUND (also when not visible)'),
        },
      }),
      valid('param', AgreementParamSchema),
      async (c) => c.json({ items: await agreements.history(c.get('principal'), c.req.valid('param').id) }),
    )
    .patch(
      '/v1/agreements/:id',
      describe({
        operationId: 'updateAgreement',
        description:
          'A draft’s terms change only by its steward; an approved agreement’s terms never change (draft a new one), only whether the PPID publishes it.',
        summary: 'Change a draft’s terms (its steward); of an approved agreement only `publish` (its PPID)',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: { description: 'The agreement as it now is', schema: AgreementViewSchema },
          400: problem('VALIDATION_FAILED'),
          403: problem('FORBIDDEN'),
          404: problem('NOT_FOUND'),
          409: problem('CONFLICT: the terms of an approved agreement do not change'),
        },
      }),
      valid('param', AgreementParamSchema),
      valid('json', UpdateAgreementSchema),
      async (c) =>
        c.json(await agreements.update(c.get('principal'), c.req.valid('param').id, c.req.valid('json'), ctxOf(c))),
    )
    .post(
      ...lifecycle('approve', 'Approve (PPID of the datasets’ unit, not the drafter): active once validFrom has come'),
    )
    .post(...lifecycle('suspend', 'Suspend an approved agreement (PPID): reads under it stop at once'))
    .post(...lifecycle('revoke', 'Revoke an agreement (PPID): reads under it stop at once, for good'));
}
