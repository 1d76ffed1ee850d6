import { createMongoAbility, type MongoAbility, type RawRuleOf } from '@casl/ability';
import type { Principal } from '../identity/principal.ts';
import { astToCondition, conditionsMatcher, mentionsSub, substitute } from './conditions.ts';
import type {
  Action,
  Condition,
  Decision,
  DecisionInput,
  FieldAttributes,
  FieldDecision,
  MaskKind,
  Plan,
  PolicyEngine,
  SubjectType,
} from './engine.types.ts';
import { datasetFieldAttributes, describeField, KNOWN_FIELD, labelProblem, NOT_SENSITIVE } from './field-attributes.ts';
import type { LoadedRule, PolicySet } from './loader.ts';

/** A compiled rule as CASL holds it; `origin` is our loaded rule (id, mask, purposes, role). */
interface CaslRule {
  inverted: boolean;
  fields: string[] | undefined;
  conditions: unknown;
  origin: LoadedRule;
  ast: unknown;
  matchesConditions(object: unknown): boolean;
  matchesField(field: string | undefined): boolean;
}

type Ability = MongoAbility;

/** One considered rule, for `?explain=true`. */
export interface Considered {
  ruleId: string;
  role: string;
  effect: 'allow' | 'deny';
  matched: boolean;
  note?: string;
}

export interface Explained {
  decision: Decision;
  considered: Considered[];
}

export interface EngineOptions {
  /** Bound on the number of compiled abilities kept (one per principal shape). */
  cacheMax?: number;
}

/**
 * Builds the engine for one validated policy set. Abilities are compiled per principal shape
 * (roles, unit, purposes — and sub when a rule mentions it) and kept in a bounded cache.
 *
 * Semantics (the same in decide, decideFields and plan):
 * - deny by default; a matching `inverted` rule wins over any allow (deny-overrides, across roles);
 * - inverted rules restricted to `fields` deny those fields only, never the whole resource;
 * - a rule with `purposes` counts only for a declared purpose the principal holds and the rule allows;
 * - a Field that is exempt, or personal data that is not effectively public, is granted only by a
 *   rule with `purposes` (fail closed: a broad rule never discloses personal data without a purpose);
 * - a field is decided per field: a record-level allow is never taken to allow every field;
 * - a field whose label or personal-data kind is not known is withheld, and a Dataset, Record,
 *   Label or Field whose classification is not known is denied (field-attributes.ts): what a
 *   caller leaves out is never assumed.
 */
export function createEngine(
  set: PolicySet,
  options: EngineOptions = {},
): PolicyEngine & {
  explain(input: DecisionInput): Explained;
  readonly set: PolicySet;
} {
  const compiled: Compiled = { set, rulesOf: createRulesOf(set, options.cacheMax ?? 1000) };
  return {
    version: set.version,
    roles: new Set(set.roles),
    set,
    decide: (input) => decideResource(compiled, input),
    explain(input) {
      const considered: Considered[] = [];
      return { decision: decideResource(compiled, input, considered), considered };
    },
    plan: (principal, action, subject, purpose) => planFor(compiled, principal, action, subject, purpose),
    decideFields: (principal, fields, purpose) =>
      fields.map((field) => fieldDecision(compiled, principal, field, purpose)),
  };
}

/** The compiled rules of one principal for one action on one subject type. */
type RulesOf = (principal: Principal, action: Action, subject: SubjectType) => readonly CaslRule[];

/** What the decision steps need of one engine: its policy set and its compiled rules. */
interface Compiled {
  set: PolicySet;
  rulesOf: RulesOf;
}

