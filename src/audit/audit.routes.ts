import { Hono, type Context } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { describe } from '../http/openapi.ts';
import { valid } from '../http/validate.ts';
import { negotiate } from '../http/negotiate.ts';
import { AUDIT_OFFERS } from './audit.format.ts';
import {
  AuditPageSchema,
  CheckpointSchema,
  DecisionQuerySchema,
  DeniedRowSchema,
  DisclosureReportQuerySchema,
  DisclosureRowSchema,
  OpennessQuerySchema,
  OpennessReportSchema,
  ReportQuerySchema,
  StreamQuerySchema,
  VerifyJobParamsSchema,
  VerifyJobSchema,
  VerifyQuerySchema,
  VerifyResultSchema,
} from './audit.schema.ts';
import * as v from 'valibot';
import type { Answer, AuditService, ReadContext } from './audit.service.ts';
import { STREAM_CONTENT_TYPES, STREAM_OFFERS } from './audit.stream.ts';
import { ApiError } from '../http/problem.ts';

const EXPORT_TYPES = ['application/json', 'text/csv', 'application/x-ndjson'];
const denied = {
  401: { description: 'No token (UNAUTHENTICATED)' },
  403: { description: 'Not an auditor, nor a PPID (FORBIDDEN)' },
  503: { description: 'The read cannot be logged (AUDIT_UNAVAILABLE)' },
};

function ctxOf(c: Context<AppEnv>): ReadContext {
  return { principal: c.get('principal'), requestId: c.get('requestId'), traceId: c.get('traceId') };
}

function send<T>(c: Context<AppEnv>, a: Answer<T>): Response {
  if (a.kind === 'json') return c.json(a.body as object, 200, a.headers ?? {});
  return c.body(a.body, 200, { ...a.headers, 'content-type': a.contentType, 'cache-control': 'no-store' });
}

