import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../http/context.ts';
import { describe } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import { valid } from '../http/validate.ts';
import { answerOf, askOf, type Evaluation } from './authzen.mapping.ts';
import { callContext, logGuarantee } from './decision.routes.ts';
import { EvaluationInput, EvaluationOutput, EvaluationsInput, EvaluationsOutput } from './decision.schema.ts';
import type { CheckDurability, DecisionService } from './decision.service.ts';

/**
 * The OpenID AuthZEN Authorization API 1.0 evaluation endpoints, answered by the same decision
 * service and audit as /v1/check; the request → question mapping is src/policy/authzen.mapping.ts.
 */
export function authzenRoutes(deps: {
  decisions: DecisionService;
  /** CHECK_BATCH_MAX */
  batchMax: number;
  /** AUDIT_CHECKS, named in the descriptions. */
  checks: CheckDurability;
}) {
  const { decisions } = deps;
  const logged = `Every evaluation is a decision in the audit log, a refusal too (unknown action or resource type, malformed subject properties or context: decision false, the reason in context.reason_admin); context.id is its decision id. ${logGuarantee(deps.checks)}`;

  return new Hono<AppEnv>()
    .post(
      '/access/v1/evaluation',
      describe({
        operationId: 'evaluateAccess',
        summary: 'AuthZEN 1.0 Access Evaluation: one decision (subject, action, resource, context)',
        description: logged,
        tags: ['authzen'],
        security: 'optional',
        responses: {
          200: { description: '`{ decision, context }`', schema: EvaluationOutput },
          400: { description: 'Invalid request (VALIDATION_FAILED)' },
          403: { description: 'Asking about another subject without `check` on Policy (FORBIDDEN)' },
          503: { description: 'The audit log cannot record the decisions; none is given (AUDIT_UNAVAILABLE)' },
        },
      }),
      valid('json', EvaluationInput),
      async (c) => {
        const ctx = callContext(c);
        const [result] = await decisions.evaluate(ctx, [askOf(ctx, c.req.valid('json'))]);
        return c.json(answerOf(result!));
      },
    )
    .post(
      '/access/v1/evaluations',
      describe({
        operationId: 'evaluateAccessBatch',
        summary:
          'AuthZEN 1.0 Access Evaluations: many decisions; top-level subject/action/resource/context are defaults',
        description: `Each item is checked before any is decided (one missing its subject, action or resource refuses the request, 400, with nothing logged); the evaluations made (up to the short-circuit of evaluations_semantic) are logged with one wait. ${logged}`,
        tags: ['authzen'],
        security: 'optional',
        responses: {
          200: {
            description:
              '`{ evaluations: [{ decision, context }] }` in order (`{ decision, context }` when `evaluations` is absent)',
            schema: v.union([EvaluationsOutput, EvaluationOutput]),
          },
          400: { description: 'Invalid request (VALIDATION_FAILED)' },
          403: { description: 'Asking about another subject without `check` on Policy (FORBIDDEN)' },
          413: { description: 'Too many evaluations (BATCH_TOO_LARGE)' },
          503: { description: 'The audit log cannot record the decisions; none is given (AUDIT_UNAVAILABLE)' },
        },
      }),
      valid('json', EvaluationsInput),
      async (c) => {
        const body = c.req.valid('json');
        const ctx = callContext(c);
        // Without `evaluations`, the endpoint behaves as the single evaluation (AuthZEN 1.0 §7).
        const single = !body.evaluations;
        const items = body.evaluations ?? [{}];
        if (items.length > deps.batchMax) {
          throw new ApiError(
            'BATCH_TOO_LARGE',
            `At most ${deps.batchMax} evaluations per request; this one has ${items.length}.`,
          );
        }
        const semantic = body.options?.evaluations_semantic ?? 'execute_all';
        // Every item is checked before any is decided: a malformed request logs no decision.
        const evaluations: Evaluation[] = items.map((item, i) => {
          const subject = item.subject ?? body.subject;
          const action = item.action ?? body.action;
          const resource = item.resource ?? body.resource;
          if (!subject || !action || !resource) {
            throw new ApiError(
              'VALIDATION_FAILED',
              'Each evaluation needs a subject, an action and a resource (its own or the defaults).',
              {
                errors: [
                  {
                    path: `body.evaluations.${i}`,
                    message: `missing ${[!subject && 'subject', !action && 'action', !resource && 'resource'].filter(Boolean).join(', ')}`,
                  },
                ],
              },
            );
          }
          const context = item.context || body.context ? { ...body.context, ...item.context } : undefined;
          return { subject, action, resource, ...(context ? { context } : {}) };
        });
        const stopAfter =
          semantic === 'deny_on_first_deny'
            ? (allow: boolean) => !allow
            : semantic === 'permit_on_first_permit'
              ? (allow: boolean) => allow
              : undefined;
        const out = (
          await decisions.evaluate(
            ctx,
            evaluations.map((e) => askOf(ctx, e)),
            stopAfter,
          )
        ).map(answerOf);
        return c.json(single ? out[0]! : { evaluations: out });
      },
    );
}