/** Compiles abilities per principal shape, kept in a bounded LRU cache. */
function createRulesOf(set: PolicySet, cacheMax: number): RulesOf {
  const cache = new Map<string, Ability>();
  const keyOnSub = set.rules.some((rule) => mentionsSub(rule.conditions));
  const roleNames = new Set(set.roles);

  // Within one request the same principal object is asked about many times (record, then fields).
  const byObject = new WeakMap<Principal, Ability>();

  function abilityFor(principal: Principal): Ability {
    const seen = byObject.get(principal);
    if (seen) return seen;
    const ability = abilityForShape(principal);
    byObject.set(principal, ability);
    return ability;
  }

  function abilityForShape(principal: Principal): Ability {
    const roles = principal.roles.filter((role) => roleNames.has(role)).sort();
    const key = JSON.stringify([
      roles,
      principal.unit,
      [...principal.purposes].sort(),
      keyOnSub ? principal.sub : null,
    ]);
    const hit = cache.get(key);
    if (hit) {
      // LRU: refresh the entry's position.
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const ability = compileAbility(set, roles, principal);
    if (cache.size >= cacheMax) cache.delete(cache.keys().next().value as string);
    cache.set(key, ability);
    return ability;
  }

  return (principal, action, subject) =>
    abilityFor(principal).rulesFor(action, subject) as unknown as readonly CaslRule[];
}

/** The CASL ability of the rules for `roles`, with the principal's attributes substituted. */
function compileAbility(set: PolicySet, roles: readonly string[], principal: Principal): Ability {
  const mine = set.rules.filter((rule) => roles.includes(rule.role));
  // Allows first, inverted last: the ordering also gives CASL's own can() deny-overrides.
  const ordered = [...mine.filter((rule) => !rule.inverted), ...mine.filter((rule) => rule.inverted)];
  const raw = ordered.map((rule) => ({
    ...rule,
    ...(rule.conditions ? { conditions: substitute(rule.conditions, principal) } : {}),
  })) as unknown as RawRuleOf<Ability>[];
  return createMongoAbility(raw, { conditionsMatcher });
}

/** Whether the rule's purpose constraint is met; a reason when it is not. */
function purposeProblem(rule: LoadedRule, principal: Principal, purpose: string | null | undefined): string | null {
  if (!rule.purposes) return null;
  if (!purpose) return 'a declared purpose is required';
  if (!principal.purposes.includes(purpose)) return `purpose "${purpose}" is not one the principal holds`;
  if (Array.isArray(rule.purposes) && !rule.purposes.includes(purpose))
    return `purpose "${purpose}" is not allowed for this data`;
  return null;
}

const noFields = () => ({ allowed: [] as string[], masked: [] as string[], denied: [] as string[] });

/** How one field may be read: whole, masked or omitted, and by which rule. */
function fieldDecision(
  compiled: Compiled,
  principal: Principal,
  given: FieldAttributes | Record<string, unknown>,
  purpose: string | null | undefined,
  considered?: Considered[],
): FieldDecision {
  const described = describeField(given as Record<string, unknown>);
  if (!described.ok) {
    return {
      field: described.name,
      outcome: 'omitted',
      ruleId: null,
      reason: `withheld because ${described.problem} (what is not known is decided as the strictest case)`,
    };
  }
  const field = described.field;
  const rules = compiled.rulesOf(principal, 'read', 'Field');
  const sensitive =
    field.classification !== 'public' && (field.classification === 'exempt' || field.personalDataKind !== 'none');
  const object = field as unknown as Record<string, unknown>;
  let whole: CaslRule | undefined;
  let masked: CaslRule | undefined;
  let purposeReason: string | null = null;
  for (const rule of rules) {
    if (!rule.matchesField(field.name)) continue;
    const matched = rule.matchesConditions(object);
    const problem = purposeProblem(rule.origin, principal, purpose);
    const note = !matched
      ? undefined
      : (problem ??
        (sensitive && !rule.origin.purposes && !rule.inverted
          ? 'grants no sensitive data: no purpose constraint'
          : undefined));
    considered?.push({
      ruleId: rule.origin.id,
      role: rule.origin.role,
      effect: rule.inverted ? 'deny' : 'allow',
      matched: matched && !note,
      ...(note ? { note } : {}),
    });
    if (!matched) continue;
    if (rule.inverted) {
      if (!problem)
        return { field: field.name, outcome: 'omitted', ruleId: rule.origin.id, reason: rule.origin.reason };
      continue;
    }
    if (problem) {
      purposeReason ??= problem;
      continue;
    }
    if (sensitive && !rule.origin.purposes) {
      purposeReason ??= 'a declared purpose is required';
      continue;
    }
    if (rule.origin.mask) masked ??= rule;
    else whole ??= rule;
  }
  if (whole) return { field: field.name, outcome: 'whole', ruleId: whole.origin.id, reason: whole.origin.reason };
  if (masked) {
    return {
      field: field.name,
      outcome: 'masked',
      mask: masked.origin.mask as MaskKind,
      ruleId: masked.origin.id,
      reason: masked.origin.reason,
    };
  }
  if (purposeReason) {
    const what = field.classification === 'exempt' ? 'exempt data' : 'personal data';
    return {
      field: field.name,
      outcome: 'omitted',
      ruleId: null,
      reason: `reading ${what} needs a purpose: ${purposeReason}`,
      needs: 'purpose',
    };
  }
  return { field: field.name, outcome: 'omitted', ruleId: null, reason: 'no rule allows reading this field' };
}

/** The decision for one request: a Field read field by field, anything else by its rules. */
function decideResource(compiled: Compiled, input: DecisionInput, considered?: Considered[]): Decision {
  const object = input.resource ?? {};
  // A Field read is decided by the per-field rules, so /v1/check and enforced reads agree.
  if (input.subject === 'Field' && input.action === 'read') return decideFieldRead(compiled, input, object, considered);
  const unlabelled = LABELLED.has(input.subject) ? labelProblem(object) : null;
  if (unlabelled) {
    const decision: Decision = {
      allow: false,
      reason: `denied because ${unlabelled} (what is not known is decided as the strictest case)`,
      ruleId: null,
      policyVersion: compiled.set.version,
      fields: noFields(),
      masks: {},
    };
    decision.fields.denied.push(...(input.fields ?? []));
    return decision;
  }
  const decision = decideByRules(compiled, input, object, considered);
  if (input.fields?.length) decideRequestedFields(compiled, input, decision, object);
  return decision;
}

/** A Field read as a Decision, from the per-field decision. */
function decideFieldRead(
  compiled: Compiled,
  input: DecisionInput,
  object: Record<string, unknown>,
  considered?: Considered[],
): Decision {
  const decided = fieldDecision(compiled, input.principal, object, input.purpose, considered);
  const fields = noFields();
  if (decided.outcome === 'whole') fields.allowed.push(decided.field);
  else if (decided.outcome === 'masked') fields.masked.push(decided.field);
  else if (decided.field) fields.denied.push(decided.field);
  return {
    allow: decided.outcome !== 'omitted',
    reason: decided.reason,
    ruleId: decided.ruleId,
    policyVersion: compiled.set.version,
    fields,
    masks: decided.mask ? { [decided.field]: decided.mask } : {},
  };
}

/** Whether the rules allow the action on the resource as a whole (deny-overrides). */
function decideByRules(
  compiled: Compiled,
  input: DecisionInput,
  object: Record<string, unknown>,
  considered?: Considered[],
): Decision {
  const { principal, action, subject, purpose } = input;
  const version = compiled.set.version;
  let allowBy: CaslRule | undefined;
  let purposeReason: string | null = null;
  for (const rule of compiled.rulesOf(principal, action, subject)) {
    if (rule.inverted && rule.fields) continue; // denies some fields, not the resource
    const matched = rule.matchesConditions(object);
    const problem = matched ? purposeProblem(rule.origin, principal, purpose) : null;
    considered?.push({
      ruleId: rule.origin.id,
      role: rule.origin.role,
      effect: rule.inverted ? 'deny' : 'allow',
      matched: matched && !problem,
      ...(problem ? { note: problem } : {}),
    });
    if (!matched) continue;
    if (problem) {
      purposeReason ??= problem;
      continue;
    }
    if (rule.inverted) {
      return {
        allow: false,
        reason: rule.origin.reason,
        ruleId: rule.origin.id,
        policyVersion: version,
        fields: noFields(),
        masks: {},
      };
    }
    allowBy ??= rule;
  }
  return allowBy
    ? {
        allow: true,
        reason: allowBy.origin.reason,
        ruleId: allowBy.origin.id,
        policyVersion: version,
        fields: noFields(),
        masks: {},
      }
    : {
        allow: false,
        reason: purposeReason ? `needs a purpose: ${purposeReason}` : `no rule allows ${action} on ${subject}`,
        ruleId: null,
        policyVersion: version,
        fields: noFields(),
        masks: {},
      };
}

/** The `fields` part of a decision, one field at a time. */
function decideRequestedFields(
  compiled: Compiled,
  input: DecisionInput,
  decision: Decision,
  object: Record<string, unknown>,
): void {
  const described = Array.isArray(object.fields) ? (object.fields as unknown[]).filter(isObject) : null;
  for (const name of input.fields ?? []) {
    if (!decision.allow) {
      decision.fields.denied.push(name);
      continue;
    }
    if (input.subject === 'Dataset' && input.action === 'read') {
      // A dataset's data fields are decided as Fields, from their labels.
      const meta = described?.find((field) => field.name === name);
      if (!meta) {
        decision.fields.denied.push(name);
        continue;
      }
      const decided = fieldDecision(
        compiled,
        input.principal,
        datasetFieldAttributes(object, meta, name),
        input.purpose,
      );
      if (decided.outcome === 'whole') decision.fields.allowed.push(name);
      else if (decided.outcome === 'masked') {
        decision.fields.masked.push(name);
        decision.masks[name] = decided.mask!;
      } else decision.fields.denied.push(name);
      continue;
    }
    // Other subjects: attribute-level rules (CASL `fields`), evaluated per field.
    let allowed = false;
    for (const rule of compiled.rulesOf(input.principal, input.action, input.subject)) {
      if (
        !rule.matchesField(name) ||
        !rule.matchesConditions(object) ||
        purposeProblem(rule.origin, input.principal, input.purpose)
      )
        continue;
      if (rule.inverted) {
        allowed = false;
        break;
      }
      allowed = true;
    }
    (allowed ? decision.fields.allowed : decision.fields.denied).push(name);
  }
}

/** Which resources the principal may act on, as a condition (for SQL). */
function planFor(
  compiled: Compiled,
  principal: Principal,
  action: Action,
  subject: SubjectType,
  purpose?: string | null,
): Plan {
  // Reading Fields is decided field by field (fieldDecision): the plan says the same, so a rule's
  // `fields` name fields, rules without purposes grant no sensitive field, and unknown fields are out.
  const fieldRead = subject === 'Field' && action === 'read';
  const allows: Condition[] = [];
  const denies: Condition[] = [];
  let unconditional = false;
  for (const rule of compiled.rulesOf(principal, action, subject)) {
    if (rule.inverted && rule.fields && !fieldRead) continue;
    if (purposeProblem(rule.origin, principal, purpose)) continue;
    let cond = rule.ast ? astToCondition(rule.ast as Parameters<typeof astToCondition>[0]) : null;
    if (fieldRead && rule.fields) cond = both(cond, { op: 'in', field: 'name', value: [...rule.fields] });
    if (fieldRead && !rule.inverted && !rule.origin.purposes) cond = both(cond, NOT_SENSITIVE);
    if (rule.inverted) {
      if (!cond) return { kind: 'never' };
      denies.push({ op: 'not', condition: cond });
    } else if (!cond) unconditional = true;
    else allows.push(cond);
  }
  if (!unconditional && allows.length === 0) return { kind: 'never' };
  if (unconditional && denies.length === 0 && !fieldRead) return { kind: 'always' };
  const allow: Condition[] = unconditional ? [] : [allows.length === 1 ? allows[0]! : { op: 'or', conditions: allows }];
  const all = [...(fieldRead ? [KNOWN_FIELD] : []), ...allow, ...denies];
  return { kind: 'conditional', condition: all.length === 1 ? all[0]! : { op: 'and', conditions: all } };
}

/** Subjects whose attributes carry a classification: not knowing it denies (fail closed). */
const LABELLED: ReadonlySet<SubjectType> = new Set(['Dataset', 'Field', 'Record', 'Label']);

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Both conditions (the first may be absent: no condition). */
const both = (a: Condition | null, b: Condition): Condition => (a ? { op: 'and', conditions: [a, b] } : b);

export type Engine = ReturnType<typeof createEngine>;