export function auditRoutes(deps: { auditReads: AuditService }) {
  const service = deps.auditReads;
  return new Hono<AppEnv>()
    .get(
      '/v1/audit/decisions',
      describe({
        operationId: 'listAuditEntries',
        summary: 'Audit entries, filtered; JSON pages or a streamed CSV / NDJSON export (by Accept)',
        description:
          'auditor: every entry; ppid: entries whose principal or resource is within their unit. Chain order (seq). The read is itself logged. A read that names no dataset, principal, requestId, from or to covers the last 7 days only: the body says so in `window` (and the `Jaga-Audit-Window` header, on exports too).',
        tags: ['audit'],
        security: 'bearer',
        responses: {
          200: {
            description: 'A page `{ items, nextCursor }`, or the export',
            schema: AuditPageSchema,
            contentTypes: EXPORT_TYPES,
            headers: {
              'Jaga-Audit-Window': 'Set when the read named no anchor: `from=<time>`, the start of the window read',
            },
          },
          ...denied,
        },
      }),
      valid('query', DecisionQuerySchema),
      async (c) => send(c, await service.decisions(ctxOf(c), c.req.valid('query'), negotiate(c, AUDIT_OFFERS))),
    )
    .get(
      '/v1/audit/stream',
      describe({
        summary: 'Follow the decision log: NDJSON (default) or Server-Sent Events, resumable from a seq',
        operationId: 'followAuditLog',
        description:
          'Same access as /v1/audit/decisions (auditor: every entry; ppid: their unit). Sends the entries after `after` (default: the current head, so only new ones; 0: the whole log) in chain order, then each new entry as it is committed, and a heartbeat (an empty line; an SSE comment) when idle. SSE events carry `id: <seq>`, so `Last-Event-ID` resumes. The stream ends after AUDIT_STREAM_MAX_MS, on shutdown, or when the database fails: resume from the last seq received.',
        tags: ['audit'],
        security: 'bearer',
        responses: {
          200: { description: 'The entries, one per line (or per event)', contentTypes: Object.keys(STREAM_OFFERS) },
          406: { description: 'Accept names neither NDJSON nor text/event-stream (NOT_ACCEPTABLE)' },
          ...denied,
        },
      }),
      valid('query', StreamQuerySchema),
      async (c) => {
        const format = negotiate(c, STREAM_OFFERS);
        const query = c.req.valid('query');
        const lastEventId = c.req.header('last-event-id');
        if (lastEventId !== undefined && !/^\d{1,15}$/.test(lastEventId))
          throw new ApiError('VALIDATION_FAILED', 'Last-Event-ID must be a seq from this stream.', {
            errors: [{ path: 'header.last-event-id', message: 'expected a seq' }],
          });
        // An EventSource reconnecting sends the last id it saw: it resumes there, whatever the URL says.
        const q = lastEventId === undefined ? query : { ...query, after: Number(lastEventId) };
        const body = await service.stream(ctxOf(c), q, format);
        return c.body(body, 200, {
          'content-type': STREAM_CONTENT_TYPES[format],
          'cache-control': 'no-store',
          // Proxies (nginx) must pass each entry on as it comes, not buffer the response.
          'x-accel-buffering': 'no',
        });
      },
    )
    .get(
      '/v1/audit/verify',
      describe({
        operationId: 'verifyAuditChain',
        description:
          'Recomputes each entry’s hash from its content and its predecessor; `firstBad` names the first entry that does not match. By default from the last point an earlier walk found intact (it fails if that entry no longer holds its hash); `from=genesis` walks the whole log (for a long log, start a verification job instead). With a checkpoint, verifies from it and checks the checkpoint’s signature.',
        summary:
          'Walk the hash chain from the last verified point (default), from the start (from=genesis) or from a checkpoint, and check a checkpoint held elsewhere',
        tags: ['audit'],
        security: 'bearer',
        responses: {
          200: {
            description:
              '`{ ok, keyed, checked, lastSeq, firstBad?, checkpoint? }`; `keyed: false` without AUDIT_HMAC_KEY',
            schema: VerifyResultSchema,
          },
          ...denied,
        },
      }),
      valid('query', VerifyQuerySchema),
      async (c) => c.json(await service.verify(ctxOf(c), c.req.valid('query'))),
    )
    .post(
      '/v1/audit/verify/jobs',
      describe({
        operationId: 'startAuditVerificationJob',
        summary: 'Start a full re-verification of the chain in the background (or get the one running)',
        description:
          'Walks from the start of the chain; follow it at /v1/audit/verify/jobs/{id}. An intact walk records its end as verified. Jobs live in the server process: a restart forgets them.',
        tags: ['audit'],
        security: 'bearer',
        responses: { 202: { description: 'The job', schema: VerifyJobSchema }, ...denied },
      }),
      async (c) => c.json(await service.startVerifyJob(ctxOf(c)), 202),
    )
    .get(
      '/v1/audit/verify/jobs/:id',
      describe({
        operationId: 'getAuditVerificationJob',
        description:
          'While running: entries checked of the total. Once done: the same result as GET /v1/audit/verify (ok, firstBad). Auditors only.',
        summary: 'A verification job: its progress, then its result',
        tags: ['audit'],
        security: 'bearer',
        responses: {
          200: { description: 'The job', schema: VerifyJobSchema },
          404: { description: 'No such job (NOT_FOUND)' },
          ...denied,
        },
      }),
      valid('param', VerifyJobParamsSchema),
      async (c) => c.json(await service.verifyJob(ctxOf(c), c.req.valid('param').id)),
    )
    .get(
      '/v1/audit/checkpoint',
      describe({
        operationId: 'getAuditCheckpoint',
        description:
          'A checkpoint kept outside Jaga lets a later verification prove that no entry before it was changed or removed.',
        summary:
          'The chain head as a checkpoint (seq, hash, time), HMAC-signed when AUDIT_HMAC_KEY is set; keep it elsewhere',
        tags: ['audit'],
        security: 'bearer',
        responses: { 200: { description: 'The checkpoint', schema: CheckpointSchema }, ...denied },
      }),
      async (c) => c.json(await service.checkpoint(ctxOf(c))),
    )
    .get(
      '/v1/audit/reports/disclosures',
      describe({
        operationId: 'getDisclosureReport',
        description:
          'Reads that disclosed personal-data fields, grouped by period, principal, dataset and purpose, whole or masked; auditors see every unit, a PPID their own. In keyset pages: the groups in the report’s order (period, principal, dataset, purpose, then the principal’s unit and the field lists), at most `limit` (default and most AUDIT_REPORT_MAX_ROWS) per page; when more follow, `nextCursor` (the `Jaga-Report-Next-Cursor` header for CSV / NDJSON) gives the next page with the same period and filters and `cursor=`. A page costs about its own rows whatever the period holds.',
        summary:
          'Personal-data disclosures: who received which datasets’ fields, whole or masked, for which purpose, by period',
        tags: ['audit'],
        security: 'bearer',
        responses: {
          200: {
            description:
              '`{ from, to, truncated, nextCursor, items }` or CSV / NDJSON (the period in the `Jaga-Report-Period` header, a cut page in `Jaga-Report-Truncated`, the next page in `Jaga-Report-Next-Cursor`): whole UTC days, `to` exclusive; by default the current month, at most 366 days',
            schema: v.object({
              from: v.string(),
              to: v.string(),
              truncated: v.boolean(),
              nextCursor: v.nullable(v.string()),
              items: v.array(DisclosureRowSchema),
            }),
            contentTypes: EXPORT_TYPES,
            headers: {
              'Jaga-Report-Period': 'The period reported, `<from>/<to>` (UTC days, `to` exclusive)',
              'Jaga-Report-Truncated':
                '`true` when more groups follow this page (at most `limit`, default and most AUDIT_REPORT_MAX_ROWS, 10 000 by default): follow `Jaga-Report-Next-Cursor`, or narrow the period or filter',
              'Jaga-Report-Next-Cursor': 'Set when more groups follow: the `cursor=` of the next page',
            },
          },
          400: { description: 'A period, limit or cursor that is not valid (VALIDATION_FAILED)' },
          ...denied,
        },
      }),
      valid('query', DisclosureReportQuerySchema),
      async (c) => send(c, await service.disclosures(ctxOf(c), c.req.valid('query'), negotiate(c, AUDIT_OFFERS))),
    )
    .get(
      '/v1/audit/reports/denied',
      describe({
        operationId: 'getDeniedReport',
        description:
          'Principals with the most denied attempts in the period, for spotting probing; auditors see every unit, a PPID their own.',
        summary: 'Denied attempts by principal (possible probing), most first',
        tags: ['audit'],
        security: 'bearer',
        responses: {
          200: {
            description:
              '`{ from, to, truncated, items }` or CSV / NDJSON (the period in the `Jaga-Report-Period` header, a cut report in `Jaga-Report-Truncated`): whole UTC days, `to` exclusive; by default the current month, at most 366 days',
            schema: v.object({
              from: v.string(),
              to: v.string(),
              truncated: v.boolean(),
              items: v.array(DeniedRowSchema),
            }),
            contentTypes: EXPORT_TYPES,
            headers: {
              'Jaga-Report-Period': 'The period reported, `<from>/<to>` (UTC days, `to` exclusive)',
              'Jaga-Report-Truncated':
                '`true` when the report had more rows than AUDIT_REPORT_MAX_ROWS (default 10 000) and was cut in its order; narrow the period or filter',
            },
          },
          ...denied,
        },
      }),
      valid('query', ReportQuerySchema),
      async (c) => send(c, await service.denied(ctxOf(c), c.req.valid('query'), negotiate(c, AUDIT_OFFERS))),
    )
    .get(
      '/v1/audit/reports/disclosures.svg',
      describe({
        operationId: 'getDisclosureChart',
        summary: 'Personal-data disclosures drawn: an SVG bar chart of disclosures per period (whole / masked only)',
        description:
          'Same filters and scope as /v1/audit/reports/disclosures. One stacked bar per period from the first to the last with disclosures (empty periods included), at most 366 bars. Server-rendered, no scripts.',
        tags: ['audit'],
        security: 'bearer',
        responses: {
          200: { description: 'The chart', contentTypes: ['image/svg+xml'] },
          406: { description: 'Accept excludes SVG (NOT_ACCEPTABLE)' },
          ...denied,
        },
      }),
      valid('query', ReportQuerySchema),
      async (c) => {
        negotiate(c, { 'image/svg+xml': 'svg' });
        const svg = await service.disclosureChart(ctxOf(c), c.req.valid('query'));
        return c.body(svg, 200, {
          'content-type': 'image/svg+xml; charset=utf-8',
          'cache-control': 'no-store',
          // Opened on its own, an SVG is a document: nothing in it may run or load.
          'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
          'x-content-type-options': 'nosniff',
        });
      },
    )
    .get(
      '/v1/audit/reports/openness',
      describe({
        operationId: 'getOpennessReport',
        summary:
          'Openness statistics for the annual public-information report: datasets per classification per unit, exemptions by legal ground, overdue reviews',
        description:
          'From the catalog. JSON: the whole report. CSV / NDJSON (by Accept): one table, chosen by `part` (units, grounds, overdue). auditor: every unit; ppid: datasets of their unit. `asOf` (default today, UTC) decides which reviews are overdue.',
        tags: ['audit'],
        security: 'bearer',
        responses: {
          200: {
            description: 'The report, or one part as CSV / NDJSON',
            schema: OpennessReportSchema,
            contentTypes: EXPORT_TYPES,
            headers: { 'Jaga-Report-Period': 'The period reported, `<from>/<to>` (UTC days, `to` exclusive)' },
          },
          ...denied,
        },
      }),
      valid('query', OpennessQuerySchema),
      async (c) => send(c, await service.openness(ctxOf(c), c.req.valid('query'), negotiate(c, AUDIT_OFFERS))),
    );
}
