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
  /** Specific personal data a PPID declassified under UU 14/2008 art. 18(2); absent otherwise. */
  declassified?: boolean;
  /** For a service principal, how an agreement covers this field (src/policy/context-attributes.ts). */
  agreement?: string | null;
  /** For a service principal and an exempt field its agreement covers: `shared`, or why not (src/agreements). */
  agreementExempt?: string | null;
}

/** Attributes of a Record row (for row scope). */
export interface RecordAttributes {
  datasetId: string;
  ownerUnit: string;
  /** The office the record belongs to (row scope); falls back to the dataset's owner unit. */
  unit: string;
  classification: Classification | null;
}

export const MASK_KINDS = ['partial', 'pseudonym', 'generalise', 'redact'] as const;
export type MaskKind = (typeof MASK_KINDS)[number];

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
export type Plan = { kind: 'always' } | { kind: 'never' } | { kind: 'conditional'; condition: Condition };

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
  /** Set when the field is omitted for want of a (different) declared purpose: a purpose would change it. */
  needs?: 'purpose';
}

export interface PolicyEngine {
  readonly version: string;
  readonly roles: ReadonlySet<string>;
  decide(input: DecisionInput): Decision;
  /** `purpose`: rules constrained to purposes count only when it is declared, held and allowed. */
  plan(principal: Principal, action: Action, subject: SubjectType, purpose?: string | null): Plan;
  /** Field-by-field outcomes of reading `fields` of a dataset, for this principal and purpose. */
  decideFields(principal: Principal, fields: FieldAttributes[], purpose: string | null): FieldDecision[];
}

/**
 * The attributes a policy condition (and a rule's `fields`) may name, per subject type. The
 * Dataset, Field and Record lists mirror the interfaces above; the others are what catalog and
 * audit pass for labels, audit entries and units. Record `fields` are the dataset's own field
 * names, so any name is accepted there. `agreement` (and a Field's `agreementExempt`) is added per
 * principal and purpose before a decision (context-attributes.ts; src/agreements): null for any
 * principal but a service.
 */
export const SUBJECT_ATTRIBUTES = {
  Dataset: [
    'id',
    'ownerUnit',
    'classification',
    'labelPending',
    'labelVersion',
    'steward',
    'sourceSystem',
    'agreement',
  ],
  Field: [
    'datasetId',
    'ownerUnit',
    'name',
    'classification',
    'personalData',
    'personalDataKind',
    'declassified',
    'agreement',
    'agreementExempt',
  ],
  Record: ['datasetId', 'ownerUnit', 'unit', 'classification', 'agreement'],
  Label: ['datasetId', 'ownerUnit', 'classification', 'labelPending', 'steward', 'proposedBy'],
  AuditEntry: ['unit', 'datasetId'],
  Policy: [],
  Unit: ['code', 'parent'],
} as const satisfies Record<SubjectType, readonly string[]>;

/**
 * Resolves a resource named by id (POST /v1/check with `resource: { type, id }`) to its current
 * attributes, or null when unknown. A Dataset may carry `fields: FieldAttributes[]`, used for
 * field decisions. The catalog provides datasets; unknown ids are denied, never an error.
 */
export interface ResourceResolver {
  resolve(type: SubjectType, id: string): Promise<Record<string, unknown> | null>;
}
