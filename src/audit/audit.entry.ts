import { deepFreeze } from '../shared/deep-freeze.ts';
import { isName, isStorable, NAME_MAX, truncate } from '../shared/text.ts';
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
/** The longest reason kept, in UTF-16 code units (cut at a character boundary). */
export const REASON_MAX = 1000;

// An id, code, field name, date or enum: a name in the sense of src/shared/text.ts (storable, no
// whitespace, no control characters, bounded), so the hash covers exactly what the database holds.
function idLike(value: string, where: string): string {
  if (typeof value !== 'string' || !isName(value, NAME_MAX)) {
    throw new AuditEntryRefused(
      `${where} must be an id (no spaces or control characters, at most ${NAME_MAX} characters)`,
    );
  }
  return value;
}

/** A count or version as its column holds it (`integer` or `bigint`): a fraction or an overflow would fail the whole flush. */
function integer(value: number | null | undefined, max: number, where: string): number | null {
  if (value == null) return null;
  if (!Number.isSafeInteger(value) || value < 0 || value > max)
    throw new AuditEntryRefused(`${where} must be an integer from 0 to ${max}`);
  return value;
}
const INT4_MAX = 2 ** 31 - 1;

/** Free text (the reason): storable, then cut without splitting a surrogate pair. */
function freeText(value: string, max: number, where: string): string {
  if (!isStorable(value))
    throw new AuditEntryRefused(`${where} must not contain a NUL character or a lone UTF-16 surrogate`);
  return truncate(value, max);
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

const NO_FIELDS = Object.freeze([]) as unknown as string[];
function fields(list: string[] | undefined, where: string): string[] {
  if (!list || !list.length) return NO_FIELDS;
  for (const f of list)
    if (typeof f !== 'string' || f === '' || !isName(f, NAME_MAX))
      throw new AuditEntryRefused(`${where} holds field names only`);
  return list.slice();
}
const opt = (s: string | null | undefined, where: string) => (s == null ? null : idLike(s, where));

type PrincipalColumns = Pick<EntryRow, 'principalSub' | 'principalKind' | 'principalRoles' | 'principalUnit'>;
type ResourceColumns = Pick<
  EntryRow,
  'resourceType' | 'resourceId' | 'datasetId' | 'resourceUnit' | 'classification' | 'labelVersion'
>;
type FieldColumns = Pick<EntryRow, 'fieldsWhole' | 'fieldsMasked' | 'fieldsOmitted'>;

function principalColumns(p: AuditEntryInput['principal']): PrincipalColumns {
  return {
    principalSub: opt(p.sub, 'principal.sub'),
    principalKind: idLike(p.kind, 'principal.kind'),
    principalRoles: p.roles.map((role) => idLike(role, 'principal.roles')),
    principalUnit: opt(p.unit, 'principal.unit'),
  };
}

function resourceColumns(r: AuditEntryInput['resource']): ResourceColumns {
  return {
    resourceType: idLike(r.type, 'resource.type'),
    resourceId: opt(r.id, 'resource.id'),
    datasetId: opt(r.datasetId ?? (r.type === 'Dataset' ? r.id : null), 'resource.datasetId'),
    resourceUnit: opt(r.unit, 'resource.unit'),
    classification: opt(r.classification, 'resource.classification'),
    labelVersion: integer(r.labelVersion, INT4_MAX, 'resource.labelVersion'),
  };
}

function fieldColumns(f: AuditEntryInput['fields']): FieldColumns {
  return {
    fieldsWhole: fields(f?.whole, 'fields.whole'),
    fieldsMasked: fields(f?.masked, 'fields.masked'),
    fieldsOmitted: fields(f?.omitted, 'fields.omitted'),
  };
}

/**
 * The columns of an entry's principal, resource or fields, checked once per object when the object
 * is deeply frozen (a remembered decision's: src/policy/decision.service.ts), since it cannot
 * change after; checked every time otherwise. The columns are frozen too, so rows may share them.
 */
function once<I extends object, O extends object>(
  columns: (input: I) => O,
  immutable: (input: I) => boolean,
): (input: I) => O {
  const checked = new WeakMap<I, O>();
  return (input) => {
    if (!immutable(input)) return columns(input);
    let out = checked.get(input);
    if (!out) checked.set(input, (out = deepFreeze(columns(input))));
    return out;
  };
}

const frozen = Object.isFrozen;
const principalOnce = once(principalColumns, (p) => frozen(p) && frozen(p.roles));
// Its values are strings, numbers or null.
const resourceOnce = once(resourceColumns, frozen);
const fieldsOnce = once(
  (f: NonNullable<AuditEntryInput['fields']>) => fieldColumns(f),
  (f) => frozen(f) && frozen(f.whole) && frozen(f.masked) && frozen(f.omitted),
);
const NO_FIELD_COLUMNS = fieldColumns(undefined);

/**
 * Validates an entry and turns it into a row. Details hold ids and facts only: strings with no
 * whitespace (ids, codes, names of fields), integers, booleans, null, or flat lists of these.
 * Free text and nested objects are refused, so a record's values have no way into the log.
 */
export function toEntryRow(e: AuditEntryInput, id: string = crypto.randomUUID(), decidedAt = new Date()): EntryRow {
  if (!EVENTS.has(e.event)) throw new AuditEntryRefused(`unknown event ${String(e.event)}`);
  if (e.effect !== 'allow' && e.effect !== 'deny') throw new AuditEntryRefused('effect must be allow or deny');
  const details: Record<string, DetailValue> = {};
  if (e.details) {
    for (const [key, value] of Object.entries(e.details)) {
      if (value === undefined) continue;
      idLike(key, 'details key');
      details[key] = Array.isArray(value)
        ? value.map((v, i) => detailScalar(v, `details.${key}[${i}]`))
        : detailScalar(value, `details.${key}`);
    }
  }
  const p = principalOnce(e.principal);
  const r = resourceOnce(e.resource);
  const f = e.fields ? fieldsOnce(e.fields) : NO_FIELD_COLUMNS;
  // One literal, no spreads: rows keep one shape, which the canonical JSON and the insert read fast.
  return {
    id,
    decidedAt,
    event: e.event,
    principalSub: p.principalSub,
    principalKind: p.principalKind,
    principalRoles: p.principalRoles,
    principalUnit: p.principalUnit,
    action: idLike(e.action, 'action'),
    resourceType: r.resourceType,
    resourceId: r.resourceId,
    datasetId: r.datasetId,
    resourceUnit: r.resourceUnit,
    classification: r.classification,
    labelVersion: r.labelVersion,
    effect: e.effect,
    ruleId: opt(e.ruleId, 'ruleId'),
    reason: freeText(String(e.reason), REASON_MAX, 'reason'),
    policyVersion: opt(e.policyVersion, 'policyVersion'),
    fieldsWhole: f.fieldsWhole,
    fieldsMasked: f.fieldsMasked,
    fieldsOmitted: f.fieldsOmitted,
    purpose: opt(e.purpose, 'purpose'),
    rowCount: integer(e.rowCount, Number.MAX_SAFE_INTEGER, 'rowCount'),
    requestId: opt(e.requestId, 'requestId'),
    traceId: opt(e.traceId, 'traceId'),
    details,
  };
}
