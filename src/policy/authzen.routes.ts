import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../http/context.ts';
import { describe } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import { valid } from '../http/validate.ts';
import type { Principal } from '../identity/principal.ts';
import type { AppDeps } from '../wiring.ts';
import { callContext } from './decision.routes.ts';
import { EvaluationInput, EvaluationOutput, EvaluationsInput, EvaluationsOutput, type CheckOutput } from './decision.schema.ts';
import { createDecisionService, samePrincipal, type CallContext } from './decision.service.ts';
import { ACTIONS, SUBJECT_TYPES, type Action, type SubjectType } from './engine.types.ts';

/**
 * The OpenID AuthZEN Authorization API 1.0 evaluation endpoints, mapped onto the same engine
 * and audit as /v1/check:
 * - subject `{ type, id, properties: { roles, unit, purposes } }` → the principal (the caller when
 *   it names the caller's `sub` without other properties; anyone else needs `check` on Policy);
 * - action `{ name }` → one of Jaga's actions; resource `{ type, id, properties }` → subject type
 *   (case-insensitive) and attributes (properties, or Jaga's current ones when only the id is given);
 * - context `{ purpose, fields }`. The answer's context carries the decision id and reasons.
 */
const typeOf = (t: string): SubjectType | undefined => SUBJECT_TYPES.find((s) => s.toLowerCase() === t.toLowerCase());
const strings = (x: unknown): string[] | undefined => (Array.isArray(x) && x.every((s) => typeof s === 'string') ? x : undefined);

type Evaluation = v.InferOutput<typeof EvaluationInput>;

export function authzenRoutes(deps: AppDeps) {
  const decisions = createDecisionService(deps.services);

  function principalOf(ctx: CallContext, s: Evaluation['subject']): Principal {
    const p = s.properties ?? {};
    const roles = strings(p.roles);
    if (!roles && s.id === ctx.caller.sub) return ctx.caller;
    const kind = s.type === 'service' ? 'service' : s.type === 'anonymous' ? 'anonymous' : 'user';
    return {
      sub: s.id,
      kind,
      roles: roles ?? [],
      unit: typeof p.unit === 'string' ? p.unit : null,
      purposes: strings(p.purposes) ?? [],
    };
  }

  async function evaluate(ctx: CallContext, e: Evaluation): Promise<v.InferOutput<typeof EvaluationOutput>> {
    const subject = typeOf(e.resource.type);
    const action = (ACTIONS as readonly string[]).includes(e.action.name) ? (e.action.name as Action) : undefined;
    if (!subject || !action) {
      return {
        decision: false,
        context: { reason_admin: { en: !subject ? `unknown resource type ${e.resource.type}` : `unknown action ${e.action.name}` } },
      };
    }
    const given = principalOf(ctx, e.subject);
    const context = e.context ?? {};
    const result: CheckOutput = await decisions.check(ctx, {
        ...(samePrincipal(given, ctx.caller) ? {} : { principal: given }),
        action,
        resource: e.resource.properties ? { type: subject, attributes: { id: e.resource.id, ...e.resource.properties } } : { type: subject, id: e.resource.id },
        ...(typeof context.purpose === 'string' ? { purpose: context.purpose } : {}),
        ...(strings(context.fields) ? { fields: strings(context.fields)! } : {}),
    });
    return {
      decision: result.allow,
      context: {
        id: result.decisionId,
        reason_admin: { en: result.reason },
        ruleId: result.ruleId,
        policyVersion: result.policyVersion,
        fields: result.fields,
      },
    };
  }

  return new Hono<AppEnv>()
    .post(
      '/access/v1/evaluation',
      describe({
        summary: 'AuthZEN 1.0 Access Evaluation: one decision (subject, action, resource, context)',
        tags: ['authzen'],
        security: 'optional',
        responses: {
          200: { description: '`{ decision, context }`', schema: EvaluationOutput },
          400: { description: 'Invalid request (VALIDATION_FAILED)' },
          403: { description: 'Asking about another subject without `check` on Policy (FORBIDDEN)' },
        },
      }),
      valid('json', EvaluationInput),
      async (c) => c.json(await evaluate(callContext(c), c.req.valid('json'))),
    )
    .post(
      '/access/v1/evaluations',
      describe({
        summary: 'AuthZEN 1.0 Access Evaluations: many decisions; top-level subject/action/resource/context are defaults',
        tags: ['authzen'],
        security: 'optional',
        responses: {
          200: { description: '`{ evaluations: [{ decision, context }] }` in order (`{ decision, context }` when `evaluations` is absent)', schema: v.union([EvaluationsOutput, EvaluationOutput]) },
          400: { description: 'Invalid request (VALIDATION_FAILED)' },
          413: { description: 'Too many evaluations (BATCH_TOO_LARGE)' },
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
        const out: v.InferOutput<typeof EvaluationOutput>[] = [];
        for (const [i, item] of items.entries()) {
          const subject = item.subject ?? body.subject;
          const action = item.action ?? body.action;
          const resource = item.resource ?? body.resource;
          if (!subject || !action || !resource) {
            throw new ApiError('VALIDATION_FAILED', 'Each evaluation needs a subject, an action and a resource (its own or the defaults).', {
              errors: [{ path: `body.evaluations.${i}`, message: `missing ${[!subject && 'subject', !action && 'action', !resource && 'resource'].filter(Boolean).join(', ')}` }],
            });
          }
          const context = item.context || body.context ? { ...body.context, ...item.context } : undefined;
          const r = await evaluate(ctx, { subject, action, resource, ...(context ? { context } : {}) });
          out.push(r);
          if ((semantic === 'deny_on_first_deny' && !r.decision) || (semantic === 'permit_on_first_permit' && r.decision)) break;
        }
        return c.json(single ? out[0]! : { evaluations: out });
      },
    );
}
