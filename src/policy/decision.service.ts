import type { AuditEntryInput, AuditLog } from '../audit/audit.port.ts';
import { deepFreeze } from '../shared/deep-freeze.ts';
import { DomainError } from '../shared/errors.ts';
import type { Principal } from '../identity/principal.ts';
import { isName, type CheckInput, type CheckOutput } from './decision.schema.ts';
import type { Engine } from './engine.ts';
import type { ContextAttributes } from './context-attributes.ts';
import type { Action, Decision, Plan, ResourceResolver, SubjectType } from './engine.types.ts';
import { isClassification } from './field-attributes.ts';
import type { PolicyService } from './policy.service.ts';

export interface CallContext {
  caller: Principal;
  requestId: string | null;
  traceId: string | null;
  explain: boolean;
}

type PrincipalInput = NonNullable<CheckInput['principal']>;

/**
 * When a check answers (AUDIT_CHECKS): `durable` (default) once its audit entry is committed, so
 * every decisionId handed out is in the log; `queued` once the entry is queued in memory, faster,
 * but a crash can lose the entries of the last moments (docs/audit.md).
 */
export type CheckDurability = 'durable' | 'queued';

/**
 * One question of an AuthZEN request: a check, or a refusal decided before any rule is asked
 * (an unknown action or resource type, a malformed context or subject), logged all the same.
 */
export type Ask =
  | { check: CheckInput }
  | {
      refuse: {
        principal: Principal | undefined;
        action: string;
        resource: { type: string; id: string | null };
        purpose: string | null;
        reason: string;
      };
    };

/** A decision made, its audit entry not yet written. */
interface Decided {
  entry: AuditEntryInput;
  answer: Omit<CheckOutput, 'decisionId'>;
}

const MAX_INT4 = 2 ** 31 - 1;
/** Decisions of checks by id remembered (DecisionMemo), across all resources and principals. */
export const DECISION_MEMO_MAX = 10_000;
const idOrNull = (x: unknown) => (isName(x) ? x : null);

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

