import type { Principal } from '../identity/principal.ts';
import type { Action, Decision, FieldDecision, SubjectType } from '../policy/engine.types.ts';
import { datasetFieldAttributes } from '../policy/field-attributes.ts';
import { AGREEMENT_ATTRIBUTE, AGREEMENT_EXEMPT_ATTRIBUTE } from './agreement.model.ts';

/**
 * The invariant behind policies/service.yaml, whatever other roles a token gives a principal of
 * kind `service` (a partner system given `staff` too): restricted or exempt data leaves only as its
 * agreement covers it — a field whole only when covered whole, masked (`partial`) when covered
 * masked, an exempt field only when also `agreementExempt: shared`, otherwise withheld with the
 * reason code; a Dataset or Record read only under an active agreement. Applied after the engine's decision, so a rule of another role cannot widen it.
 */
const NEEDS = 'service principals need an agreement that covers this data.';

const isPublic = (classification: unknown) => classification === 'public';
const codeOf = (value: unknown) => (typeof value === 'string' && value !== '' ? value : 'NO_AGREEMENT');

const EXEMPT_NEEDS =
  'exempt data leaves only where the agreement opts in to it and its exemption record allows sharing under the agreement’s legal basis.';

/**
 * One field's outcome for a service principal, capped by the field's `agreement` attribute, and for
 * an exempt field by its `agreementExempt` (both conditions must hold, else it is withheld).
 */
function capField(d: FieldDecision, classification: unknown, coverage: unknown, exempt: unknown): FieldDecision {
  if (d.outcome === 'omitted' || isPublic(classification)) return d;
  if (classification === 'exempt' && (coverage === 'whole' || coverage === 'masked') && exempt !== 'shared')
    return {
      field: d.field,
      outcome: 'omitted',
      ruleId: null,
      reason: `${typeof exempt === 'string' && exempt !== '' ? exempt : 'EXEMPT_NOT_IN_AGREEMENT'}: ${EXEMPT_NEEDS}`,
    };
  if (coverage === 'whole') return d;
  if (coverage === 'masked')
    return d.outcome === 'masked'
      ? d
      : { ...d, outcome: 'masked', mask: 'partial', reason: `masked as the agreement says; ${d.reason}` };
  return { field: d.field, outcome: 'omitted', ruleId: null, reason: `${codeOf(coverage)}: ${NEEDS}` };
}

/** Field decisions of a records read (fields carry `classification` and `agreement`). */
export function guardFields(
  principal: Principal,
  fields: readonly Record<string, unknown>[],
  decisions: FieldDecision[],
): FieldDecision[] {
  if (principal.kind !== 'service') return decisions;
  const byName = new Map(fields.map((f) => [f.name, f]));
  return decisions.map((d) => {
    const f = byName.get(d.field);
    return capField(d, f?.classification, f?.[AGREEMENT_ATTRIBUTE], f?.[AGREEMENT_EXEMPT_ATTRIBUTE]);
  });
}

/** A check's decision (the resource as decided, its `agreement` attribute set). */
export function guardDecision(
  principal: Principal,
  action: Action,
  subject: SubjectType,
  resource: Record<string, unknown>,
  decision: Decision,
): Decision {
  if (principal.kind !== 'service' || action !== 'read' || !decision.allow) return decision;
  if (subject === 'Field') {
    const capped = capField(
      {
        field: String(resource.name),
        outcome: decision.fields.allowed.length ? 'whole' : decision.fields.masked.length ? 'masked' : 'omitted',
        ruleId: decision.ruleId,
        reason: decision.reason,
      },
      resource.classification,
      resource[AGREEMENT_ATTRIBUTE],
      resource[AGREEMENT_EXEMPT_ATTRIBUTE],
    );
    if (capped.outcome === 'omitted')
      return {
        ...decision,
        allow: false,
        reason: capped.reason,
        ruleId: null,
        fields: { allowed: [], masked: [], denied: [capped.field] },
        masks: {},
      };
    if (capped.outcome === 'masked' && decision.fields.allowed.length)
      return {
        ...decision,
        fields: { allowed: [], masked: [capped.field], denied: [] },
        masks: { [capped.field]: 'partial' },
      };
    return decision;
  }
  if (subject !== 'Dataset' && subject !== 'Record') return decision;
  if (!isPublic(resource.classification) && resource[AGREEMENT_ATTRIBUTE] !== 'active') {
    const denied = [...decision.fields.allowed, ...decision.fields.masked, ...decision.fields.denied];
    return {
      ...decision,
      allow: false,
      reason: `${codeOf(resource[AGREEMENT_ATTRIBUTE])}: ${NEEDS}`,
      ruleId: null,
      fields: { allowed: [], masked: [], denied },
      masks: {},
    };
  }
  if (subject === 'Dataset' && Array.isArray(resource.fields)) {
    const metas = (resource.fields as unknown[]).filter(
      (f): f is Record<string, unknown> => typeof f === 'object' && f !== null,
    );
    const out: Decision['fields'] = { allowed: [], masked: [], denied: [...decision.fields.denied] };
    const masks = { ...decision.masks };
    const settle = (name: string, outcome: 'whole' | 'masked') => {
      const meta = metas.find((m) => m.name === name) ?? {};
      const attrs = datasetFieldAttributes(resource, meta, name);
      const capped = capField(
        { field: name, outcome, ruleId: null, reason: '' },
        attrs.classification,
        meta[AGREEMENT_ATTRIBUTE],
        meta[AGREEMENT_EXEMPT_ATTRIBUTE],
      );
      if (capped.outcome === 'whole') out.allowed.push(name);
      else if (capped.outcome === 'masked') {
        out.masked.push(name);
        masks[name] ??= 'partial';
      } else {
        out.denied.push(name);
        delete masks[name];
      }
    };
    decision.fields.allowed.forEach((n) => settle(n, 'whole'));
    decision.fields.masked.forEach((n) => settle(n, 'masked'));
    return { ...decision, fields: out, masks };
  }
  return decision;
}
