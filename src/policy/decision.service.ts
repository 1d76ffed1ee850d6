import type { AuditEntryInput, AuditLog } from '../audit/audit.port.ts';
import { ApiError } from '../http/problem.ts';
import type { Principal } from '../identity/principal.ts';
import type { CheckInput, CheckOutput } from './decision.schema.ts';
import type { Engine } from './engine.ts';
import type { Action, Decision, Plan, ResourceResolver, SubjectType } from './engine.types.ts';
import type { PolicyService } from './policy.service.ts';

export interface CallContext {
  caller: Principal;
  requestId: string | null;
  traceId: string | null;
  explain: boolean;
}

type PrincipalInput = NonNullable<CheckInput['principal']>;

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

export function samePrincipal(a: Principal, b: Principal): boolean {
  return a.sub === b.sub && a.kind === b.kind && a.unit === b.unit && sameSet(a.roles, b.roles) && sameSet(a.purposes, b.purposes);
}

export function toPrincipal(p: PrincipalInput): Principal {
  return {
    sub: p.sub,
    kind: p.kind ?? (p.sub === null ? 'anonymous' : 'user'),
    roles: p.roles,
    unit: p.unit ?? null,
    purposes: p.purposes ?? [],
  };
}

/**
 * Decides checks and plans for the decision API: resolves whom the question is about (the caller,
 * or another principal when the caller may ask on others' behalf), resolves resources named by id,
 * asks one engine snapshot, and hands every decision to the audit log (its id is the decisionId).
 */
