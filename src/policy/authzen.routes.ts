import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../http/context.ts';
import { describe } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import { valid } from '../http/validate.ts';
import type { Principal } from '../identity/principal.ts';
import type { AppDeps } from '../wiring.ts';
import { callContext, decisionServiceFor, logGuarantee } from './decision.routes.ts';
import { EvaluationInput, EvaluationOutput, EvaluationsInput, EvaluationsOutput, isName, type CheckOutput } from './decision.schema.ts';
import { samePrincipal, type Ask, type CallContext } from './decision.service.ts';
import { ACTIONS, SUBJECT_TYPES, type Action, type SubjectType } from './engine.types.ts';

/**
 * The OpenID AuthZEN Authorization API 1.0 evaluation endpoints, mapped onto the same engine
 * and audit as /v1/check:
 * - subject `{ type, id, properties: { roles, unit, purposes } }` → the principal (the caller when
 *   it names the caller's `sub` without other properties; anyone else needs `check` on Policy);
 * - action `{ name }` → one of Jaga's actions; resource `{ type, id, properties }` → subject type
 *   (case-insensitive) and attributes (properties, or Jaga's current ones when only the id is given);
 * - context `{ purpose, fields }`. The answer's context carries the decision id and reasons.
 * Every evaluation is a logged decision: one Jaga cannot make (an unknown action or resource type, a
 * malformed subject or context) is a logged denial saying why, with its id in the answer.
 */
const typeOf = (t: string): SubjectType | undefined => SUBJECT_TYPES.find((s) => s.toLowerCase() === t.toLowerCase());
const names = (x: unknown): string[] | undefined => (Array.isArray(x) && x.length <= 1000 && x.every(isName) ? x : undefined);

type Evaluation = v.InferOutput<typeof EvaluationInput>;
type Answer = v.InferOutput<typeof EvaluationOutput>;

export function authzenRoutes(deps: AppDeps) {
  const decisions = decisionServiceFor(deps);

  /** The principal the subject names, or why its properties cannot name one. */
  function principalOf(ctx: CallContext, s: Evaluation['subject']): { principal: Principal; problem?: string } {
    const p = s.properties ?? {};
    const roles = names(p.roles);
    const purposes = names(p.purposes);
    const problem =
      p.roles !== undefined && !roles
        ? 'subject.properties.roles must be a list of role names'
        : p.unit !== undefined && p.unit !== null && !isName(p.unit)
          ? 'subject.properties.unit must be a unit code'
          : p.purposes !== undefined && !purposes
            ? 'subject.properties.purposes must be a list of purpose names'
            : undefined;
    if ((!roles || problem) && s.id === ctx.caller.sub) return { principal: ctx.caller, ...(problem ? { problem } : {}) };
    const kind = s.type === 'service' ? 'service' : s.type === 'anonymous' ? 'anonymous' : 'user';
    const principal: Principal = { sub: s.id, kind, roles: roles ?? [], unit: isName(p.unit) ? p.unit : null, purposes: purposes ?? [] };
    return problem ? { principal, problem } : { principal };
  }

  /** One evaluation as a question for the decision service: a check, or a refusal that says why. */
  function askOf(ctx: CallContext, e: Evaluation): Ask {
    const { principal: given, problem } = principalOf(ctx, e.subject);
    const principal = samePrincipal(given, ctx.caller) ? undefined : given;
    const subject = typeOf(e.resource.type);
    const action = (ACTIONS as readonly string[]).includes(e.action.name) ? (e.action.name as Action) : undefined;
    const context = e.context ?? {};
    const purpose = context.purpose === undefined || context.purpose === null ? null : isName(context.purpose) ? context.purpose : undefined;
    const fields = context.fields === undefined ? undefined : names(context.fields);
    const refuse = (reason: string): Ask => ({
      refuse: { principal, action: e.action.name, resource: { type: subject ?? e.resource.type, id: e.resource.id }, purpose: purpose ?? null, reason },
    });
    if (!subject) return refuse(`unknown resource type ${e.resource.type}`);
    if (!action) return refuse(`unknown action ${e.action.name}`);
    if (problem) return refuse(problem);
    if (purpose === undefined) return refuse('context.purpose must be a purpose name');
    if (context.fields !== undefined && !fields) return refuse('context.fields must be a list of field names');
    return {
      check: {
        ...(principal ? { principal: { sub: principal.sub, kind: principal.kind, roles: principal.roles, unit: principal.unit, purposes: principal.purposes } } : {}),
        action,
        resource: e.resource.properties ? { type: subject, attributes: { id: e.resource.id, ...e.resource.properties } } : { type: subject, id: e.resource.id },
        ...(purpose ? { purpose } : {}),
        ...(fields ? { fields } : {}),
      },
    };
  }

  const logged = `Every evaluation is a decision in the audit log, a refusal too (unknown action or resource type, malformed subject properties or context: decision false, the reason in context.reason_admin); context.id is its decision id. ${logGuarantee(deps.config.audit.checks)}`;

  const answerOf = (r: CheckOutput): Answer => ({
    decision: r.allow,
    context: { id: r.decisionId, reason_admin: { en: r.reason }, ruleId: r.ruleId, policyVersion: r.policyVersion, fields: r.fields },
  });

  return new Hono<AppEnv>()
    .post(
      '/access/v1/evaluation',
      describe({
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
        summary: 'AuthZEN 1.0 Access Evaluations: many decisions; top-level subject/action/resource/context are defaults',
        description: `Each item is checked before any is decided (one missing its subject, action or resource refuses the request, 400, with nothing logged); the evaluations made (up to the short-circuit of evaluations_semantic) are logged with one wait. ${logged}`,
        tags: ['authzen'],
        security: 'optional',
        responses: {
          200: { description: '`{ evaluations: [{ decision, context }] }` in order (`{ decision, context }` when `evaluations` is absent)', schema: v.union([EvaluationsOutput, EvaluationOutput]) },
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
        if (items.length > deps.config.checkBatchMax) {
          throw new ApiError('BATCH_TOO_LARGE', `At most ${deps.config.checkBatchMax} evaluations per request; this one has ${items.length}.`);
        }
        const semantic = body.options?.evaluations_semantic ?? 'execute_all';
        // Every item is checked before any is decided: a malformed request logs no decision.
        const evaluations: Evaluation[] = items.map((item, i) => {
          const subject = item.subject ?? body.subject;
          const action = item.action ?? body.action;
          const resource = item.resource ?? body.resource;
          if (!subject || !action || !resource) {
            throw new ApiError('VALIDATION_FAILED', 'Each evaluation needs a subject, an action and a resource (its own or the defaults).', {
              errors: [{ path: `body.evaluations.${i}`, message: `missing ${[!subject && 'subject', !action && 'action', !resource && 'resource'].filter(Boolean).join(', ')}` }],
            });
          }
          const context = item.context || body.context ? { ...body.context, ...item.context } : undefined;
          return { subject, action, resource, ...(context ? { context } : {}) };
        });
        const stopAfter =
          semantic === 'deny_on_first_deny' ? (allow: boolean) => !allow : semantic === 'permit_on_first_permit' ? (allow: boolean) => allow : undefined;
        const out = (await decisions.evaluate(ctx, evaluations.map((e) => askOf(ctx, e)), stopAfter)).map(answerOf);
        return c.json(single ? out[0]! : { evaluations: out });
      },
    );
}
