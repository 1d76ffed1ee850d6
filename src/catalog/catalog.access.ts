import type { Principal } from '../identity/principal.ts';
import type { Condition, DatasetAttributes, Plan } from '../policy/engine.types.ts';
import { isWithin } from './unit-code.ts';

/**
 * EVERY catalog permission decision, in one place, so it can move to the policy engine
 * (src/policy, `policies/`) without touching the service. The defaults of issue 4:
 * - stewards create, update and label datasets within their unit (its whole subtree) and
 *   propose exemptions;
 * - PPID (information officers) also label, approve or reject exemptions and declassify
 *   within their unit;
 * - auditors read everything about labels within their unit and change nothing;
 * - staff and services read labelled datasets within their unit;
 * - anyone, the anonymous public included, reads public datasets;
 * - unlabelled datasets are seen only by stewards and PPID of the unit, the dataset's own
 *   steward, and administrators;
 * - administrators do everything (approving their own proposal included: never).
 *
 * Read scope is a Plan (engine.types.ts): the same condition is evaluated in memory for one
 * dataset (`canRead`) and translated to SQL for lists (catalog.repo.ts `planSql`).
 */

const ADMIN = 'admin';
const STEWARD = 'steward';
const PPID = 'ppid';
const AUDITOR = 'auditor';
/** Roles that read the labelled datasets of their unit. */
const UNIT_READERS = ['staff', STEWARD, PPID, AUDITOR, 'service'];

const has = (p: Principal, role: string) => p.roles.includes(role);
const hasAny = (p: Principal, roles: string[]) => roles.some((r) => p.roles.includes(r));
/** The principal's unit covers `unit` (the unit itself or its subtree). */
const covers = (p: Principal, unit: string) => p.unit !== null && isWithin(unit, p.unit);

export type Rule = { allow: boolean; reason: string };
const allow = (reason: string): Rule => ({ allow: true, reason });
const deny = (reason: string): Rule => ({ allow: false, reason });

/** Which datasets the principal may see (their catalog entry, labels included). */
export function readScope(p: Principal): Plan {
  if (has(p, ADMIN)) return { kind: 'always' };
  const anyOf: Condition[] = [{ op: 'eq', field: 'classification', value: 'public' }];
  if (p.unit !== null && hasAny(p, UNIT_READERS)) {
    anyOf.push({
      op: 'and',
      conditions: [
        { op: 'within', field: 'ownerUnit', value: p.unit },
        { op: 'ne', field: 'classification', value: null },
      ],
    });
  }
  if (p.unit !== null && hasAny(p, [STEWARD, PPID])) {
    anyOf.push({ op: 'within', field: 'ownerUnit', value: p.unit });
  }
  if (p.kind !== 'anonymous' && p.sub) {
    anyOf.push({ op: 'eq', field: 'steward', value: p.sub });
  }
  return { kind: 'conditional', condition: { op: 'or', conditions: anyOf } };
}

/** Evaluates a plan's condition against one dataset's attributes (the in-memory twin of planSql). */
export function matches(c: Condition, attrs: Record<string, unknown>): boolean {
  switch (c.op) {
    case 'and':
      return c.conditions.every((x) => matches(x, attrs));
    case 'or':
      return c.conditions.some((x) => matches(x, attrs));
    case 'not':
      return !matches(c.condition, attrs);
    case 'eq':
      return (attrs[c.field] ?? null) === c.value;
    case 'ne':
      return (attrs[c.field] ?? null) !== c.value;
    case 'in':
      return c.value.includes(attrs[c.field] ?? null);
    case 'nin':
      return !c.value.includes(attrs[c.field] ?? null);
    case 'within': {
      const v = attrs[c.field];
      return typeof v === 'string' && isWithin(v, c.value);
    }
  }
}

export function planAllows(plan: Plan, attrs: Record<string, unknown>): boolean {
  if (plan.kind === 'always') return true;
  if (plan.kind === 'never') return false;
  return matches(plan.condition, attrs);
}

export function canRead(p: Principal, d: DatasetAttributes): boolean {
  return planAllows(readScope(p), { ...d });
}

export function canCreate(p: Principal, ownerUnit: string): Rule {
  if (has(p, ADMIN)) return allow('administrator');
  if (has(p, STEWARD) && covers(p, ownerUnit)) return allow('steward within unit');
  return deny('only a steward of the owner unit (or an administrator) creates datasets there');
}

export function canUpdate(p: Principal, d: DatasetAttributes): Rule {
  if (has(p, ADMIN)) return allow('administrator');
  if (has(p, STEWARD) && covers(p, d.ownerUnit)) return allow('steward within unit');
  if (has(p, STEWARD) && p.sub !== null && d.steward === p.sub) return allow('the dataset’s steward');
  return deny('only a steward of the owner unit (or an administrator) changes a dataset');
}

/** Setting a label that is not less strict than the one in force, or proposing an exemption. */
export function canLabel(p: Principal, d: DatasetAttributes): Rule {
  if (has(p, ADMIN)) return allow('administrator');
  if (hasAny(p, [STEWARD, PPID]) && covers(p, d.ownerUnit)) return allow('steward or PPID within unit');
  return deny('only a steward or PPID of the owner unit (or an administrator) labels this dataset');
}

/** Moving a label to a less strict one (restricted → public, exempt → anything). */
export function canDeclassify(p: Principal, d: DatasetAttributes): Rule {
  if (has(p, ADMIN)) return allow('administrator');
  if (has(p, PPID) && covers(p, d.ownerUnit)) return allow('PPID within unit');
  return deny('only a PPID of the owner unit (or an administrator) declassifies');
}

/** Approving or rejecting an exemption proposal; never one's own (checked by the service). */
export function canApprove(p: Principal, d: DatasetAttributes): Rule {
  if (has(p, ADMIN)) return allow('administrator');
  if (has(p, PPID) && covers(p, d.ownerUnit)) return allow('PPID within unit');
  return deny('only a PPID of the owner unit decides exemptions');
}

export function isOwnProposal(p: Principal, proposedBy: string | null): boolean {
  return p.sub !== null && proposedBy !== null && p.sub === proposedBy;
}

export function canReadHistory(p: Principal, d: DatasetAttributes): Rule {
  if (has(p, ADMIN)) return allow('administrator');
  if (hasAny(p, [STEWARD, PPID, AUDITOR]) && covers(p, d.ownerUnit)) return allow('steward, PPID or auditor within unit');
  if (p.kind !== 'anonymous' && p.sub !== null && d.steward === p.sub) return allow('the dataset’s steward');
  return deny('the label history is for stewards, PPID and auditors of the owner unit');
}

/** Which exemptions' overdue reviews the principal may list; `never` means refused. */
export function overdueScope(p: Principal): Plan {
  if (has(p, ADMIN)) return { kind: 'always' };
  if (p.unit !== null && hasAny(p, [PPID, AUDITOR])) {
    return { kind: 'conditional', condition: { op: 'within', field: 'ownerUnit', value: p.unit } };
  }
  return { kind: 'never' };
}

export function canManageUnits(p: Principal): Rule {
  return has(p, ADMIN) ? allow('administrator') : deny('only administrators add units');
}
