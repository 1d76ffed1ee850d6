import * as v from 'valibot';
import { isName as isNameText, NameText, NAME_MAX, nameMessage, storableJson } from '../shared/text.ts';
import { ACTIONS, MASK_KINDS, SUBJECT_TYPES } from './engine.types.ts';

/**
 * Schemas of the decision API (/v1/check, /v1/check/batch, /v1/plan) and the AuthZEN endpoints.
 * Every decision is logged: whatever reaches the audit entry (subjects, roles, units, purposes,
 * resource ids, field names) is a name in the sense of src/shared/text.ts, and every other string
 * (attributes, properties, context) is storable, so nothing here can make the log refuse an entry
 * or store something other than what its hash covers.
 */
export const Name = NameText(NAME_MAX);
/** True for a string the audit log records as given (a name in the sense of src/shared/text.ts). */
export const isName = (x: unknown): x is string => typeof x === 'string' && isNameText(x, NAME_MAX);

/** Attributes (or AuthZEN properties): any JSON, every string storable; those the log records are names. */
const recorded = (keys: readonly string[]) =>
  v.pipe(
    v.record(v.string(), v.unknown()),
    storableJson<Record<string, unknown>>(),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      for (const key of keys) {
        const value = dataset.value[key];
        const values = Array.isArray(value) ? value : [value];
        if (values.some((x) => typeof x === 'string' && !isName(x))) {
          addIssue({
            message: `${key} ${nameMessage(NAME_MAX)}`,
            path: [{ type: 'object', origin: 'value', input: dataset.value, key, value }],
          });
        }
      }
    }),
  );
/** Resource attributes: `id`, `classification` and `labelVersion` go into the audit entry. */
const ResourceAttributes = v.pipe(
  recorded(['id', 'classification']),
  v.check(
    (a) =>
      a.labelVersion === undefined ||
      typeof a.labelVersion !== 'number' ||
      (Number.isSafeInteger(a.labelVersion) && a.labelVersion >= 0 && a.labelVersion <= 2 ** 31 - 1),
    'labelVersion must be an integer from 0 to 2147483647',
  ),
);

export const PrincipalInput = v.strictObject({
  sub: v.nullable(Name),
  kind: v.optional(v.picklist(['user', 'service', 'anonymous'])),
  roles: v.pipe(v.array(Name), v.maxLength(50)),
  unit: v.optional(v.nullable(Name)),
  purposes: v.optional(v.pipe(v.array(Name), v.maxLength(50))),
});

export const ResourceInput = v.pipe(
  v.strictObject({
    type: v.picklist(SUBJECT_TYPES),
    id: v.optional(Name),
    attributes: v.optional(ResourceAttributes),
  }),
  v.check((r) => r.id !== undefined || r.attributes !== undefined, 'give the resource an id or its attributes'),
);

export const CheckInput = v.strictObject({
  /** Someone else than the caller: only for callers granted `check` on Policy. */
  principal: v.optional(PrincipalInput),
  action: v.picklist(ACTIONS),
  resource: ResourceInput,
  fields: v.optional(v.pipe(v.array(Name), v.maxLength(1000))),
  purpose: v.optional(v.nullable(Name)),
});
export type CheckInput = v.InferOutput<typeof CheckInput>;

export const BatchInput = v.strictObject({
  checks: v.pipe(v.array(v.unknown()), v.minLength(1, 'give at least one check')),
});

const Fields = v.object({ allowed: v.array(v.string()), masked: v.array(v.string()), denied: v.array(v.string()) });

export const ExplainOutput = v.object({
  decidedBy: v.nullable(v.string()),
  considered: v.array(
    v.object({
      ruleId: v.string(),
      role: v.string(),
      effect: v.picklist(['allow', 'deny']),
      matched: v.boolean(),
      note: v.optional(v.string()),
    }),
  ),
});

export const CheckOutput = v.object({
  decisionId: v.string(),
  allow: v.boolean(),
  reason: v.string(),
  ruleId: v.nullable(v.string()),
  policyVersion: v.string(),
  fields: Fields,
  masks: v.record(v.string(), v.picklist(MASK_KINDS)),
  explain: v.optional(ExplainOutput),
});
export type CheckOutput = v.InferOutput<typeof CheckOutput>;

export const BatchOutput = v.object({ policyVersion: v.string(), results: v.array(CheckOutput) });

export const ExplainQuery = v.object({ explain: v.optional(v.picklist(['true', 'false'])) });

export const PlanInput = v.strictObject({
  principal: v.optional(PrincipalInput),
  action: v.picklist(ACTIONS),
  resourceType: v.picklist(SUBJECT_TYPES),
  purpose: v.optional(v.nullable(Name)),
});

/** The engine's Condition as JSON (engine.types.ts). */
export const ConditionOutput = v.record(v.string(), v.unknown());

export const PlanOutput = v.object({
  decisionId: v.string(),
  kind: v.picklist(['always', 'never', 'conditional']),
  condition: v.optional(ConditionOutput),
  policyVersion: v.string(),
});

export const ReloadOutput = v.object({
  ok: v.literal(true),
  version: v.string(),
  changed: v.boolean(),
  roles: v.array(v.string()),
  rules: v.number(),
});

// OpenID AuthZEN Authorization API 1.0: subject, action, resource, context.
// Subject properties give the principal (roles, unit, purposes), resource properties the
// attributes (id, classification), context the purpose and fields: all recorded in the log.
const Subject = v.object({ type: Name, id: Name, properties: v.optional(recorded(['roles', 'unit', 'purposes'])) });
const Resource = v.object({ type: Name, id: Name, properties: v.optional(ResourceAttributes) });
const AzAction = v.object({ name: Name, properties: v.optional(recorded([])) });
const AzContext = recorded(['purpose', 'fields']);

export const EvaluationInput = v.object({
  subject: Subject,
  action: AzAction,
  resource: Resource,
  context: v.optional(AzContext),
});
export type EvaluationInput = v.InferOutput<typeof EvaluationInput>;

export const EvaluationsInput = v.object({
  subject: v.optional(Subject),
  action: v.optional(AzAction),
  resource: v.optional(Resource),
  context: v.optional(AzContext),
  evaluations: v.optional(
    v.array(
      v.object({
        subject: v.optional(Subject),
        action: v.optional(AzAction),
        resource: v.optional(Resource),
        context: v.optional(AzContext),
      }),
    ),
  ),
  options: v.optional(
    v.object({
      evaluations_semantic: v.optional(v.picklist(['execute_all', 'deny_on_first_deny', 'permit_on_first_permit'])),
    }),
  ),
});

export const EvaluationOutput = v.object({
  decision: v.boolean(),
  context: v.optional(v.record(v.string(), v.unknown())),
});
export const EvaluationsOutput = v.object({ evaluations: v.array(EvaluationOutput) });