export function samePrincipal(a: Principal, b: Principal): boolean {
  return (
    a.sub === b.sub &&
    a.kind === b.kind &&
    a.unit === b.unit &&
    sameSet(a.roles, b.roles) &&
    sameSet(a.purposes, b.purposes)
  );
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

/** What the decision service is wired with. */
interface DecisionDeps {
  policy: PolicyService;
  audit: AuditLog;
  resources: ResourceResolver;
  /** Attributes that depend on the principal and purpose (agreements); absent, none are added. */
  context?: ContextAttributes;
}

/** The wiring plus whether checks wait for their audit entries to be committed. */
interface Wired {
  deps: DecisionDeps;
  durable: boolean;
  memo: DecisionMemo | null;
}

/** A remembered decision: the answer, and the entry without what each request adds (ids, asker). */
interface Remembered {
  engine: Engine;
  answer: Decided['answer'];
  entry: AuditEntryInput;
}

/**
 * Decisions of checks by id, remembered per (engine, resolved resource, question). A check by id
 * is decided on the object the resolver returns: the catalog snapshot hands out the same frozen
 * object for a dataset or field until it reloads, and a new one after any catalog, label,
 * agreement or register change; a read from the database is a new object every time (never
 * remembered usefully). The engine (policy.current()) is a new object after a policy reload and
 * after the register of purposes or the exemptions change (governedByPurposes). Everything else a
 * decision depends on is in the key: the principal's sub, kind, roles, unit and purposes, the
 * action, the type and id asked, the fields and the purpose. Decisions that depend on the time
 * (service principals: agreements expire) and explained ones are never remembered. Bounded: the
 * oldest entries go first.
 */
export interface DecisionMemo {
  /** Objects get a number once; the key names the number, so the map holds no resource alive. */
  ids: WeakMap<object, number>;
  next: number;
  entries: Map<string, Remembered>;
  max: number;
  /**
   * The key of a (resolved resource, body, principal) met before, by their identities: valid when
   * all three are frozen (the snapshot's objects, remembered bodies, cached principals), so the
   * same objects always hold the same values. Held weakly, by the objects themselves.
   */
  keys: WeakMap<object, WeakMap<object, WeakMap<object, string>>>;
}

const createMemo = (max: number): DecisionMemo | null =>
  max > 0 ? { ids: new WeakMap(), next: 0, entries: new Map(), max, keys: new WeakMap() } : null;

/** The memo key of a check, or null when its decision must not be remembered. */
function memoKey(
  memo: DecisionMemo,
  ctx: CallContext,
  input: CheckInput,
  principal: Principal,
  resolved: object,
): string | null {
  if (ctx.explain || principal.kind === 'service') return null;
  const frozen = Object.isFrozen(resolved) && Object.isFrozen(input) && Object.isFrozen(principal);
  if (!frozen) return keyOf(memo, input, principal, resolved);
  let byInput = memo.keys.get(resolved);
  if (!byInput) memo.keys.set(resolved, (byInput = new WeakMap()));
  let byPrincipal = byInput.get(input);
  if (!byPrincipal) byInput.set(input, (byPrincipal = new WeakMap()));
  let key = byPrincipal.get(principal);
  if (key === undefined) byPrincipal.set(principal, (key = keyOf(memo, input, principal, resolved)));
  return key;
}

function keyOf(memo: DecisionMemo, input: CheckInput, principal: Principal, resolved: object): string {
  let id = memo.ids.get(resolved);
  if (id === undefined) memo.ids.set(resolved, (id = memo.next++));
  return JSON.stringify([
    id,
    input.resource.type,
    input.resource.id,
    principal.sub,
    principal.kind,
    principal.roles,
    principal.unit,
    principal.purposes,
    input.action,
    input.fields ?? null,
    input.purpose ?? null,
  ]);
}

function remember(memo: DecisionMemo, key: string, engine: Engine, decided: Decided): void {
  if (memo.entries.size >= memo.max) memo.entries.delete(memo.entries.keys().next().value as string);
  const { requestId: _r, traceId: _t, details: _d, ...entry } = decided.entry;
  memo.entries.set(key, { engine, answer: deepFreeze(decided.answer), entry: deepFreeze(entry) as AuditEntryInput });
}

/**
 * Decides checks and plans for the decision API: resolves whom the question is about (the caller,
 * or another principal when the caller may ask on others' behalf), resolves resources named by id,
 * asks one engine snapshot, and hands every decision to the audit log (its id is the decisionId).
 * A request's decisions are all made first, then logged together with one wait (see `record`).
 */
export function createDecisionService(
  deps: DecisionDeps,
  options: { checks?: CheckDurability; /** Decisions remembered (see DecisionMemo); 0: none. */ memoMax?: number } = {},
) {
  const wired: Wired = {
    deps,
    durable: (options.checks ?? 'durable') === 'durable',
    memo: createMemo(options.memoMax ?? DECISION_MEMO_MAX),
  };

  return {
    async check(ctx: CallContext, input: CheckInput): Promise<CheckOutput> {
      return (await decideAll(wired, ctx, [{ check: input }])).results[0]!;
    },

    /** One policy snapshot, every principal settled first, and one wait for the log for the whole batch. */
    batch(ctx: CallContext, inputs: CheckInput[]): Promise<{ policyVersion: string; results: CheckOutput[] }> {
      return decideAll(
        wired,
        ctx,
        inputs.map((check) => ({ check })),
      );
    },

    /** AuthZEN: checks and refusals alike are decisions, each logged; see `Ask`. */
    evaluate(ctx: CallContext, asks: Ask[], stopAfter?: (allow: boolean) => boolean): Promise<CheckOutput[]> {
      return decideAll(wired, ctx, asks, stopAfter).then((r) => r.results);
    },

    plan(
      ctx: CallContext,
      input: {
        principal?: PrincipalInput | undefined;
        action: Action;
        resourceType: SubjectType;
        purpose?: string | null | undefined;
      },
    ): Promise<{ decisionId: string; policyVersion: string } & Plan> {
      return planFor(wired, ctx, input);
    },

    /** For callers of the reload endpoint: administrators (manage on Policy). */
    assertMayManagePolicy(caller: Principal): void {
      const may = deps.policy.current().decide({ principal: caller, action: 'manage', subject: 'Policy' });
      if (!may.allow) throw new DomainError('FORBIDDEN', 'Only administrators may reload the policies.');
    },
  };
}

/**
 * Whether the caller may ask about others, per engine and frozen (cached) caller: a service asking
 * for its users asks it on every check. A mutable caller is asked every time.
 */
const mayAskForOthers = new WeakMap<Engine, WeakMap<Principal, boolean>>();

function mayCheckOthers(engine: Engine, caller: Principal): boolean {
  const ask = () => engine.decide({ principal: caller, action: 'check', subject: 'Policy' }).allow;
  if (!Object.isFrozen(caller) || !Object.isFrozen(caller.roles) || !Object.isFrozen(caller.purposes)) return ask();
  let byCaller = mayAskForOthers.get(engine);
  if (!byCaller) mayAskForOthers.set(engine, (byCaller = new WeakMap()));
  let may = byCaller.get(caller);
  if (may === undefined) byCaller.set(caller, (may = ask()));
  return may;
}

/** Whom a check is about; asking about someone else needs `check` on Policy. */
function subjectOf(engine: Engine, ctx: CallContext, given: Principal | undefined): Principal {
  if (!given || samePrincipal(given, ctx.caller)) return ctx.caller;
  if (!mayCheckOthers(engine, ctx.caller))
    throw new DomainError('FORBIDDEN', 'Your role may not ask about another principal; leave out `principal`.');
  return given;
}

function assertMayExplain(engine: Engine, ctx: CallContext): void {
  if (!ctx.explain) return;
  const may = engine.decide({ principal: ctx.caller, action: 'read', subject: 'Policy' });
  if (!may.allow) throw new DomainError('FORBIDDEN', 'Your role may not see the policies (explain).');
}

/**
 * The entry of one decision. Resource attributes a caller described are recorded only when the
 * log can hold them as they are (a name, a known label, a label version in range): an entry the
 * log refused would leave the decision unlogged, or hold up the entries queued with it.
 */
function entryOf(
  ctx: CallContext,
  principal: Principal,
  action: string,
  resource: { type: string; id?: unknown; classification?: unknown; labelVersion?: unknown },
  decision: Pick<Decision, 'allow' | 'ruleId' | 'reason' | 'policyVersion'> & Partial<Pick<Decision, 'fields'>>,
  purpose: string | null,
): AuditEntryInput {
  const names = (list: string[]) => list.filter(isName);
  const version = resource.labelVersion;
  return {
    event: 'decision',
    principal: { sub: principal.sub, kind: principal.kind, roles: principal.roles, unit: principal.unit },
    action,
    resource: {
      type: resource.type,
      id: idOrNull(resource.id),
      classification: isClassification(resource.classification) ? resource.classification : null,
      labelVersion:
        typeof version === 'number' && Number.isSafeInteger(version) && version >= 0 && version <= MAX_INT4
          ? version
          : null,
    },
    effect: decision.allow ? 'allow' : 'deny',
    ruleId: decision.ruleId,
    reason: decision.reason,
    policyVersion: decision.policyVersion,
    ...(decision.fields
      ? {
          fields: {
            whole: names(decision.fields.allowed),
            masked: names(decision.fields.masked),
            omitted: names(decision.fields.denied),
          },
        }
      : {}),
    purpose,
    requestId: ctx.requestId,
    traceId: ctx.traceId,
    ...(principal === ctx.caller ? {} : { details: { askedBy: ctx.caller.sub, askedByRoles: ctx.caller.roles } }),
  };
}

/**
 * Hands one request's decisions to the log, in order, and waits once for all of them: until they
 * are committed (durable checks: one group commit for a whole batch), or queued. Resolves with
 * their ids; rejects with AUDIT_UNAVAILABLE when they cannot be committed, and nothing is answered.
 */
async function record(wired: Wired, entries: AuditEntryInput[]): Promise<string[]> {
  const { audit } = wired.deps;
  if (audit.appendAll) return audit.appendAll(entries, wired.durable);
  const appended = await Promise.all(
    entries.map((entry) => (wired.durable ? audit.appendDurable(entry) : audit.append(entry))),
  );
  return appended.map((a) => a.id);
}

async function decideOne(
  wired: Wired,
  engine: Engine,
  ctx: CallContext,
  input: CheckInput,
  principal: Principal,
): Promise<Decided> {
  const { resource } = input;
  if (resource.id === undefined) return decideOn(wired, engine, ctx, input, principal, resource.attributes ?? null);
  const resolved = await wired.deps.resources.resolve(resource.type, resource.id);
  const memo = wired.memo;
  const key = memo && resolved ? memoKey(memo, ctx, input, principal, resolved) : null;
  if (!memo || key === null) return decideOn(wired, engine, ctx, input, principal, resolved);
  const hit = memo.entries.get(key);
  if (hit && hit.engine === engine) {
    return {
      entry: {
        ...hit.entry,
        requestId: ctx.requestId,
        traceId: ctx.traceId,
        ...(principal === ctx.caller ? {} : { details: { askedBy: ctx.caller.sub, askedByRoles: ctx.caller.roles } }),
      },
      answer: hit.answer,
    };
  }
  const decided = await decideOn(wired, engine, ctx, input, principal, resolved);
  if (!decided.entry.details?.agreementId) remember(memo, key, engine, decided);
  return decided;
}

/** Decides one check on the resource's attributes (null: unknown resource). */
async function decideOn(
  wired: Wired,
  engine: Engine,
  ctx: CallContext,
  input: CheckInput,
  principal: Principal,
  resolved: Record<string, unknown> | null,
): Promise<Decided> {
  const { resource } = input;
  let attributes = resolved;
  const purpose = input.purpose ?? null;
  let agreementId: string | null = null;
  if (attributes !== null && wired.deps.context) {
    const added = await wired.deps.context.add(principal, resource.type, attributes, purpose);
    attributes = added.resource;
    agreementId = added.agreementId;
  }
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
    const asked = {
      principal,
      action: input.action,
      subject: resource.type,
      resource: attributes,
      purpose,
      ...(input.fields ? { fields: input.fields } : {}),
    };
    if (ctx.explain) {
      const explained = engine.explain(asked);
      decision = explained.decision;
      explain = { decidedBy: explained.decision.ruleId, considered: explained.considered };
    } else decision = engine.decide(asked);
    if (wired.deps.context)
      decision = wired.deps.context.settle(principal, input.action, resource.type, attributes, decision);
  }
  const entry = entryOf(
    ctx,
    principal,
    input.action,
    {
      type: resource.type,
      id: resource.id ?? attributes?.id,
      classification: attributes?.classification,
      labelVersion: attributes?.labelVersion,
    },
    decision,
    purpose,
  );
  if (agreementId) entry.details = { ...entry.details, agreementId };
  return {
    entry,
    answer: {
      allow: decision.allow,
      reason: decision.reason,
      ruleId: decision.ruleId,
      policyVersion: decision.policyVersion,
      fields: decision.fields,
      masks: decision.masks,
      ...(explain ? { explain } : {}),
    },
  };
}

