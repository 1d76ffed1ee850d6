import { buildMongoQueryMatcher } from '@casl/ability';
import { isWithin } from '../shared/unit-code.ts';
import type { Principal } from '../identity/principal.ts';
import { SUBJECT_ATTRIBUTES, type Condition, type SubjectType } from './engine.types.ts';

/**
 * Policy conditions: a small subset of CASL's MongoDB-style query language, plus `$within`
 * ("the unit is in the subtree of"). Everything else is refused at load time, so every
 * condition can be evaluated in memory and translated exactly into SQL.
 */
export const FIELD_OPERATORS = ['$eq', '$ne', '$in', '$nin', '$within'] as const;
export const LOGICAL_OPERATORS = ['$and', '$or'] as const;
export const PLACEHOLDERS = ['${principal.unit}', '${principal.sub}', '${principal.purposes}'] as const;

type Scalar = string | number | boolean | null;

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** A value usable as an operand: scalar, or a placeholder (checked for where it may appear). */
function checkScalar(value: unknown, where: string, problems: string[], allowArrayPlaceholder: boolean): void {
  if (typeof value === 'string' && value.includes('${')) {
    if (!(PLACEHOLDERS as readonly string[]).includes(value)) {
      problems.push(
        `${where}: unknown placeholder ${value} (expected one of ${PLACEHOLDERS.join(', ')}, as the whole value)`,
      );
    } else if (value === '${principal.purposes}' && !allowArrayPlaceholder) {
      problems.push(`${where}: \${principal.purposes} is a list; use it with $in or $nin`);
    }
    return;
  }
  if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
    problems.push(
      `${where}: malformed condition: expected a string, number, boolean or null, got ${JSON.stringify(value)}`,
    );
  }
}

/**
 * Checks one rule's conditions against the attributes its subject(s) have. Returns readable
 * problems ("conditions.ownerUnit: unknown operator $regex"); empty when valid.
 */
export function checkConditions(conditions: Record<string, unknown>, subjects: readonly string[]): string[] {
  const problems: string[] = [];
  const known = new Set<string>();
  const wildcard = subjects.includes('all');
  for (const s of subjects) for (const a of SUBJECT_ATTRIBUTES[s as SubjectType] ?? []) known.add(a);

  const walk = (cond: Record<string, unknown>, path: string) => {
    if (Object.keys(cond).length === 0) problems.push(`${path}: malformed condition: empty mapping`);
    for (const [key, value] of Object.entries(cond)) {
      const where = `${path}.${key}`;
      if (key.startsWith('$')) {
        if (!(LOGICAL_OPERATORS as readonly string[]).includes(key)) {
          problems.push(`${where}: unknown operator ${key} (expected ${LOGICAL_OPERATORS.join(', ')} here)`);
        } else if (!Array.isArray(value) || value.length === 0 || !value.every(isPlainObject)) {
          problems.push(`${where}: malformed condition: ${key} expects a non-empty list of conditions`);
        } else {
          value.forEach((c, i) => walk(c, `${where}[${i}]`));
        }
        continue;
      }
      if (wildcard) {
        problems.push(`${where}: conditions are not allowed on subject "all"`);
        continue;
      }
      if (!known.has(key)) {
        problems.push(
          `${where}: unknown attribute "${key}" for ${subjects.join('/')} (known: ${[...known].join(', ') || 'none'})`,
        );
        continue;
      }
      if (!isPlainObject(value)) {
        checkScalar(value, where, problems, false);
        continue;
      }
      const ops = Object.entries(value);
      if (ops.length === 0) problems.push(`${where}: malformed condition: empty operator mapping`);
      for (const [op, operand] of ops) {
        const at = `${where}.${op}`;
        if (!(FIELD_OPERATORS as readonly string[]).includes(op)) {
          problems.push(`${at}: unknown operator ${op} (expected one of ${FIELD_OPERATORS.join(', ')})`);
        } else if (op === '$in' || op === '$nin') {
          if (operand === '${principal.purposes}') continue;
          if (!Array.isArray(operand)) problems.push(`${at}: malformed condition: ${op} expects a list`);
          else operand.forEach((x, i) => checkScalar(x, `${at}[${i}]`, problems, false));
        } else if (op === '$within') {
          if (typeof operand !== 'string')
            problems.push(`${at}: malformed condition: $within expects a unit code or \${principal.unit}`);
          else checkScalar(operand, at, problems, false);
        } else {
          checkScalar(operand, at, problems, false);
        }
      }
    }
  };
  walk(conditions, 'conditions');
  return problems;
}

