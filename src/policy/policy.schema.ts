import * as v from 'valibot';
import { storable } from '../shared/text.ts';
import { ACTIONS, MASK_KINDS, SUBJECT_TYPES } from './engine.types.ts';

/**
 * The shape of one policy file (`policies/<role>.yaml`). Conditions are checked separately
 * (conditions.ts) because what they may name depends on the rule's subject.
 */
const ActionName = v.picklist(
  ACTIONS,
  (i) => `unknown action ${JSON.stringify(i.input)} (expected one of ${ACTIONS.join(', ')})`,
);
/** `all` is CASL's wildcard subject (used by `manage all`). */
const SUBJECTS = [...SUBJECT_TYPES, 'all'] as const;
const SubjectName = v.picklist(
  SUBJECTS,
  (i) => `unknown subject ${JSON.stringify(i.input)} (expected one of ${SUBJECTS.join(', ')})`,
);
const oneOrMany = <S extends v.GenericSchema>(s: S) =>
  v.union(
    [s, v.pipe(v.array(s), v.minLength(1, 'expected at least one'))],
    (i) => i.issues?.[0]?.message ?? `expected a name or a list of names`,
  );

/** strictObject reports both unknown and missing keys through the object's message. */
function keyMessage(i: { expected: string | null; received: string }): string {
  const unquote = (s: string | null) => String(s).replaceAll('"', '');
  if (i.expected === 'never') return `unknown key ${unquote(i.received)}`;
  if (i.expected === '"reason"') return 'every rule needs a reason';
  return `missing key ${unquote(i.expected)}`;
}

export const RuleSchema = v.strictObject(
  {
    id: v.pipe(
      v.string('expected a rule id'),
      v.regex(/^[a-z][a-z0-9._-]{0,99}$/, 'a rule id is lower-case letters, digits, dots, dashes'),
    ),
    action: oneOrMany(ActionName),
    subject: oneOrMany(SubjectName),
    conditions: v.optional(v.record(v.string(), v.unknown(), 'conditions must be a mapping')),
    fields: v.optional(
      v.pipe(v.array(v.string('a field name is a string')), v.minLength(1, 'fields must not be empty')),
    ),
    inverted: v.optional(v.boolean('inverted must be true or false')),
    // Every decision's audit entry carries its rule's reason.
    reason: v.pipe(
      v.string('every rule needs a reason'),
      v.minLength(1, 'every rule needs a reason'),
      storable('a reason must not contain a NUL character or a lone UTF-16 surrogate'),
    ),
    mask: v.optional(v.picklist(MASK_KINDS, `unknown mask (expected one of ${MASK_KINDS.join(', ')})`)),
    /**
     * The rule counts only for a declared purpose the principal holds and this list allows
     * (`registered`: any held purpose the register of processing purposes allows for the data;
     * `any`: the same, kept for older sets). Every purpose must be registered (purpose-register.ts).
     */
    purposes: v.optional(
      v.union(
        [
          v.literal('any'),
          v.literal('registered'),
          v.pipe(v.array(v.string()), v.minLength(1, 'purposes must not be empty')),
        ],
        'purposes is `registered`, `any` or a list of purpose names',
      ),
    ),
  },
  (i) => keyMessage(i),
);

export const PolicyFileSchema = v.strictObject(
  {
    role: v.pipe(
      v.string('expected the role name'),
      v.regex(/^[a-z][a-z0-9_-]{0,49}$/, 'a role name is lower-case letters, digits, - and _'),
    ),
    description: v.optional(v.string()),
    rules: v.array(RuleSchema, 'rules must be a list'),
  },
  (i) => keyMessage(i),
);

export type RuleInput = v.InferOutput<typeof RuleSchema>;
export type PolicyFile = v.InferOutput<typeof PolicyFileSchema>;
