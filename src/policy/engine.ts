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
export function createEngine(set: PolicySet, options: EngineOptions = {}): PolicyEngine & {
  explain(input: DecisionInput): Explained;
  readonly set: PolicySet;
} {
  const cacheMax = options.cacheMax ?? 1000;
  const cache = new Map<string, Ability>();
  const keyOnSub = set.rules.some((r) => mentionsSub(r.conditions));
  const roleNames = new Set(set.roles);

  // Within one request the same principal object is asked about many times (record, then fields).
  const byObject = new WeakMap<Principal, Ability>();

  function abilityFor(p: Principal): Ability {
    const seen = byObject.get(p);
    if (seen) return seen;
    const ability = abilityForShape(p);
    byObject.set(p, ability);
    return ability;
  }

  function abilityForShape(p: Principal): Ability {
    const roles = p.roles.filter((r) => roleNames.has(r)).sort();
    const key = JSON.stringify([roles, p.unit, [...p.purposes].sort(), keyOnSub ? p.sub : null]);
    const hit = cache.get(key);
    if (hit) {
      // LRU: refresh the entry's position.
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const mine = set.rules.filter((r) => roles.includes(r.role));
    // Allows first, inverted last: the ordering also gives CASL's own can() deny-overrides.
    const ordered = [...mine.filter((r) => !r.inverted), ...mine.filter((r) => r.inverted)];
    const raw = ordered.map((r) => ({
      ...r,
      ...(r.conditions ? { conditions: substitute(r.conditions, p) } : {}),
    })) as unknown as RawRuleOf<Ability>[];
    const ability = createMongoAbility(raw, { conditionsMatcher });
    if (cache.size >= cacheMax) cache.delete(cache.keys().next().value as string);
    cache.set(key, ability);
    return ability;
  }

  const rulesOf = (p: Principal, action: Action, subject: SubjectType): readonly CaslRule[] =>
    abilityFor(p).rulesFor(action, subject) as unknown as readonly CaslRule[];

  /** Whether the rule's purpose constraint is met; a reason when it is not. */
  function purposeProblem(rule: LoadedRule, p: Principal, purpose: string | null | undefined): string | null {
    if (!rule.purposes) return null;
    if (!purpose) return 'a declared purpose is required';
    if (!p.purposes.includes(purpose)) return `purpose "${purpose}" is not one the principal holds`;
    if (rule.purposes !== 'any' && !rule.purposes.includes(purpose)) return `purpose "${purpose}" is not allowed for this data`;
    return null;
  }

  const noFields = () => ({ allowed: [] as string[], masked: [] as string[], denied: [] as string[] });

  function fieldDecision(p: Principal, given: FieldAttributes | Record<string, unknown>, purpose: string | null | undefined, considered?: Considered[]): FieldDecision {
    const described = describeField(given as Record<string, unknown>);
    if (!described.ok) {
      return { field: described.name, outcome: 'omitted', ruleId: null, reason: `withheld because ${described.problem} (what is not known is decided as the strictest case)` };
    }
    const f = described.field;
    const rules = rulesOf(p, 'read', 'Field');
    const sensitive = f.classification !== 'public' && (f.classification === 'exempt' || f.personalDataKind !== 'none');
    const object = f as unknown as Record<string, unknown>;
    let whole: CaslRule | undefined;
    let masked: CaslRule | undefined;
    let purposeReason: string | null = null;
    for (const rule of rules) {
      if (!rule.matchesField(f.name)) continue;
      const matched = rule.matchesConditions(object);
      const pp = purposeProblem(rule.origin, p, purpose);
      const note = !matched ? undefined : pp ?? (sensitive && !rule.origin.purposes && !rule.inverted ? 'grants no sensitive data: no purpose constraint' : undefined);
      considered?.push({ ruleId: rule.origin.id, role: rule.origin.role, effect: rule.inverted ? 'deny' : 'allow', matched: matched && !note, ...(note ? { note } : {}) });
      if (!matched) continue;
      if (rule.inverted) {
        if (!pp) return { field: f.name, outcome: 'omitted', ruleId: rule.origin.id, reason: rule.origin.reason };
        continue;
      }
      if (pp) {
        purposeReason ??= pp;
        continue;
      }
      if (sensitive && !rule.origin.purposes) {
        purposeReason ??= 'a declared purpose is required';
        continue;
      }
      if (rule.origin.mask) masked ??= rule;
      else whole ??= rule;
    }
    if (whole) return { field: f.name, outcome: 'whole', ruleId: whole.origin.id, reason: whole.origin.reason };
    if (masked) {
      return { field: f.name, outcome: 'masked', mask: masked.origin.mask as MaskKind, ruleId: masked.origin.id, reason: masked.origin.reason };
    }
    if (purposeReason) {
      const what = f.classification === 'exempt' ? 'exempt data' : 'personal data';
      return { field: f.name, outcome: 'omitted', ruleId: null, reason: `reading ${what} needs a purpose: ${purposeReason}`, needs: 'purpose' };
    }
    return { field: f.name, outcome: 'omitted', ruleId: null, reason: 'no rule allows reading this field' };
  }

  function decideResource(input: DecisionInput, considered?: Considered[]): Decision {
    const { principal: p, action, subject, purpose } = input;
    const object = input.resource ?? {};
    // A Field read is decided by the per-field rules, so /v1/check and enforced reads agree.
    if (subject === 'Field' && action === 'read') {
      const d = fieldDecision(p, object, purpose, considered);
      const fields = noFields();
      if (d.outcome === 'whole') fields.allowed.push(d.field);
      else if (d.outcome === 'masked') fields.masked.push(d.field);
      else if (d.field) fields.denied.push(d.field);
      return {
        allow: d.outcome !== 'omitted',
        reason: d.reason,
        ruleId: d.ruleId,
        policyVersion: set.version,
        fields,
        masks: d.mask ? { [d.field]: d.mask } : {},
      };
    }
    const unlabelled = LABELLED.has(subject) ? labelProblem(object) : null;
    if (unlabelled) {
      const decision: Decision = {
        allow: false,
        reason: `denied because ${unlabelled} (what is not known is decided as the strictest case)`,
        ruleId: null,
        policyVersion: set.version,
        fields: noFields(),
        masks: {},
      };
      decision.fields.denied.push(...(input.fields ?? []));
      return decision;
    }
    const rules = rulesOf(p, action, subject);
    let allowBy: CaslRule | undefined;
    let purposeReason: string | null = null;
    for (const rule of rules) {
      if (rule.inverted && rule.fields) continue; // denies some fields, not the resource
      const matched = rule.matchesConditions(object);
      const pp = matched ? purposeProblem(rule.origin, p, purpose) : null;
      considered?.push({ ruleId: rule.origin.id, role: rule.origin.role, effect: rule.inverted ? 'deny' : 'allow', matched: matched && !pp, ...(pp ? { note: pp } : {}) });
      if (!matched) continue;
      if (pp) {
        purposeReason ??= pp;
        continue;
      }
      if (rule.inverted) {
        return { allow: false, reason: rule.origin.reason, ruleId: rule.origin.id, policyVersion: set.version, fields: noFields(), masks: {} };
      }
      allowBy ??= rule;
    }
    const decision: Decision = allowBy
      ? { allow: true, reason: allowBy.origin.reason, ruleId: allowBy.origin.id, policyVersion: set.version, fields: noFields(), masks: {} }
      : {
          allow: false,
          reason: purposeReason ? `needs a purpose: ${purposeReason}` : `no rule allows ${action} on ${subject}`,
          ruleId: null,
          policyVersion: set.version,
          fields: noFields(),
          masks: {},
        };
    if (input.fields?.length) decideRequestedFields(input, decision, object);
    return decision;
  }

  /** The `fields` part of a decision, one field at a time. */
  function decideRequestedFields(input: DecisionInput, decision: Decision, object: Record<string, unknown>): void {
    const described = Array.isArray(object.fields) ? (object.fields as unknown[]).filter(isObject) : null;
    for (const name of input.fields ?? []) {
      if (!decision.allow) {
        decision.fields.denied.push(name);
        continue;
      }
      if (input.subject === 'Dataset' && input.action === 'read') {
        // A dataset's data fields are decided as Fields, from their labels.
        const meta = described?.find((f) => f.name === name);
        if (!meta) {
          decision.fields.denied.push(name);
          continue;
        }
        const d = fieldDecision(input.principal, datasetFieldAttributes(object, meta, name), input.purpose);
        if (d.outcome === 'whole') decision.fields.allowed.push(name);
        else if (d.outcome === 'masked') {
          decision.fields.masked.push(name);
          decision.masks[name] = d.mask!;
        } else decision.fields.denied.push(name);
        continue;
      }
      // Other subjects: attribute-level rules (CASL `fields`), evaluated per field.
      let allowed = false;
      for (const rule of rulesOf(input.principal, input.action, input.subject)) {
        if (!rule.matchesField(name) || !rule.matchesConditions(object) || purposeProblem(rule.origin, input.principal, input.purpose)) continue;
        if (rule.inverted) {
          allowed = false;
          break;
        }
        allowed = true;
      }
      (allowed ? decision.fields.allowed : decision.fields.denied).push(name);
    }
  }

  function plan(p: Principal, action: Action, subject: SubjectType, purpose?: string | null): Plan {
    // Reading Fields is decided field by field (fieldDecision): the plan says the same, so a rule's
    // `fields` name fields, rules without purposes grant no sensitive field, and unknown fields are out.
    const fieldRead = subject === 'Field' && action === 'read';
    const allows: Condition[] = [];
    const denies: Condition[] = [];
    let unconditional = false;
    for (const rule of rulesOf(p, action, subject)) {
      if (rule.inverted && rule.fields && !fieldRead) continue;
      if (purposeProblem(rule.origin, p, purpose)) continue;
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

  return {
    version: set.version,
    roles: roleNames,
    set,
    decide: (input) => decideResource(input),
    explain(input) {
      const considered: Considered[] = [];
      return { decision: decideResource(input, considered), considered };
    },
    plan,
    decideFields: (p, fields, purpose) => fields.map((f) => fieldDecision(p, f, purpose)),
  };
}

/** Subjects whose attributes carry a classification: not knowing it denies (fail closed). */
const LABELLED: ReadonlySet<SubjectType> = new Set(['Dataset', 'Field', 'Record', 'Label']);

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Both conditions (the first may be absent: no condition). */
const both = (a: Condition | null, b: Condition): Condition => (a ? { op: 'and', conditions: [a, b] } : b);

export type Engine = ReturnType<typeof createEngine>;