export function createDecisionService(deps: { policy: PolicyService; audit: AuditLog; resources: ResourceResolver }) {
  /** Whom a check is about; asking about someone else needs `check` on Policy. */
  function subjectOf(engine: Engine, ctx: CallContext, given: Principal | undefined): Principal {
    if (!given || samePrincipal(given, ctx.caller)) return ctx.caller;
    const may = engine.decide({ principal: ctx.caller, action: 'check', subject: 'Policy' });
    if (!may.allow) throw new ApiError('FORBIDDEN', 'Your role may not ask about another principal; leave out `principal`.');
    return given;
  }

  function assertMayExplain(engine: Engine, ctx: CallContext): void {
    if (!ctx.explain) return;
    const may = engine.decide({ principal: ctx.caller, action: 'read', subject: 'Policy' });
    if (!may.allow) throw new ApiError('FORBIDDEN', 'Your role may not see the policies (explain).');
  }

  async function record(
    ctx: CallContext,
    principal: Principal,
    action: Action,
    resource: AuditEntryInput['resource'],
    d: Pick<Decision, 'allow' | 'ruleId' | 'reason' | 'policyVersion'> & Partial<Pick<Decision, 'fields'>>,
    purpose: string | null,
  ): Promise<string> {
    const { id } = await deps.audit.append({
      event: 'decision',
      principal: { sub: principal.sub, kind: principal.kind, roles: principal.roles, unit: principal.unit },
      action,
      resource,
      effect: d.allow ? 'allow' : 'deny',
      ruleId: d.ruleId,
      reason: d.reason,
      policyVersion: d.policyVersion,
      ...(d.fields ? { fields: { whole: d.fields.allowed, masked: d.fields.masked, omitted: d.fields.denied } } : {}),
      purpose,
      requestId: ctx.requestId,
      traceId: ctx.traceId,
      ...(principal === ctx.caller ? {} : { details: { askedBy: ctx.caller.sub, askedByRoles: ctx.caller.roles } }),
    });
    return id;
  }

  async function checkOne(engine: Engine, ctx: CallContext, input: CheckInput, principal: Principal): Promise<CheckOutput> {
    const { resource } = input;
    let attributes: Record<string, unknown> | null = resource.attributes ?? null;
    if (resource.id !== undefined) {
      const resolved = await deps.resources.resolve(resource.type, resource.id);
      attributes = resolved;
    }
    const purpose = input.purpose ?? null;
    let decision: Decision;
    let explain: CheckOutput['explain'];
    if (attributes === null) {
      decision = {
        allow: false,
        reason: 'unknown resource',
        ruleId: null,
        policyVersion: engine.version,
        fields: { allowed: [], masked: [], denied: [...(input.fields ?? [])] },
        masks: {},
      };
      if (ctx.explain) explain = { decidedBy: null, considered: [] };
    } else {
      const di = { principal, action: input.action, subject: resource.type, resource: attributes, purpose, ...(input.fields ? { fields: input.fields } : {}) };
      if (ctx.explain) {
        const e = engine.explain(di);
        decision = e.decision;
        explain = { decidedBy: e.decision.ruleId, considered: e.considered };
      } else decision = engine.decide(di);
    }
    const decisionId = await record(
      ctx,
      principal,
      input.action,
      {
        type: resource.type,
        id: resource.id ?? (typeof attributes?.id === 'string' ? attributes.id : null),
        classification: (attributes?.classification as string | null | undefined) ?? null,
        labelVersion: typeof attributes?.labelVersion === 'number' ? attributes.labelVersion : null,
      },
      decision,
      purpose,
    );
    return {
      decisionId,
      allow: decision.allow,
      reason: decision.reason,
      ruleId: decision.ruleId,
      policyVersion: decision.policyVersion,
      fields: decision.fields,
      masks: decision.masks,
      ...(explain ? { explain } : {}),
    };
  }

  return {
    async check(ctx: CallContext, input: CheckInput): Promise<CheckOutput> {
      const engine = deps.policy.current();
      assertMayExplain(engine, ctx);
      const principal = subjectOf(engine, ctx, input.principal && toPrincipal(input.principal));
      return checkOne(engine, ctx, input, principal);
    },

    /** One policy snapshot and one permission check per distinct principal for the whole batch. */
    async batch(ctx: CallContext, inputs: CheckInput[]): Promise<{ policyVersion: string; results: CheckOutput[] }> {
      const engine = deps.policy.current();
      assertMayExplain(engine, ctx);
      const principals = inputs.map((i) => (i.principal ? toPrincipal(i.principal) : undefined));
      const resolved = principals.map((p) => subjectOf(engine, ctx, p));
      const results: CheckOutput[] = [];
      for (let i = 0; i < inputs.length; i++) results.push(await checkOne(engine, ctx, inputs[i]!, resolved[i]!));
      return { policyVersion: engine.version, results };
    },

    async plan(
      ctx: CallContext,
      input: { principal?: PrincipalInput | undefined; action: Action; resourceType: SubjectType; purpose?: string | null | undefined },
    ): Promise<{ decisionId: string; policyVersion: string } & Plan> {
      const engine = deps.policy.current();
      const principal = subjectOf(engine, ctx, input.principal && toPrincipal(input.principal));
      const purpose = input.purpose ?? null;
      const plan = engine.plan(principal, input.action, input.resourceType, purpose);
      const reason = plan.kind === 'always' ? 'every resource of this type' : plan.kind === 'never' ? 'no resource of this type' : 'resources matching the condition';
      const decisionId = await record(
        ctx,
        principal,
        input.action,
        { type: input.resourceType, id: null },
        { allow: plan.kind !== 'never', ruleId: null, reason: `plan: ${reason}`, policyVersion: engine.version },
        purpose,
      );
      return { decisionId, policyVersion: engine.version, ...plan };
    },

    /** For callers of the reload endpoint: administrators (manage on Policy). */
    assertMayManagePolicy(caller: Principal): void {
      const may = deps.policy.current().decide({ principal: caller, action: 'manage', subject: 'Policy' });
      if (!may.allow) throw new ApiError('FORBIDDEN', 'Only administrators may reload the policies.');
    },
  };
}

export type DecisionService = ReturnType<typeof createDecisionService>;
