import { DomainError } from '../shared/errors.ts';
import type { Principal } from '../identity/principal.ts';
import type { Condition, PolicyEngine } from '../policy/engine.types.ts';

/**
 * What part of the log a caller may read: all of it, or the entries for which the policy's
 * condition on `AuditEntry` (attributes `unit`, `datasetId`) holds — where an entry's `unit` is
 * its principal's unit **or** its resource's unit (an entry touching the unit from either side).
 */
export type AuditScope = { kind: 'all' } | { kind: 'where'; condition: Condition };

export type AuditUse = 'entries' | 'reports' | 'verify';

export type AuditAccess =
  | { allow: true; scope: AuditScope; ruleId: string | null; reason: string; policyVersion: string }
  | { allow: false; error: DomainError; ruleId: string | null; reason: string; policyVersion: string };

/**
 * The one access check of the audit routes, through the policy engine: action `audit` on
 * subject `AuditEntry` (policies/auditor.yaml: every entry; policies/ppid.yaml: entries within
 * the PPID's unit). Entries and reports are filtered by the engine's plan; verifying the chain
 * and taking checkpoints look at every entry, so they need the plan to be `always`.
 */
export function auditScope(engine: PolicyEngine, p: Principal, use: AuditUse): AuditAccess {
  const policyVersion = engine.version;
  if (p.kind === 'anonymous') {
    const error = new DomainError('UNAUTHENTICATED', 'The audit log needs a bearer token.');
    return { allow: false, error, ruleId: null, reason: error.message, policyVersion };
  }
  const plan = engine.plan(p, 'audit', 'AuditEntry');
  // The rule that lets the caller read entries of their own unit names the grant in the log.
  const own = engine.decide({
    principal: p,
    action: 'audit',
    subject: 'AuditEntry',
    resource: { unit: p.unit, datasetId: null },
  });
  const ruleId = own.allow ? own.ruleId : null;
  const refuse = (detail: string): AuditAccess => ({
    allow: false,
    error: new DomainError('FORBIDDEN', detail),
    ruleId,
    reason: detail,
    policyVersion,
  });
  if (plan.kind === 'never') return refuse('Reading the audit log needs the auditor role (or ppid, within the unit).');
  if (use === 'verify' && plan.kind !== 'always')
    return refuse('Verifying the chain and taking checkpoints need audit rights over every entry (auditor).');
  if (plan.kind === 'always')
    return {
      allow: true,
      scope: { kind: 'all' },
      ruleId,
      reason: own.allow ? own.reason : 'may audit every entry',
      policyVersion,
    };
  return {
    allow: true,
    scope: { kind: 'where', condition: plan.condition },
    ruleId,
    reason: own.allow ? own.reason : 'may audit some entries',
    policyVersion,
  };
}