/** A refusal decided before any rule is asked, as a decision to log. */
function refusalOf(
  engine: Engine,
  ctx: CallContext,
  refusal: Extract<Ask, { refuse: unknown }>['refuse'],
  principal: Principal,
): Decided {
  const denial = {
    allow: false,
    reason: refusal.reason,
    ruleId: null,
    policyVersion: engine.version,
    fields: { allowed: [], masked: [], denied: [] },
  };
  return {
    entry: entryOf(ctx, principal, refusal.action, refusal.resource, denial, refusal.purpose),
    answer: { ...denial, masks: {} },
  };
}

/** Decides each ask in order (stopping after the first answer `stopAfter` accepts), then logs them with one wait. */
async function decideAll(
  wired: Wired,
  ctx: CallContext,
  asks: Ask[],
  stopAfter?: (allow: boolean) => boolean,
): Promise<{ policyVersion: string; results: CheckOutput[] }> {
  const engine = wired.deps.policy.current();
  assertMayExplain(engine, ctx);
  // Every principal is settled before anything is decided: a 403 leaves no decision behind.
  const principals = asks.map((ask) =>
    'check' in ask
      ? subjectOf(engine, ctx, ask.check.principal && toPrincipal(ask.check.principal))
      : subjectOf(engine, ctx, ask.refuse.principal),
  );
  const decided: Decided[] = [];
  for (const [index, ask] of asks.entries()) {
    const principal = principals[index]!;
    const one =
      'check' in ask
        ? await decideOne(wired, engine, ctx, ask.check, principal)
        : refusalOf(engine, ctx, ask.refuse, principal);
    decided.push(one);
    if (stopAfter?.(one.answer.allow)) break;
  }
  const ids = await record(
    wired,
    decided.map((one) => one.entry),
  );
  return {
    policyVersion: engine.version,
    results: decided.map((one, index) => ({ decisionId: ids[index]!, ...one.answer })),
  };
}

async function planFor(
  wired: Wired,
  ctx: CallContext,
  input: {
    principal?: PrincipalInput | undefined;
    action: Action;
    resourceType: SubjectType;
    purpose?: string | null | undefined;
  },
): Promise<{ decisionId: string; policyVersion: string } & Plan> {
  const engine = wired.deps.policy.current();
  const principal = subjectOf(engine, ctx, input.principal && toPrincipal(input.principal));
  const purpose = input.purpose ?? null;
  const plan = engine.plan(principal, input.action, input.resourceType, purpose);
  const reason =
    plan.kind === 'always'
      ? 'every resource of this type'
      : plan.kind === 'never'
        ? 'no resource of this type'
        : 'resources matching the condition';
  const [decisionId] = await record(wired, [
    entryOf(
      ctx,
      principal,
      input.action,
      { type: input.resourceType, id: null },
      { allow: plan.kind !== 'never', ruleId: null, reason: `plan: ${reason}`, policyVersion: engine.version },
      purpose,
    ),
  ]);
  return { decisionId: decisionId!, policyVersion: engine.version, ...plan };
}

export type DecisionService = ReturnType<typeof createDecisionService>;
