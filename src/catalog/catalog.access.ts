import type { Principal } from '../identity/principal.ts';
import type { Action, DatasetAttributes, PolicyEngine, Plan, SubjectType } from '../policy/engine.types.ts';

/**
 * EVERY catalog permission decision, in one place. The decisions themselves come from the
 * policy engine (src/policy, `policies/*.yaml`); this module only says which question each
 * catalog operation asks:
 *
 * | operation                          | action   | subject | attributes          |
 * |------------------------------------|----------|---------|---------------------|
 * | see a dataset (read, list: a plan) | read     | Dataset | DatasetAttributes   |
 * | create                             | create   | Dataset | ownerUnit (+ nulls) |
 * | change metadata and fields         | update   | Dataset | DatasetAttributes   |
 * | label, propose an exemption        | label    | Dataset | DatasetAttributes   |
 * | declassify (a less strict label)   | approve  | Label   | LabelAttributes     |
 * | approve / reject an exemption      | approve  | Label   | LabelAttributes     |
 * | read the label history             | read     | Label   | LabelAttributes     |
 * | overdue-review list (a plan)       | read     | Label   | + role ppid/auditor |
 * | add a unit                         | create   | Unit    | code, parent        |
 *
 * Two rules are also the catalog's own: a proposal is never decided by its proposer (checked
 * first by the service with `isOwnProposal`, for its own error code SELF_APPROVAL; the policies
 * say the same), and the overdue-review list is for PPID, auditors and administrators
 * (issue 4), on top of what `read Label` allows.
 */

export interface Rule {
  allow: boolean;
  reason: string;
  ruleId: string | null;
  policyVersion: string | null;
}

/** The attributes of a dataset's label (engine.types.ts SUBJECT_ATTRIBUTES.Label). */
export interface LabelAttributes {
  datasetId: string;
  ownerUnit: string;
  classification: DatasetAttributes['classification'];
  labelPending: boolean;
  steward: string | null;
  proposedBy: string | null;
}

export function labelAttributes(d: DatasetAttributes, proposedBy: string | null): LabelAttributes {
  return {
    datasetId: d.id,
    ownerUnit: d.ownerUnit,
    classification: d.classification,
    labelPending: d.labelPending,
    steward: d.steward,
    proposedBy,
  };
}

export interface CatalogAccess {
  /** The policy version decisions are taken under (for audit entries). */
  readonly policyVersion: string;
  /** Which datasets the principal may see: translated to SQL for lists (catalog.repo.ts). */
  readScope(p: Principal): Plan;
  canRead(p: Principal, d: DatasetAttributes): Rule;
  canCreate(p: Principal, ownerUnit: string): Rule;
  canUpdate(p: Principal, d: DatasetAttributes): Rule;
  canLabel(p: Principal, d: DatasetAttributes): Rule;
  canDeclassify(p: Principal, d: DatasetAttributes, proposedBy: string | null): Rule;
  /** The engine also refuses the proposer (policies' no-self-approval rules: `proposedBy`). */
  canApprove(p: Principal, d: DatasetAttributes, proposedBy: string | null): Rule;
  canReadHistory(p: Principal, d: DatasetAttributes, proposedBy: string | null): Rule;
  /** Which exemptions' overdue reviews the principal may list; `never` means refused. */
  overdueScope(p: Principal): Plan;
  canManageUnits(p: Principal, unit: { code: string; parent: string | null }): Rule;
}

/** Roles that keep the overdue-review list (issue 4: PPID and auditors; administrators). */
const OVERDUE_ROLES = ['ppid', 'auditor', 'admin'];

/**
 * Catalog access through one snapshot of the policy engine. Build one per request (or per
 * service call) so every decision of an operation is taken under the same policy version.
 */
export function catalogAccess(engine: PolicyEngine): CatalogAccess {
  const decide = (p: Principal, action: Action, subject: SubjectType, resource: object): Rule => {
    const d = engine.decide({ principal: p, action, subject, resource: { ...resource } });
    return { allow: d.allow, reason: d.reason, ruleId: d.ruleId, policyVersion: d.policyVersion };
  };
  return {
    policyVersion: engine.version,
    readScope: (p) => engine.plan(p, 'read', 'Dataset'),
    canRead: (p, d) => decide(p, 'read', 'Dataset', d),
    canCreate: (p, ownerUnit) =>
      decide(p, 'create', 'Dataset', {
        ownerUnit,
        classification: null,
        labelPending: false,
        labelVersion: 0,
        steward: p.sub,
        sourceSystem: null,
      }),
    canUpdate: (p, d) => decide(p, 'update', 'Dataset', d),
    canLabel: (p, d) => decide(p, 'label', 'Dataset', d),
    canDeclassify: (p, d, proposedBy) => decide(p, 'approve', 'Label', labelAttributes(d, proposedBy)),
    canApprove: (p, d, proposedBy) => decide(p, 'approve', 'Label', labelAttributes(d, proposedBy)),
    canReadHistory: (p, d, proposedBy) => decide(p, 'read', 'Label', labelAttributes(d, proposedBy)),
    overdueScope: (p) =>
      p.roles.some((r) => OVERDUE_ROLES.includes(r)) ? engine.plan(p, 'read', 'Label') : { kind: 'never' },
    canManageUnits: (p, unit) => decide(p, 'create', 'Unit', unit),
  };
}

export function isOwnProposal(p: Principal, proposedBy: string | null): boolean {
  return p.sub !== null && proposedBy !== null && p.sub === proposedBy;
}

/** Where the catalog gets its engine: `deps.services.policy` (src/policy/policy.service.ts). */
export interface PolicyInForce {
  current(): PolicyEngine;
}
