import type { AuditEntryInput } from './audit.port.ts';

/** One entry as stored (before the chain assigns seq, at and hashes). Ids and field names only. */
export interface EntryRow {
  id: string;
  decidedAt: Date;
  event: AuditEntryInput['event'];
  principalSub: string | null;
  principalKind: string;
  principalRoles: string[];
  principalUnit: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  datasetId: string | null;
  resourceUnit: string | null;
  classification: string | null;
  labelVersion: number | null;
  effect: 'allow' | 'deny';
  ruleId: string | null;
  reason: string;
  policyVersion: string | null;
  fieldsWhole: string[];
  fieldsMasked: string[];
  fieldsOmitted: string[];
  purpose: string | null;
  rowCount: number | null;
  requestId: string | null;
  traceId: string | null;
  details: Record<string, DetailValue>;
}

/** A chained entry: the row plus its place and hashes. */
export interface ChainedRow extends EntryRow {
  seq: number;
  at: Date;
  prevHash: string;
  hash: string;
}

export type DetailScalar = string | number | boolean | null;
export type DetailValue = DetailScalar | DetailScalar[];

export class AuditEntryRefused extends Error {
  override name = 'AuditEntryRefused';
}

const EVENTS = new Set(['decision', 'disclosure', 'label_change', 'catalog_change', 'audit_read']);
// An id, code, field name, date or enum: no whitespace, no control characters, bounded.
const ID_LIKE = /^[^\s\p{Cc}]{0,200}$/u;
const FIELD_NAME = /^[^\s\p{Cc}]{1,200}$/u;

function idLike(value: string, where: string): string {
  if (!ID_LIKE.test(value)) throw new AuditEntryRefused(`${where} must be an id (no spaces, at most 200 characters)`);
  return value;
}

function detailScalar(value: unknown, where: string): DetailScalar {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new AuditEntryRefused(`${where} must be an integer`);
    return value;
  }
  if (typeof value === 'string') return idLike(value, where);
  throw new AuditEntryRefused(`${where} must be an id, an integer, a boolean or null`);
}

/**
 * Validates an entry and turns it into a row. Details hold ids and facts only: strings with no
 * whitespace (ids, codes, names of fields), integers, booleans, null, or flat lists of these.
 * Free text and nested objects are refused, so a record's values have no way into the log.
 */
export function toEntryRow(e: AuditEntryInput, id: string = crypto.randomUUID(), decidedAt = new Date()): EntryRow {
  if (!EVENTS.has(e.event)) throw new AuditEntryRefused(`unknown event ${String(e.event)}`);
  if (e.effect !== 'allow' && e.effect !== 'deny') throw new AuditEntryRefused('effect must be allow or deny');
  const fields = (list: string[] | undefined, where: string) =>
    (list ?? []).map((f) => {
      if (typeof f !== 'string' || !FIELD_NAME.test(f)) throw new AuditEntryRefused(`${where} holds field names only`);
      return f;
    });
  const details: Record<string, DetailValue> = {};
  for (const [key, value] of Object.entries(e.details ?? {})) {
    if (value === undefined) continue;
    idLike(key, 'details key');
    details[key] = Array.isArray(value)
      ? value.map((v, i) => detailScalar(v, `details.${key}[${i}]`))
      : detailScalar(value, `details.${key}`);
  }
  const r = e.resource;
  const opt = (s: string | null | undefined, where: string) => (s == null ? null : idLike(s, where));
  return {
    id,
    decidedAt,
    event: e.event,
    principalSub: opt(e.principal.sub, 'principal.sub'),
    principalKind: idLike(e.principal.kind, 'principal.kind'),
    principalRoles: e.principal.roles.map((role) => idLike(role, 'principal.roles')),
    principalUnit: opt(e.principal.unit, 'principal.unit'),
    action: idLike(e.action, 'action'),
    resourceType: idLike(r.type, 'resource.type'),
    resourceId: opt(r.id, 'resource.id'),
    datasetId: opt(r.datasetId ?? (r.type === 'Dataset' ? r.id : null), 'resource.datasetId'),
    resourceUnit: opt(r.unit, 'resource.unit'),
    classification: opt(r.classification, 'resource.classification'),
    labelVersion: r.labelVersion ?? null,
    effect: e.effect,
    ruleId: opt(e.ruleId, 'ruleId'),
    reason: String(e.reason).slice(0, 1000),
    policyVersion: opt(e.policyVersion, 'policyVersion'),
    fieldsWhole: fields(e.fields?.whole, 'fields.whole'),
    fieldsMasked: fields(e.fields?.masked, 'fields.masked'),
    fieldsOmitted: fields(e.fields?.omitted, 'fields.omitted'),
    purpose: opt(e.purpose, 'purpose'),
    rowCount: e.rowCount ?? null,
    requestId: opt(e.requestId, 'requestId'),
    traceId: opt(e.traceId, 'traceId'),
    details,
  };
}
