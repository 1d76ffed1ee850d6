import type { Principal } from '../identity/principal.ts';

/**
 * The contract of the policy engine (src/policy). Catalog, records and the decision API all ask
 * it; nothing else decides. Resource attribute names below are fixed: catalog and records
 * build them, policies' conditions refer to them.
 */
export const ACTIONS = ['read', 'create', 'update', 'label', 'approve', 'ingest', 'audit', 'check', 'manage'] as const;
export type Action = (typeof ACTIONS)[number];
export const SUBJECT_TYPES = ['Dataset', 'Field', 'Record', 'Label', 'AuditEntry', 'Policy', 'Unit'] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];

export type Classification = 'public' | 'restricted' | 'exempt';
export type PersonalDataKind = 'none' | 'general' | 'specific';

/** Attributes of a Dataset (also the base of Field and Record attributes). */
export interface DatasetAttributes {
  id: string;
  ownerUnit: string;
  /** null when unlabelled; a pending exemption proposal counts as 'exempt' (fail closed). */
  classification: Classification | null;
  labelPending: boolean;
  labelVersion: number;
  steward: string | null;
  sourceSystem: string | null;
}

/** Attributes of one Field of a dataset. */
export interface FieldAttributes {
  datasetId: string;
  ownerUnit: string;
  name: string;
  /** The stricter of the field's own label and the dataset's; null when the dataset is unlabelled. */
  classification: Classification | null;
  personalData: string; // 'none' or a category name (api-contract.md)
  personalDataKind: PersonalDataKind;
}

/** Attributes of a Record row (for row scope). */
export interface RecordAttributes {
  datasetId: string;
  ownerUnit: string;
  /** The office the record belongs to (row scope); falls back to the dataset's owner unit. */
  unit: string;
  classification: Classification | null;
}

export type MaskKind = 'partial' | 'pseudonym' | 'generalise' | 'redact';

export interface Decision {
  allow: boolean;
  reason: string;
  ruleId: string | null;
  policyVersion: string;
  fields: { allowed: string[]; masked: string[]; denied: string[] };
  /** For each masked field, the mask the deciding rule chose. */
  masks: Record<string, MaskKind>;
}

export interface DecisionInput {
  principal: Principal;
  action: Action;
  subject: SubjectType;
  resource?: Record<string, unknown>;
  fields?: string[];
  purpose?: string | null;
}

/** "Which resources of this type may P do A on?": for list endpoints and /v1/plan. */
export type Plan =
  | { kind: 'always' }
  | { kind: 'never' }
  | { kind: 'conditional'; condition: Condition };

export type Condition =
  | { op: 'and' | 'or'; conditions: Condition[] }
  | { op: 'not'; condition: Condition }
  | { op: 'eq' | 'ne'; field: string; value: unknown }
  | { op: 'in' | 'nin'; field: string; value: unknown[] }
  | { op: 'within'; field: string; value: string };

/** Per-field outcome of an enforced read of a dataset's records. */
export interface FieldDecision {
  field: string;
  outcome: 'whole' | 'masked' | 'omitted';
  mask?: MaskKind;
  ruleId: string | null;
  reason: string;
}

export interface PolicyEngine {
  readonly version: string;
  readonly roles: ReadonlySet<string>;
  decide(input: DecisionInput): Decision;
  plan(principal: Principal, action: Action, subject: SubjectType): Plan;
  /** Field-by-field outcomes of reading `fields` of a dataset, for this principal and purpose. */
  decideFields(principal: Principal, fields: FieldAttributes[], purpose: string | null): FieldDecision[];
}
