import { Hono, type Context } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { describe } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import { parseOrThrow, rememberedParse, valid } from '../http/validate.ts';
import {
  BatchInput,
  BatchOutput,
  CheckInput,
  CheckOutput,
  ExplainQuery,
  PlanInput,
  PlanOutput,
  ReloadOutput,
} from './decision.schema.ts';
import type { CallContext, CheckDurability, DecisionService } from './decision.service.ts';
import type { PolicyService } from './policy.service.ts';

const problem = (description: string) => ({ description });

export function callContext(c: Context<AppEnv>, explain = false): CallContext {
  return {
    caller: c.get('principal'),
    requestId: c.get('requestId') ?? null,
    traceId: c.get('traceId') ?? null,
    explain,
  };
}

/** What a decisionId guarantees, for the OpenAPI descriptions (the mode in force is named). */
export function logGuarantee(mode: 'durable' | 'queued'): string {
  return (
    'Every decision is logged; its id is the audit entry id. With AUDIT_CHECKS=durable (the default) the answer is sent only after the entry is committed: ' +
    'every decisionId received is in the audit log, even if Jaga crashes right after; if the entry cannot be committed the answer is 503 AUDIT_UNAVAILABLE. ' +
    'With AUDIT_CHECKS=queued the answer is sent once the entry is queued in memory: faster, but a crash (kill -9, power loss) loses the entries of the checks answered in the last moments ' +
    `(up to AUDIT_FLUSH_LINGER_MS and one flush), so their decisionIds are then not in the log. This instance: ${mode}.`
  );
}

/** How current the labels of a check by id are (CATALOG_SNAPSHOT_MAX_STALE_MS), for the OpenAPI description. */
export function labelFreshness(maxStaleMs: number): string {
  return maxStaleMs === 0
    ? 'Labels are read from the database for every check (CATALOG_SNAPSHOT_MAX_STALE_MS=0).'
    : `Labels come from a catalog snapshot held in memory: a label change is in every answer of the instance that made it once the change is answered, ` +
        `and in every instance's answers at most CATALOG_SNAPSHOT_MAX_STALE_MS after it commits (usually milliseconds; this instance: ${maxStaleMs} ms). ` +
        'Reads of records never rely on it: they check the label in the database.';
}