/** True when the conditions mention `${principal.sub}` (the compiled-ability cache then keys on it). */
export function mentionsSub(conditions: unknown): boolean {
  return JSON.stringify(conditions ?? null).includes('${principal.sub}');
}

/**
 * Replaces placeholders by the principal's values, as data: a placeholder is only ever a whole
 * value, never spliced into text, and nothing is evaluated. A `$within` of an absent unit can
 * match nothing, and becomes `$in: []` so it also translates to SQL `false`.
 */
export function substitute(conditions: Record<string, unknown>, p: Principal): Record<string, unknown> {
  const value = (x: unknown): unknown => {
    if (x === '${principal.unit}') return p.unit;
    if (x === '${principal.sub}') return p.sub;
    if (x === '${principal.purposes}') return [...p.purposes];
    if (Array.isArray(x)) return x.map(value);
    if (isPlainObject(x)) {
      const out: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(x)) {
        const sub = value(val);
        if (k === '$within' && typeof sub !== 'string') out.$in = [];
        else out[k] = sub;
      }
      return out;
    }
    return x;
  };
  return value(conditions) as Record<string, unknown>;
}

/** CASL's MongoDB matcher extended with `$within` (through its ucast condition interpreter). */
export const conditionsMatcher = buildMongoQueryMatcher(
  {
    $within: {
      type: 'field',
      validate(_instruction, value) {
        if (typeof value !== 'string') throw new Error('$within expects a unit code');
      },
    },
  },
  {
    within: (
      node: { field: string; value: unknown },
      object: unknown,
      ctx: { get(o: unknown, f: string): unknown },
    ) => {
      const unit = ctx.get(object, node.field);
      return typeof unit === 'string' && typeof node.value === 'string' && isWithin(unit, node.value);
    },
  },
);

interface AstNode {
  operator: string;
  field?: string;
  value: unknown;
}

/** Turns a compiled rule's condition tree (CASL's `rule.ast`) into the engine's Condition. */
export function astToCondition(node: AstNode): Condition {
  switch (node.operator) {
    case 'and':
    case 'or':
      return { op: node.operator, conditions: (node.value as AstNode[]).map(astToCondition) };
    case 'not':
      return { op: 'not', condition: astToCondition(node.value as AstNode) };
    case 'eq':
    case 'ne':
      return { op: node.operator, field: node.field!, value: node.value as Scalar };
    case 'in':
    case 'nin':
      return { op: node.operator, field: node.field!, value: node.value as unknown[] };
    case 'within':
      return { op: 'within', field: node.field!, value: node.value as string };
    default:
      throw new Error(`operator ${node.operator} has no plan form`);
  }
}

/**
 * Evaluates a Condition against attributes: the in-memory twin of plan-sql.ts. An attribute left
 * out is not null (a column is never absent): `eq` and `in` match it to nothing, so a plan's
 * requirement that an attribute be known (`in` a list of values, null included) fails closed.
 */
export function evaluate(c: Condition, attrs: Record<string, unknown>): boolean {
  const get = (f: string) => (Object.hasOwn(attrs, f) ? attrs[f] : undefined);
  switch (c.op) {
    case 'and':
      return c.conditions.every((x) => evaluate(x, attrs));
    case 'or':
      return c.conditions.some((x) => evaluate(x, attrs));
    case 'not':
      return !evaluate(c.condition, attrs);
    case 'eq':
      return get(c.field) === c.value;
    case 'ne':
      return get(c.field) !== c.value;
    case 'in':
      return c.value.includes(get(c.field));
    case 'nin':
      return !c.value.includes(get(c.field));
    case 'within': {
      const u = get(c.field);
      return typeof u === 'string' && isWithin(u, c.value);
    }
  }
}
