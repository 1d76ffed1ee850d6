import { PERSONAL_DATA } from '../catalog/catalog.schema.ts';
import { kindOfCategory, stricter } from '../catalog/label-rules.ts';
import { isName } from './decision.schema.ts';
import type { Classification, Condition, FieldAttributes, PersonalDataKind } from './engine.types.ts';

/**
 * What the engine needs to know about a label or a field before it decides anything about it.
 * A field is decided only when every attribute a rule may name is known; anything not said, or
 * said in a way Jaga does not know, is decided as the strictest case: the field is withheld, with
 * a reason naming what is missing. Callers describe fields (check by attributes, AuthZEN), so the
 * engine never assumes a value for them.
 */

const CLASSIFICATIONS: readonly (Classification | null)[] = ['public', 'restricted', 'exempt', null];
const KINDS: readonly PersonalDataKind[] = ['none', 'general', 'specific'];
const KIND_RANK: Record<PersonalDataKind, number> = { none: 0, general: 1, specific: 2 };

const given = (o: Record<string, unknown>, key: string) => Object.hasOwn(o, key) && o[key] !== undefined;
export const isClassification = (x: unknown): x is Classification | null =>
  CLASSIFICATIONS.includes(x as Classification | null);
const show = (x: unknown) => (typeof x === 'string' ? `"${x.slice(0, 40)}"` : typeof x);

/** Why the classification in `o` is not known (absent, or not a label Jaga has); null when it is. */
export function labelProblem(o: Record<string, unknown>): string | null {
  if (!given(o, 'classification')) return 'its classification is not given';
  if (!isClassification(o.classification)) return `its classification ${show(o.classification)} is not one Jaga knows`;
  return null;
}

export type Described = { ok: true; field: FieldAttributes } | { ok: false; name: string; problem: string };

/**
 * A field's attributes, checked: the personal-data kind comes from `personalDataKind` and from the
 * category `personalData` (the stricter when both are given, as a category fixes its kind); the
 * category may be left out only when the kind is `none`.
 */
export function describeField(o: Record<string, unknown>): Described {
  const name = typeof o.name === 'string' ? o.name : '';
  const fail = (problem: string): Described => ({ ok: false, name, problem });
  for (const key of ['name', 'datasetId', 'ownerUnit'] as const) {
    if (typeof o[key] !== 'string' || o[key] === '') return fail(`its ${key} is not given`);
  }
  if (!isName(name)) return fail('its name is not a field name');
  const label = labelProblem(o);
  if (label) return fail(label);
  let kind: PersonalDataKind | null = null;
  if (given(o, 'personalDataKind')) {
    if (!KINDS.includes(o.personalDataKind as PersonalDataKind))
      return fail(`its personal-data kind ${show(o.personalDataKind)} is not one Jaga knows`);
    kind = o.personalDataKind as PersonalDataKind;
  }
  let category: string | null = null;
  if (given(o, 'personalData')) {
    const fromCategory = typeof o.personalData === 'string' ? kindOfCategory(o.personalData) : null;
    if (!fromCategory) return fail(`its personal-data category ${show(o.personalData)} is not one Jaga knows`);
    category = o.personalData as string;
    kind = kind === null || KIND_RANK[fromCategory] > KIND_RANK[kind] ? fromCategory : kind;
  }
  if (kind === null) return fail('its personal-data kind is not given');
  if (category === null) {
    if (kind !== 'none') return fail('its personal-data category is not given');
    category = 'none';
  }
  return {
    ok: true,
    field: {
      datasetId: o.datasetId as string,
      ownerUnit: o.ownerUnit as string,
      name,
      classification: o.classification as Classification | null,
      personalData: category,
      personalDataKind: kind,
      // Only a literal true counts (anything else is read as not declassified: fail closed).
      ...(o.declassified === true ? { declassified: true } : {}),
      ...(given(o, 'agreement') ? { agreement: o.agreement as string | null } : {}),
      ...(given(o, 'agreementExempt') ? { agreementExempt: o.agreementExempt as string | null } : {}),
    },
  };
}

/**
 * A dataset's data field as described in the dataset's `fields`: dataset id and owner come from the
 * dataset; its label is the stricter of its own and the dataset's (either may be left out, not both).
 */
export function datasetFieldAttributes(
  dataset: Record<string, unknown>,
  meta: Record<string, unknown>,
  name: string,
): Record<string, unknown> {
  const own = given(meta, 'classification');
  const inherited = given(dataset, 'classification');
  let classification: unknown;
  if (own && inherited && isClassification(meta.classification) && isClassification(dataset.classification)) {
    classification = stricter(meta.classification, dataset.classification);
  } else if (own && inherited) {
    classification = isClassification(meta.classification) ? dataset.classification : meta.classification; // the unknown one
  } else classification = own ? meta.classification : dataset.classification;
  return {
    ...meta,
    name,
    datasetId: dataset.id ?? meta.datasetId,
    ownerUnit: dataset.ownerUnit ?? meta.ownerUnit,
    classification,
  };
}

/**
 * What a Field plan requires of every field it admits: a label, a personal-data kind and category
 * Jaga knows, and the other attributes present. Evaluated in memory (conditions.ts `evaluate`) an
 * absent classification is not null, so it fails this too; a client's own evaluator must not read
 * an absent attribute as null either.
 */
export const KNOWN_FIELD: Condition = {
  op: 'and',
  conditions: [
    { op: 'in', field: 'classification', value: [...CLASSIFICATIONS] },
    { op: 'in', field: 'personalDataKind', value: [...KINDS] },
    { op: 'in', field: 'personalData', value: [...PERSONAL_DATA] },
    { op: 'ne', field: 'name', value: null },
    { op: 'ne', field: 'datasetId', value: null },
    { op: 'ne', field: 'ownerUnit', value: null },
  ],
};

/** The fields a rule without `purposes` may grant: public, or neither exempt nor personal data (engine invariant). */
export const NOT_SENSITIVE: Condition = {
  op: 'or',
  conditions: [
    { op: 'eq', field: 'classification', value: 'public' },
    {
      op: 'and',
      conditions: [
        { op: 'ne', field: 'classification', value: 'exempt' },
        { op: 'eq', field: 'personalDataKind', value: 'none' },
      ],
    },
  ],
};