/** The decision API: deny is data (200 with allow false), never an error status. */
export function decisionRoutes(deps: {
  decisions: DecisionService;
  policy: Pick<PolicyService, 'reload'>;
  /** CHECK_BATCH_MAX */
  batchMax: number;
  /** AUDIT_CHECKS, named in the descriptions. */
  checks: CheckDurability;
  /** CATALOG_SNAPSHOT_MAX_STALE_MS, named in the descriptions. */
  catalogMaxStaleMs: number;
}) {
  const { decisions } = deps;
  // Services ask the same questions again and again: a body (or a batch's check) seen before is not validated again.
  const memo = { max: 4096, textMax: 2048 };
  const checkOf = rememberedParse<CheckInput>(memo);
  const max = deps.batchMax;
  const logged = logGuarantee(deps.checks);
  const unavailable = problem('The audit log cannot record the decision; no decision is given (AUDIT_UNAVAILABLE)');

  return new Hono<AppEnv>()
    .post(
      '/v1/check',
      describe({
        operationId: 'check',
        summary: 'Decide one permission check (allow or deny, with the rule and per-field outcomes)',
        description:
          'The principal is the caller unless `principal` is given (callers granted `check` on Policy only). A resource named by `id` is decided on the labels Jaga holds for it (the audit entry records the label version used); an unknown id is denied with reason "unknown resource". ' +
          labelFreshness(deps.catalogMaxStaleMs) +
          ' `?explain=true` adds the rules considered (roles that may read Policy only). A field or resource whose label or personal-data kind is not known is denied, with a reason saying what is missing. ' +
          logged,
        tags: ['decisions'],
        security: 'optional',
        responses: {
          200: { description: 'The decision (deny is a 200 too)', schema: CheckOutput },
          400: problem('Invalid request (VALIDATION_FAILED)'),
          403: problem('Asking about another principal, or explain, without the right (FORBIDDEN)'),
          503: unavailable,
        },
      }),
      valid('query', ExplainQuery, { memo }),
      valid('json', CheckInput, { memo }),
      async (c) => {
        const ctx = callContext(c, c.req.valid('query').explain === 'true');
        return c.json(await decisions.check(ctx, c.req.valid('json')));
      },
    )
    .post(
      '/v1/check/batch',
      describe({
        operationId: 'checkBatch',
        summary: 'Decide many checks at once, answered in order, against one policy snapshot',
        description: `Up to CHECK_BATCH_MAX checks (default 1000); more answers 413 BATCH_TOO_LARGE. The batch waits once for the log, for all its entries. ${logged}`,
        tags: ['decisions'],
        security: 'optional',
        responses: {
          200: { description: 'The decisions, in the order asked', schema: BatchOutput },
          400: problem('Invalid request; errors name the check index (VALIDATION_FAILED)'),
          403: problem('Asking about another principal, or explain, without the right (FORBIDDEN)'),
          413: problem('Too many checks (BATCH_TOO_LARGE)'),
          503: unavailable,
        },
      }),
      valid('query', ExplainQuery, { memo }),
      valid('json', BatchInput),
      async (c) => {
        const { checks } = c.req.valid('json');
        if (checks.length > max)
          throw new ApiError('BATCH_TOO_LARGE', `A batch holds at most ${max} checks; this one has ${checks.length}.`);
        // Each check keyed by its JSON text, so only its value counts (not where it stood in the batch).
        const inputs = checks.map((check, i) =>
          checkOf(JSON.stringify(check), () => parseOrThrow(CheckInput, check, `body.checks.${i}.`)),
        );
        const ctx = callContext(c, c.req.valid('query').explain === 'true');
        return c.json(await decisions.batch(ctx, inputs));
      },
    )
    .post(
      '/v1/plan',
      describe({
        operationId: 'plan',
        summary: 'Which resources of a type may the principal act on: always, never, or a condition over attributes',
        description: `The same plan Jaga’s own list endpoints translate into SQL (src/policy/plan-sql.ts). A plan for reading Fields admits only fields whose label and personal-data kind are known. ${logged}`,
        tags: ['decisions'],
        security: 'optional',
        responses: {
          200: { description: 'The plan', schema: PlanOutput },
          400: problem('Invalid request (VALIDATION_FAILED)'),
          403: problem('Asking about another principal without the right (FORBIDDEN)'),
          503: unavailable,
        },
      }),
      valid('json', PlanInput),
      async (c) => c.json(await decisions.plan(callContext(c), c.req.valid('json'))),
    )
    .post(
      '/v1/admin/policies/reload',
      describe({
        operationId: 'reloadPolicies',
        summary: 'Reload the policy set from POLICY_DIR (administrators)',
        description:
          'An invalid set is refused with every problem listed; the last good set stays in force and /readyz reports the failure.',
        tags: ['decisions'],
        security: 'bearer',
        responses: {
          200: { description: 'Reloaded (or unchanged)', schema: ReloadOutput },
          403: problem('Not an administrator (FORBIDDEN)'),
          422: problem('The set is invalid and was refused (POLICY_INVALID); errors list file, rule and problem'),
        },
      }),
      async (c) => {
        decisions.assertMayManagePolicy(c.get('principal'));
        const result = await deps.policy.reload();
        if (!result.ok) {
          throw new ApiError(
            'POLICY_INVALID',
            `The policy set was refused; ${result.version ?? 'no set'} stays in force.`,
            {
              errors: result.problems.map((p) => ({
                path: `${p.file}${p.ruleId ? `#${p.ruleId}` : ''}${p.path ? `:${p.path}` : ''}`,
                message: p.message,
              })),
            },
          );
        }
        return c.json(result);
      },
    );
}
