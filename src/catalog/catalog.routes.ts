import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../http/context.ts';
import { describe, type ParameterSpec, type ResponseSpec } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import { parseOrThrow, valid } from '../http/validate.ts';
import type { CatalogService } from './catalog.service.ts';
import type { RequestContext } from './catalog.context.ts';
import { etagOf } from './dataset-version.ts';
import {
  CreateDatasetSchema,
  CreateUnitSchema,
  DatasetPageSchema,
  DatasetParamSchema,
  DatasetViewSchema,
  DecideProposalSchema,
  ExemptRegisterEntrySchema,
  ExemptionSharingSchema,
  FieldParamSchema,
  LabelDatasetSchema,
  LabelEventViewSchema,
  LabelFieldSchema,
  ListDatasetsQuerySchema,
  PublicRegisterEntrySchema,
  PublicDatasetViewSchema,
  DeterminationRecordSchema,
  DeterminationSchema,
  RegisterPageSchema,
  RegisterQuerySchema,
  UnitCodeSchema,
  UnitViewSchema,
  UpdateDatasetSchema,
  type DatasetView,
  type ExemptRegisterEntry,
  type PublicRegisterEntry,
} from './catalog.schema.ts';
import { negotiate } from '../http/negotiate.ts';
import { REGISTER_OFFERS, csvStream } from './csv.ts';

const TAGS = ['catalog'];
const problem = (description: string): ResponseSpec => ({ description });
const datasetResponse = (description: string): ResponseSpec => ({
  description,
  schema: DatasetViewSchema,
  headers: { ETag: 'The dataset version, for If-Match' },
});
const ifMatch = (required: boolean): ParameterSpec[] => [
  {
    name: 'If-Match',
    in: 'header',
    required,
    description: 'The ETag of the dataset as last read; a stale one answers 412 PRECONDITION_FAILED',
  },
];
const REGISTER_LIMIT = 100;
const CSV_PAGE = 1000;

const ctxOf = (c: Context<AppEnv>): RequestContext => ({
  requestId: c.get('requestId'),
  traceId: c.get('traceId') ?? null,
});

/** A dataset with its ETag (the version, for If-Match). */
function withEtag(c: Context<AppEnv>, d: DatasetView, status: 200 | 201 | 202 = 200) {
  c.header('etag', etagOf(d.version));
  return c.json(d, status);
}

/** Approve/reject take an optional JSON body. */
async function optionalDecision(c: Context<AppEnv>) {
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
  return parseOrThrow(DecideProposalSchema, body, 'body.');
}

const PUBLIC_CSV_HEADER = [
  'registerNo',
  'id',
  'title',
  'summary',
  'holdingUnit',
  'holdingUnitName',
  'responsibleOfficial',
  'producedAt',
  'producedPlace',
  'forms',
  'retentionPeriod',
  'retentionReference',
  'infoKind',
  'access',
  'determinationRef',
  'determinationDate',
  'updatedAt',
  'publicFields',
];
const publicCsvRow = (e: PublicRegisterEntry) => [
  e.registerNo,
  e.id,
  e.title,
  e.summary,
  e.holdingUnit.code,
  e.holdingUnit.name,
  e.responsibleOfficial ? `${e.responsibleOfficial.name} (${e.responsibleOfficial.position})` : null,
  e.producedAt,
  e.producedPlace,
  e.forms,
  e.retention?.period ?? null,
  e.retention?.reference ?? null,
  e.infoKind,
  e.access,
  e.determination?.ref ?? null,
  e.determination?.date ?? null,
  e.updatedAt,
  e.publicFields.map((f) => f.name),
];
const EXEMPT_CSV_HEADER = [
  'dikNo',
  'id',
  'title',
  'subject',
  'fields',
  'ownerUnit',
  'ownerUnitName',
  'grounds',
  'statute',
  'harm',
  'protectedInterest',
  'publicInterest',
  'balance',
  'conclusion',
  'testTiming',
  'testRecordNo',
  'testDate',
  'testParticipants',
  'period',
  'liftConditions',
  'decisionRef',
  'decisionDate',
  'decisionPlace',
  'agreedBy',
  'reviewBy',
  'reviewOverdue',
  'periodEnded',
];
const periodText = (p: ExemptRegisterEntry['period']) =>
  'until' in p
    ? `until ${p.until}`
    : 'untilEvent' in p
      ? `until: ${p.untilEvent}`
      : 'indefinite' in p
        ? 'indefinite'
        : '';
