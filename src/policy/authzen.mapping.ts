import type * as v from 'valibot';
import type { Principal } from '../identity/principal.ts';
import { isName, type CheckOutput, type EvaluationInput, type EvaluationOutput } from './decision.schema.ts';
import { samePrincipal, type Ask, type CallContext } from './decision.service.ts';
import { ACTIONS, SUBJECT_TYPES, type Action, type SubjectType } from './engine.types.ts';

/**
 * The OpenID AuthZEN Authorization API 1.0 evaluation mapped onto the decision service's
 * questions (src/policy/authzen.routes.ts serves it):
 * - subject `{ type, id, properties: { roles, unit, purposes } }` → the principal (the caller when
 *   it names the caller's `sub` without other properties; anyone else needs `check` on Policy);
 * - action `{ name }` → one of Jaga's actions; resource `{ type, id, properties }` → subject type
 *   (case-insensitive) and attributes (properties, or Jaga's current ones when only the id is given);
 * - context `{ purpose, fields }`. The answer's context carries the decision id and reasons.
 * Every evaluation is a logged decision: one Jaga cannot make (an unknown action or resource type, a
 * malformed subject or context) is a logged denial saying why, with its id in the answer.
 */
export type Evaluation = v.InferOutput<typeof EvaluationInput>;
export type EvaluationAnswer = v.InferOutput<typeof EvaluationOutput>;

const typeOf = (t: string): SubjectType | undefined => SUBJECT_TYPES.find((s) => s.toLowerCase() === t.toLowerCase());
const names = (x: unknown): string[] | undefined =>
  Array.isArray(x) && x.length <= 1000 && x.every(isName) ? x : undefined;

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
  const principal: Principal = {
    sub: s.id,
    kind,
    roles: roles ?? [],
    unit: isName(p.unit) ? p.unit : null,
    purposes: purposes ?? [],
  };
  return problem ? { principal, problem } : { principal };
}

/** One evaluation as a question for the decision service: a check, or a refusal that says why. */
export function askOf(ctx: CallContext, e: Evaluation): Ask {
  const { principal: given, problem } = principalOf(ctx, e.subject);
  const principal = samePrincipal(given, ctx.caller) ? undefined : given;
  const subject = typeOf(e.resource.type);
  const action = (ACTIONS as readonly string[]).includes(e.action.name) ? (e.action.name as Action) : undefined;
  const context = e.context ?? {};
  const purpose =
    context.purpose === undefined || context.purpose === null
      ? null
      : isName(context.purpose)
        ? context.purpose
        : undefined;
  const fields = context.fields === undefined ? undefined : names(context.fields);
  const refuse = (reason: string): Ask => ({
    refuse: {
      principal,
      action: e.action.name,
      resource: { type: subject ?? e.resource.type, id: e.resource.id },
      purpose: purpose ?? null,
      reason,
    },
  });
  if (!subject) return refuse(`unknown resource type ${e.resource.type}`);
  if (!action) return refuse(`unknown action ${e.action.name}`);
  if (problem) return refuse(problem);
  if (purpose === undefined) return refuse('context.purpose must be a purpose name');
  if (context.fields !== undefined && !fields) return refuse('context.fields must be a list of field names');
  return {
    check: {
      ...(principal
        ? {
            principal: {
              sub: principal.sub,
              kind: principal.kind,
              roles: principal.roles,
              unit: principal.unit,
              purposes: principal.purposes,
            },
          }
        : {}),
      action,
      resource: e.resource.properties
        ? { type: subject, attributes: { id: e.resource.id, ...e.resource.properties } }
        : { type: subject, id: e.resource.id },
      ...(purpose ? { purpose } : {}),
      ...(fields ? { fields } : {}),
    },
  };
}

/** A decision as AuthZEN's `{ decision, context }`. */
export function answerOf(r: CheckOutput): EvaluationAnswer {
  return {
    decision: r.allow,
    context: {
      id: r.decisionId,
      reason_admin: { en: r.reason },
      ruleId: r.ruleId,
      policyVersion: r.policyVersion,
      fields: r.fields,
    },
  };
}
