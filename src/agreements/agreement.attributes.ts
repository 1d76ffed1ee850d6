import type { Principal } from '../identity/principal.ts';
import type { ContextAttributes } from '../policy/context-attributes.ts';
import type { SubjectType } from '../policy/engine.types.ts';
import { guardDecision } from './agreement.guard.ts';
import type { AgreementIndex } from './agreement.index.ts';
import { datasetFieldAttributes } from '../policy/field-attributes.ts';
import {
  AGREEMENT_ATTRIBUTE,
  AGREEMENT_EXEMPT_ATTRIBUTE,
  NO_SHARING,
  coverageOf,
  exemptSharing,
  selectAgreement,
  type Agreement,
  type DatasetSharing,
  type Selection,
} from './agreement.model.ts';

/**
 * The `agreement` attribute the policies name (policies/service.yaml): for a principal of kind
 * `service`, on a Dataset or Record `active` when an agreement active now names the principal,
 * covers the dataset and names the purpose; on a Field `whole` or `masked` as that agreement covers
 * it. Otherwise the reason code: NO_AGREEMENT, AGREEMENT_EXPIRED, PURPOSE_NOT_IN_AGREEMENT,
 * FIELD_NOT_IN_AGREEMENT. On an exempt Field the agreement covers, `agreementExempt` says whether
 * its exempt content may leave: `shared`, EXEMPT_NOT_IN_AGREEMENT or EXEMPTION_NOT_SHAREABLE.
 * For any other principal both are null (its rules do not name them).
 */
export { AGREEMENT_ATTRIBUTE, AGREEMENT_EXEMPT_ATTRIBUTE };

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The field's value of the attribute under a selection. */
export function fieldAgreement(selection: Selection, datasetId: string, field: unknown): string {
  if (!selection.agreement) return selection.code;
  return typeof field === 'string' ? coverageOf(selection.agreement, datasetId, field) : 'FIELD_NOT_IN_AGREEMENT';
}

/**
 * The field's `agreementExempt`: for an exempt field the agreement covers, `shared` when the
 * agreement opts in to its exempt content and its exemption record allows the agreement's legal
 * basis, else the code of what fails. Null for any other field (the `agreement` attribute decides).
 */
export function fieldExempt(
  selection: Selection,
  sharing: DatasetSharing,
  datasetId: string,
  field: unknown,
  classification: unknown,
): string | null {
  if (classification !== 'exempt' || !selection.agreement || typeof field !== 'string') return null;
  if (coverageOf(selection.agreement, datasetId, field) === 'FIELD_NOT_IN_AGREEMENT') return null;
  return exemptSharing(selection.agreement, datasetId, field, sharing);
}

/** A field (as a records read holds it) with both attributes set under a selection. */
export function withFieldAgreement<F extends { name: string; classification: unknown }>(
  selection: Selection,
  sharing: DatasetSharing,
  datasetId: string,
  f: F,
): F {
  return {
    ...f,
    [AGREEMENT_ATTRIBUTE]: fieldAgreement(selection, datasetId, f.name),
    [AGREEMENT_EXEMPT_ATTRIBUTE]: fieldExempt(selection, sharing, datasetId, f.name, f.classification),
  };
}

/** The dataset's (or a record's) value of the attribute under a selection. */
export const datasetAgreement = (selection: Selection): string => (selection.agreement ? 'active' : selection.code);

const ATTRIBUTES = [AGREEMENT_ATTRIBUTE, AGREEMENT_EXEMPT_ATTRIBUTE];
const given = (o: Record<string, unknown>) => ATTRIBUTES.some((a) => Object.hasOwn(o, a));
const cleared = (o: Record<string, unknown>) => ({
  ...o,
  [AGREEMENT_ATTRIBUTE]: null,
  [AGREEMENT_EXEMPT_ATTRIBUTE]: null,
});

/** The dataset a resource belongs to, when agreements can apply to it. */
export function datasetOf(subject: SubjectType, resource: Record<string, unknown>): string | null {
  const datasetId = subject === 'Dataset' ? resource.id : resource.datasetId;
  return typeof datasetId === 'string' && ['Dataset', 'Field', 'Record'].includes(subject) ? datasetId : null;
}

/** `resource` with the attributes set (on a Dataset's `fields` too), and the agreement it rests on. */
export function withAgreement(
  agreements: readonly Agreement[],
  sharing: DatasetSharing,
  principal: Principal,
  subject: SubjectType,
  resource: Record<string, unknown>,
  purpose: string | null,
  now: number,
): { resource: Record<string, unknown>; agreementId: string | null } {
  const fields = Array.isArray(resource.fields) ? (resource.fields as unknown[]) : null;
  if (principal.kind !== 'service') {
    // Nothing to add; only a caller's own value is taken away.
    if (!given(resource) && !fields?.some((f) => isObject(f) && given(f))) return { resource, agreementId: null };
    return {
      resource: {
        ...cleared(resource),
        ...(fields ? { fields: fields.map((f) => (isObject(f) ? cleared(f) : f)) } : {}),
      },
      agreementId: null,
    };
  }
  const datasetId = datasetOf(subject, resource);
  if (datasetId === null) {
    return {
      resource: { ...resource, [AGREEMENT_ATTRIBUTE]: 'NO_AGREEMENT', [AGREEMENT_EXEMPT_ATTRIBUTE]: null },
      agreementId: null,
    };
  }
  const selection = selectAgreement(agreements, principal, datasetId, purpose, now);
  const agreementId = selection.agreement?.id ?? null;
  if (subject === 'Field')
    return {
      resource: {
        ...resource,
        [AGREEMENT_ATTRIBUTE]: fieldAgreement(selection, datasetId, resource.name),
        [AGREEMENT_EXEMPT_ATTRIBUTE]: fieldExempt(
          selection,
          sharing,
          datasetId,
          resource.name,
          resource.classification,
        ),
      },
      agreementId,
    };
  return {
    resource: {
      ...resource,
      [AGREEMENT_ATTRIBUTE]: datasetAgreement(selection),
      [AGREEMENT_EXEMPT_ATTRIBUTE]: null,
      ...(fields
        ? {
            fields: fields.map((f) => {
              if (!isObject(f)) return f;
              const name = typeof f.name === 'string' ? f.name : '';
              // A field's label in a Dataset is the stricter of its own and the dataset's.
              const label = datasetFieldAttributes(resource, f, name).classification;
              return {
                ...f,
                [AGREEMENT_ATTRIBUTE]: fieldAgreement(selection, datasetId, f.name),
                [AGREEMENT_EXEMPT_ATTRIBUTE]: fieldExempt(selection, sharing, datasetId, f.name, label),
              };
            }),
          }
        : {}),
    },
    agreementId,
  };
}

/** The decision service's source of the attributes: agreements and DIK sharing lists from memory (agreement.index.ts). */
export function agreementAttributes(index: AgreementIndex, now: () => number): ContextAttributes {
  return {
    async add(principal, subject, resource, purpose) {
      const service = principal.kind === 'service' && principal.sub !== null;
      const list = service ? await index.naming(principal.sub!) : [];
      const datasetId = datasetOf(subject, resource);
      const sharing = service && list.length && datasetId !== null ? await index.sharing(datasetId) : NO_SHARING;
      return withAgreement(list, sharing, principal, subject, resource, purpose, now());
    },
    settle: guardDecision,
  };
}
