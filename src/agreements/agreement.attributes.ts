import type { Principal } from '../identity/principal.ts';
import type { ContextAttributes } from '../policy/context-attributes.ts';
import type { SubjectType } from '../policy/engine.types.ts';
import { guardDecision } from './agreement.guard.ts';
import type { AgreementIndex } from './agreement.index.ts';
import { AGREEMENT_ATTRIBUTE, coverageOf, selectAgreement, type Agreement, type Selection } from './agreement.model.ts';

/**
 * The `agreement` attribute the policies name (policies/service.yaml): for a principal of kind
 * `service`, on a Dataset or Record `active` when an agreement active now names the principal,
 * covers the dataset and names the purpose; on a Field `whole` or `masked` as that agreement covers
 * it. Otherwise the reason code: NO_AGREEMENT, AGREEMENT_EXPIRED, PURPOSE_NOT_IN_AGREEMENT,
 * FIELD_NOT_IN_AGREEMENT. For any other principal it is null (its rules do not name it).
 */
export { AGREEMENT_ATTRIBUTE };

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The field's value of the attribute under a selection. */
export function fieldAgreement(selection: Selection, datasetId: string, field: unknown): string {
  if (!selection.agreement) return selection.code;
  return typeof field === 'string' ? coverageOf(selection.agreement, datasetId, field) : 'FIELD_NOT_IN_AGREEMENT';
}

/** The dataset's (or a record's) value of the attribute under a selection. */
export const datasetAgreement = (selection: Selection): string => (selection.agreement ? 'active' : selection.code);

/** `resource` with the attribute set (on a Dataset's `fields` too), and the agreement it rests on. */
export function withAgreement(
  agreements: readonly Agreement[],
  principal: Principal,
  subject: SubjectType,
  resource: Record<string, unknown>,
  purpose: string | null,
  now: number,
): { resource: Record<string, unknown>; agreementId: string | null } {
  const fields = Array.isArray(resource.fields) ? (resource.fields as unknown[]) : null;
  if (principal.kind !== 'service') {
    // Nothing to add; only a caller's own value is taken away.
    const given =
      Object.hasOwn(resource, AGREEMENT_ATTRIBUTE) ||
      fields?.some((f) => isObject(f) && Object.hasOwn(f, AGREEMENT_ATTRIBUTE));
    if (!given) return { resource, agreementId: null };
    return {
      resource: {
        ...resource,
        [AGREEMENT_ATTRIBUTE]: null,
        ...(fields ? { fields: fields.map((f) => (isObject(f) ? { ...f, [AGREEMENT_ATTRIBUTE]: null } : f)) } : {}),
      },
      agreementId: null,
    };
  }
  const datasetId = subject === 'Dataset' ? resource.id : resource.datasetId;
  if (typeof datasetId !== 'string' || !['Dataset', 'Field', 'Record'].includes(subject)) {
    return { resource: { ...resource, [AGREEMENT_ATTRIBUTE]: 'NO_AGREEMENT' }, agreementId: null };
  }
  const selection = selectAgreement(agreements, principal, datasetId, purpose, now);
  const agreementId = selection.agreement?.id ?? null;
  if (subject === 'Field')
    return {
      resource: { ...resource, [AGREEMENT_ATTRIBUTE]: fieldAgreement(selection, datasetId, resource.name) },
      agreementId,
    };
  return {
    resource: {
      ...resource,
      [AGREEMENT_ATTRIBUTE]: datasetAgreement(selection),
      ...(fields
        ? {
            fields: fields.map((f) =>
              isObject(f) ? { ...f, [AGREEMENT_ATTRIBUTE]: fieldAgreement(selection, datasetId, f.name) } : f,
            ),
          }
        : {}),
    },
    agreementId,
  };
}

/** The decision service's source of the attribute: agreements from memory (agreement.index.ts). */
export function agreementAttributes(index: AgreementIndex, now: () => number): ContextAttributes {
  return {
    async add(principal, subject, resource, purpose) {
      const list = principal.kind === 'service' && principal.sub !== null ? await index.naming(principal.sub) : [];
      return withAgreement(list, principal, subject, resource, purpose, now());
    },
    settle: guardDecision,
  };
}
