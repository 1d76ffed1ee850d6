import type { AuditEntryInput, AuditLog } from '../audit/audit.port.ts';
import type { Queryable, Sql } from '../db/database.ts';
import { DomainError } from '../shared/errors.ts';
import type { Principal } from '../identity/principal.ts';
import type { CatalogAccess, PolicyInForce, Rule } from './catalog.access.ts';
import { findDataset, type DatasetRow } from './catalog.repo.ts';
import { datasetAttributes } from './catalog.view.ts';
import type { ExemptionLimits } from './exemption-rules.ts';

/** What the catalog services share: the database, the audit log, the policy engine. */
export interface CatalogDeps {
  sql: Sql;
  audit: AuditLog;
  policy: PolicyInForce;
  /** Limits of exemption periods and review dates (config; defaults in exemption-rules.ts). */
  limits?: ExemptionLimits;
  /**
   * Range-filterable fields: at most `max` per dataset (each is an index on the records), and
   * `changed` is told after a declaration is committed (the records' index builder runs then).
   */
  rangeFilters?: { max: number; changed: () => void };
}

/** Per-request facts that go into audit entries. */
export interface RequestContext {
  requestId?: string | null;
  traceId?: string | null;
}

export function auditPrincipal(p: Principal): AuditEntryInput['principal'] {
  return { sub: p.sub, kind: p.kind, roles: [...p.roles], unit: p.unit };
}

/** The part of an audit entry that says an allowed change was decided by `rule` in this request. */
export function allowedBy(rule: Rule, ctx: RequestContext) {
  return {
    effect: 'allow' as const,
    ruleId: rule.ruleId,
    reason: rule.reason,
    policyVersion: rule.policyVersion,
    requestId: ctx.requestId ?? null,
    traceId: ctx.traceId ?? null,
  };
}

/** The same 404 for a dataset that does not exist and one the caller may not see. */
export function notFound(id: string): DomainError {
  return new DomainError('NOT_FOUND', `There is no dataset ${id}.`);
}

/** Loads a dataset the caller may see (locked for update when asked), or throws the 404. */
export async function visibleDataset(
  sql: Queryable,
  access: CatalogAccess,
  p: Principal,
  id: string,
  forUpdate = false,
): Promise<DatasetRow> {
  const row = await findDataset(sql, id, { forUpdate });
  if (!row || !access.canRead(p, datasetAttributes(row)).allow) throw notFound(id);
  return row;
}

/** Throws FORBIDDEN when the decision denies (the policy's rules stay out of the answer). */
export function ensure(rule: Rule, action: string): Rule {
  if (!rule.allow) throw new DomainError('FORBIDDEN', `Not allowed to ${action}.`);
  return rule;
}

/**
 * Runs a catalog change; a refusal (FORBIDDEN, SELF_APPROVAL) is a decision too and goes to the log,
 * after the rolled-back transaction, before the error reaches the caller.
 */
export async function withDenialLogged<T>(
  deps: { audit: AuditLog; policy: PolicyInForce },
  p: Principal,
  action: string,
  id: string,
  ctx: RequestContext,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof DomainError && (error.code === 'FORBIDDEN' || error.code === 'SELF_APPROVAL')) {
      await deps.audit.append({
        event: 'decision',
        principal: auditPrincipal(p),
        action,
        resource: { type: 'Dataset', id },
        effect: 'deny',
        ruleId: null,
        reason: error.message,
        policyVersion: deps.policy.current().version,
        requestId: ctx.requestId ?? null,
        traceId: ctx.traceId ?? null,
      });
    }
    throw error;
  }
}