const exemptCsvRow = (e: ExemptRegisterEntry) => [
  e.dikNo,
  e.id,
  e.title,
  e.subject,
  e.fields ?? [],
  e.ownerUnit,
  e.ownerUnitName,
  e.grounds,
  e.statute ?? null,
  e.consequenceTest.harm,
  e.consequenceTest.protectedInterest ?? null,
  e.consequenceTest.publicInterest,
  e.consequenceTest.balance ?? null,
  e.consequenceTest.conclusion ?? null,
  e.consequenceTest.timing ?? null,
  e.consequenceTest.testRecordNo ?? null,
  e.consequenceTest.testDate ?? null,
  e.consequenceTest.participants ?? [],
  periodText(e.period),
  e.liftConditions,
  e.decision?.ref ?? null,
  e.decision?.date ?? null,
  e.decision?.place ?? null,
  e.decision?.agreedBy ? `${e.decision.agreedBy.name} (${e.decision.agreedBy.position})` : null,
  e.reviewBy,
  e.reviewOverdue,
  e.periodEnded,
];

function csv(c: Context<AppEnv>, name: string, body: ReadableStream<Uint8Array>) {
  return c.body(body, 200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${name}.csv"`,
  });
}

export function catalogRoutes(deps: { catalog: CatalogService }) {
  const { catalog } = deps;
  return new Hono<AppEnv>()
    .post(
      '/v1/datasets',
      describe({
        operationId: 'createDataset',
        description:
          'Stewards of the owner unit (or administrators) create a dataset with its fields and their personal-data categories; it stays unlabelled, and so invisible to the public, until labelled. ' +
          'A typed field (integer, number, date, datetime) declared `filter: "range"` gets an index of its own for range filters, built in the background (`rangeIndex.status` on the field: building, ready, failed).',
        summary: 'Create a dataset with its fields (unlabelled until labelled)',
        tags: TAGS,
        security: 'bearer',
        responses: {
          201: datasetResponse('The dataset; ETag carries its version'),
          400: problem('VALIDATION_FAILED (unknown keys included: labels and versions are not assignable here)'),
          403: problem('FORBIDDEN: not a steward of the owner unit'),
          409: problem('ALREADY_EXISTS'),
          422: problem(
            'REFERENCE_NOT_FOUND: unknown unit; RANGE_FILTER_LIMIT: more fields with filter "range" than RECORDS_RANGE_FILTERS_MAX',
          ),
        },
      }),
      valid('json', CreateDatasetSchema),
      async (c) => {
        const d = await catalog.createDataset(c.get('principal'), c.req.valid('json'), ctxOf(c));
        c.header('location', `/v1/datasets/${d.id}`);
        return withEtag(c, d, 201);
      },
    )
    .get(
      '/v1/datasets',
      describe({
        operationId: 'listDatasets',
        description:
          'Filters and visibility are applied in the database; pages follow `nextCursor`. Anonymous callers see labelled public datasets only.',
        summary: 'List the datasets the caller may see (filtered in the database), with cursor pagination',
        tags: TAGS,
        security: 'optional',
        responses: {
          200: { description: '{ items, nextCursor }', schema: DatasetPageSchema },
          400: problem('VALIDATION_FAILED'),
        },
      }),
      valid('query', ListDatasetsQuerySchema),
      async (c) => c.json(await catalog.listDatasets(c.get('principal'), c.req.valid('query'))),
    )
    .get(
      '/v1/datasets/:id',
      describe({
        operationId: 'getDataset',
        summary: 'Read a dataset: metadata, label, fields with their effective classification',
        description:
          'Fields carry their own classification (or null) and the effective one; a dataset the caller may not see answers 404 exactly like a missing one. A dataset listed in the DIP that the caller may not read (restricted: available on request) answers its public metadata: the DIP columns and its field names, never records or user ids. Anonymous callers never see user ids.',
        tags: TAGS,
        security: 'optional',
        responses: {
          200: {
            description: 'The dataset (ETag carries its version), or its public metadata',
            schema: v.union([DatasetViewSchema, PublicDatasetViewSchema]),
          },
          400: problem('VALIDATION_FAILED: the id is not a name'),
          404: problem('NOT_FOUND (also when not visible and not in the DIP)'),
        },
      }),
      valid('param', DatasetParamSchema),
      async (c) => {
        const d = await catalog.getDataset(c.get('principal'), c.req.valid('param').id);
        return 'version' in d ? withEtag(c, d) : c.json(d);
      },
    )
    .patch(
      '/v1/datasets/:id',
      describe({
        operationId: 'updateDataset',
        parameters: ifMatch(true),
        summary: 'Update a dataset’s metadata and add or change fields (If-Match required)',
        description:
          'Fields are matched by name: new names are added, listed ones updated, others untouched. Owner unit, version and labels are not updatable here. ' +
          '`filter: "range"` on a typed field builds its range index in the background; `filter: "equality"` drops it; an unset `filter` leaves it as it is.',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: datasetResponse('The updated dataset'),
          400: problem('VALIDATION_FAILED'),
          403: problem('FORBIDDEN'),
          404: problem('NOT_FOUND'),
          409: problem('CONFLICT: a field type cannot change'),
          412: problem('PRECONDITION_FAILED: stale If-Match'),
          422: problem('RANGE_FILTER_LIMIT: more fields with filter "range" than RECORDS_RANGE_FILTERS_MAX'),
          428: problem('PRECONDITION_REQUIRED: no If-Match'),
        },
      }),
      valid('param', DatasetParamSchema),
      valid('json', UpdateDatasetSchema),
      async (c) =>
        withEtag(
          c,
          await catalog.updateDataset(
            c.get('principal'),
            c.req.valid('param').id,
            c.req.valid('json'),
            c.req.header('if-match'),
            ctxOf(c),
          ),
        ),
    )
    .put(
      '/v1/datasets/:id/label',
      describe({
        operationId: 'labelDataset',
        parameters: ifMatch(false),
        summary: 'Label a dataset public / restricted, or propose an exemption (202, pending PPID approval)',
        description:
          'exempt needs grounds ("17a"…"17j", sub-clause allowed; statute with 17j), consequenceTest { harm, protectedInterest, publicInterest, balance, conclusion, timing, testRecordNo, testDate, participants }, period ({ until } | { untilEvent } | { indefinite: true }, not indefinite for 17a–17f), liftConditions, reviewBy (at most 12 months ahead) and optionally subject. A less strict label is a declassification: PPID only, with a justification. If-Match optional.',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: datasetResponse('The label is in force'),
          202: datasetResponse('The exemption is proposed and pending PPID approval (treated as exempt meanwhile)'),
          403: problem('FORBIDDEN'),
          404: problem('NOT_FOUND'),
          409: problem('CONFLICT: a proposal is pending'),
          412: problem('PRECONDITION_FAILED'),
          422: problem('EXEMPTION_INCOMPLETE (errors list what is missing) or JUSTIFICATION_REQUIRED'),
        },
      }),
      valid('param', DatasetParamSchema),
      valid('json', LabelDatasetSchema),
      async (c) => {
        const r = await catalog.labelDataset(
          c.get('principal'),
          c.req.valid('param').id,
          c.req.valid('json'),
          c.req.header('if-match'),
          ctxOf(c),
        );
        return withEtag(c, r.dataset, r.status);
      },
    )
    .put(
      '/v1/datasets/:id/fields/:field/label',
      describe({
        operationId: 'labelField',
        description:
          'A field label may tighten its dataset’s classification but never loosen it; exempt field labels need the same grounds as dataset exemptions. Specific personal data is made public only with `declassification: { article: "18(2)", basis: "public_office" | "consent", reference, justification }` (UU 14/2008 art. 18(2)), proposed (202) and in force once another PPID approves it.',
        parameters: ifMatch(false),
        summary:
          'Label one field (at least as strict as its dataset; null follows the dataset); exempt is proposed (202) like a dataset exemption',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: datasetResponse('The dataset with the field’s new label'),
          202: datasetResponse(
            'The field exemption (treated as exempt meanwhile) or art. 18(2) declassification (the field keeps its label meanwhile) is proposed and pending PPID approval',
          ),
          403: problem('FORBIDDEN'),
          404: problem('NOT_FOUND'),
          409: problem('CONFLICT: a proposal is pending for the field'),
          422: problem('LABEL_NOT_STRICTER, LABEL_NOT_ALLOWED, JUSTIFICATION_REQUIRED or EXEMPTION_INCOMPLETE'),
        },
      }),
      valid('param', FieldParamSchema),
      valid('json', LabelFieldSchema),
      async (c) => {
        const r = await catalog.labelField(
          c.get('principal'),
          c.req.valid('param').id,
          c.req.valid('param').field,
          c.req.valid('json'),
          c.req.header('if-match'),
          ctxOf(c),
        );
        return withEtag(c, r.dataset, r.status);
      },
    )
    .put(
      '/v1/datasets/:id/fields/:field/label/sharing',
      describe({
        operationId: 'shareFieldExemption',
        parameters: ifMatch(false),
        summary:
          'Set the legal bases under which a field’s exemption in force may be shared with another agency (PPID of the unit)',
        description:
          'JSON body { shareableUnder: ["UU 7/2017 pasal 93", …], justification? }: the whole list, replacing the one before (an empty list shares nothing). A change of the DIK record, in the label history (event `sharing`) and the audit log. A service principal receives the exempt field only under an active agreement that opts in to it (`exempt: true`) and whose legal basis is in this list (docs/agreements.md). The list is not shown in the public DIK.',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: datasetResponse('The dataset; the exemption’s new list is in its label history'),
          403: problem('FORBIDDEN: not a PPID of the dataset’s unit'),
          404: problem('NOT_FOUND'),
          409: problem('NO_EXEMPTION: the field has no exemption in force'),
        },
      }),
      valid('param', FieldParamSchema),
      valid('json', ExemptionSharingSchema),
      async (c) =>
        withEtag(
          c,
          await catalog.shareFieldExemption(
            c.get('principal'),
            c.req.valid('param').id,
            c.req.valid('param').field,
            c.req.valid('json'),
            c.req.header('if-match'),
            ctxOf(c),
          ),
        ),
    )
    .post(
      '/v1/datasets/:id/fields/:field/label/approve',
      describe({
        operationId: 'approveFieldExemption',
        summary:
          'Approve a pending field exemption or art. 18(2) declassification (PPID of the unit; not the proposer)',
        description:
          'JSON body { decision: { ref, date, place, agreedBy: { name, position } }, justification? }; an exemption enters the DIK with its dikNo; a declassification makes the field public, its basis in the label history.',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: datasetResponse('The field exemption is in force'),
          403: problem('FORBIDDEN or SELF_APPROVAL'),
          404: problem('NOT_FOUND'),
          409: problem('NO_PENDING_PROPOSAL'),
          422: problem('DECISION_INCOMPLETE'),
        },
      }),
      valid('param', FieldParamSchema),
      async (c) =>
        withEtag(
          c,
          await catalog.decideField(
            c.get('principal'),
            c.req.valid('param').id,
            c.req.valid('param').field,
            'approve',
            await optionalDecision(c),
            c.req.header('if-match'),
            ctxOf(c),
          ),
        ),
    )
    .post(
      '/v1/datasets/:id/fields/:field/label/reject',
      describe({
        operationId: 'rejectFieldExemption',
        summary: 'Reject a pending field exemption or art. 18(2) declassification (PPID of the unit; not the proposer)',
        description:
          'Optional JSON body { decisionRef?, justification? }. The field’s label before the proposal comes back.',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: datasetResponse('The proposal is withdrawn'),
          403: problem('FORBIDDEN or SELF_APPROVAL'),
          404: problem('NOT_FOUND'),
          409: problem('NO_PENDING_PROPOSAL'),
          422: problem('DECISION_INCOMPLETE'),
        },
      }),
      valid('param', FieldParamSchema),
      async (c) =>
        withEtag(
          c,
          await catalog.decideField(
            c.get('principal'),
            c.req.valid('param').id,
            c.req.valid('param').field,
            'reject',
            await optionalDecision(c),
            c.req.header('if-match'),
            ctxOf(c),
          ),
        ),
    )
    .post(
      '/v1/datasets/:id/label/approve',
      describe({
        operationId: 'approveDatasetExemption',
        parameters: ifMatch(false),
        summary: 'Approve a pending exemption (PPID of the unit; not the proposer)',
        description:
          'JSON body { decision: { ref, date, place, agreedBy: { name, position } }, justification? }: the decree and the agreement of the head of the body (or the PPID’s superior). The exemption enters the DIK with its dikNo.',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: datasetResponse('The exemption is in force'),
          403: problem('FORBIDDEN or SELF_APPROVAL'),
          404: problem('NOT_FOUND'),
          409: problem('NO_PENDING_PROPOSAL'),
          422: problem('DECISION_INCOMPLETE (errors list what the decision lacks)'),
        },
      }),
      valid('param', DatasetParamSchema),
      async (c) =>
        withEtag(
          c,
          await catalog.approve(
            c.get('principal'),
            c.req.valid('param').id,
            await optionalDecision(c),
            c.req.header('if-match'),
            ctxOf(c),
          ),
        ),
    )
    .post(
      '/v1/datasets/:id/label/reject',
      describe({
        operationId: 'rejectDatasetExemption',
        parameters: ifMatch(false),
        summary: 'Reject a pending exemption (PPID of the unit; not the proposer)',
        description:
          'Optional JSON body { decisionRef?, justification? }. The label in force before the proposal stays.',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: datasetResponse('The proposal is withdrawn'),
          403: problem('FORBIDDEN or SELF_APPROVAL'),
          404: problem('NOT_FOUND'),
          409: problem('NO_PENDING_PROPOSAL'),
        },
      }),
      valid('param', DatasetParamSchema),
      async (c) =>
        withEtag(
          c,
          await catalog.reject(
            c.get('principal'),
            c.req.valid('param').id,
            await optionalDecision(c),
            c.req.header('if-match'),
            ctxOf(c),
          ),
        ),
    )
    .get(
      '/v1/datasets/:id/labels',
      describe({
        operationId: 'listLabelHistory',
        description:
          'Every label event (proposal, approval, rejection, change, and changes of what an exemption may be shared under) in order, with who made it and why; append-only.',
        summary: 'A dataset’s label history, oldest first (append-only)',
        tags: TAGS,
        security: 'bearer',
        responses: {
          200: { description: '{ items }', schema: v.object({ items: v.array(LabelEventViewSchema) }) },
          403: problem('FORBIDDEN'),
          404: problem('NOT_FOUND'),
        },
      }),
      valid('param', DatasetParamSchema),
      async (c) => c.json({ items: await catalog.history(c.get('principal'), c.req.valid('param').id) }),
    )
    .get(
      '/v1/registers/public',
      describe({
        operationId: 'getPublicRegister',
        description:
          'Anonymous. The datasets labelled public, with their holding unit and fields, as JSON pages or a streamed CSV (Accept: text/csv).',
        summary: 'The list of public information (Daftar Informasi Publik); JSON or CSV (Accept: text/csv)',
        tags: ['registers'],
        security: 'none',
        responses: {
          200: {
            description: '{ items, nextCursor }, or CSV of every entry',
            schema: RegisterPageSchema(PublicRegisterEntrySchema),
            contentTypes: ['application/json', 'text/csv'],
          },
          406: problem('NOT_ACCEPTABLE'),
        },
      }),
      valid('query', RegisterQuerySchema),
      async (c) => {
        const q = c.req.valid('query');
        if (negotiate(c, REGISTER_OFFERS) === 'csv') {
          const body = await csvStream(PUBLIC_CSV_HEADER, publicCsvRow, (cursor) =>
            catalog.publicRegister(cursor, CSV_PAGE),
          );
          return csv(c, 'daftar-informasi-publik', body);
        }
        return c.json(await catalog.publicRegister(q.cursor, q.limit ?? REGISTER_LIMIT));
      },
    )
    .post(
      '/v1/registers/public/determinations',
      describe({
        operationId: 'determinePublicRegister',
        summary: 'Determine (menetapkan) the DIP of a unit by a PPID decision',
        description:
          'PPID (or administrator) of the unit. Entries labelled before the determination carry it as `determination`; entries labelled since show `determination: null` (pending determination).',
        tags: ['registers'],
        security: 'bearer',
        responses: {
          201: { description: 'The determination as recorded', schema: DeterminationRecordSchema },
          400: problem('VALIDATION_FAILED'),
          401: problem('UNAUTHENTICATED'),
          403: problem('FORBIDDEN: not a PPID of that unit'),
        },
      }),
      valid('json', DeterminationSchema),
      async (c) => c.json(await catalog.determine(c.get('principal'), c.req.valid('json'), ctxOf(c)), 201),
    )
    .get(
      '/v1/registers/exempt',
      describe({
        operationId: 'getExemptRegister',
        description:
          'Anonymous. Approved exemptions with their legal grounds, consequence test and review date, as JSON pages or CSV.',
        summary:
          'The list of exempt information: title, owner, grounds, consequence test, decision and review dates — never contents or fields',
        tags: ['registers'],
        security: 'none',
        responses: {
          200: {
            description: '{ items, nextCursor }, or CSV of every entry',
            schema: RegisterPageSchema(ExemptRegisterEntrySchema),
            contentTypes: ['application/json', 'text/csv'],
          },
          406: problem('NOT_ACCEPTABLE'),
        },
      }),
      valid('query', RegisterQuerySchema),
      async (c) => {
        const q = c.req.valid('query');
        if (negotiate(c, REGISTER_OFFERS) === 'csv') {
          const body = await csvStream(EXEMPT_CSV_HEADER, exemptCsvRow, (cursor) =>
            catalog.exemptRegister(cursor, CSV_PAGE),
          );
          return csv(c, 'daftar-informasi-dikecualikan', body);
        }
        return c.json(await catalog.exemptRegister(q.cursor, q.limit ?? REGISTER_LIMIT));
      },
    )
    .get(
      '/v1/registers/overdue-reviews',
      describe({
        operationId: 'listOverdueReviews',
        description:
          'Approved exemptions whose review date has passed; they stay in force until a PPID re-tests or lifts them.',
        summary: 'Exemptions past their review date, within the caller’s unit (PPID and auditors); JSON or CSV',
        tags: ['registers'],
        security: 'bearer',
        responses: {
          200: {
            description: '{ items, nextCursor }',
            schema: RegisterPageSchema(ExemptRegisterEntrySchema),
            contentTypes: ['application/json', 'text/csv'],
          },
          401: problem('UNAUTHENTICATED'),
          403: problem('FORBIDDEN'),
          406: problem('NOT_ACCEPTABLE'),
        },
      }),
      valid('query', RegisterQuerySchema),
      async (c) => {
        const q = c.req.valid('query');
        const p = c.get('principal');
        if (negotiate(c, REGISTER_OFFERS) === 'csv') {
          const body = await csvStream(EXEMPT_CSV_HEADER, exemptCsvRow, (cursor) =>
            catalog.overdueReviews(p, cursor, CSV_PAGE),
          );
          return csv(c, 'overdue-reviews', body);
        }
        return c.json(await catalog.overdueReviews(p, q.cursor, q.limit ?? REGISTER_LIMIT));
      },
    )
    .get(
      '/v1/units',
      describe({
        operationId: 'listUnits',
        description:
          'The organisational units in their region-code hierarchy (national office, provinces, regencies/cities), optionally under one unit.',
        summary: 'The unit tree (national office, provinces, …); `under` limits it to a subtree',
        tags: ['units'],
        security: 'optional',
        responses: { 200: { description: '{ items }', schema: v.object({ items: v.array(UnitViewSchema) }) } },
      }),
      valid('query', v.strictObject({ under: v.optional(UnitCodeSchema) })),
      async (c) => c.json({ items: await catalog.listUnits(c.req.valid('query').under) }),
    )
    .post(
      '/v1/units',
      describe({
        operationId: 'createUnit',
        description: 'Administrators add a unit under an existing parent; codes follow the region-code hierarchy.',
        summary: 'Add a unit under an existing parent (administrators)',
        tags: ['units'],
        security: 'bearer',
        responses: {
          201: { description: 'The unit', schema: UnitViewSchema },
          403: problem('FORBIDDEN'),
          409: problem('ALREADY_EXISTS'),
          422: problem('REFERENCE_NOT_FOUND: the parent unit does not exist'),
        },
      }),
      valid('json', CreateUnitSchema),
      async (c) => c.json(await catalog.createUnit(c.get('principal'), c.req.valid('json'), ctxOf(c)), 201),
    );
}
