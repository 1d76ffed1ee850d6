import { csvLine } from '../shared/csv.ts';
import type { ChainedRow } from './audit.entry.ts';
import type { AuditItem } from './audit.schema.ts';

export type Format = 'json' | 'csv' | 'ndjson';

/** What audit reads are served as, by Accept (src/http/negotiate.ts); JSON unless asked otherwise. */
export const AUDIT_OFFERS: Readonly<Record<string, Format>> = {
  'application/json': 'json',
  'text/csv': 'csv',
  'application/x-ndjson': 'ndjson',
};

export const CONTENT_TYPES: Record<Format, string> = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson',
};

export function toItem(r: ChainedRow): AuditItem {
  return {
    id: r.id,
    seq: r.seq,
    at: r.at.toISOString(),
    decidedAt: r.decidedAt.toISOString(),
    event: r.event,
    principal: { sub: r.principalSub, kind: r.principalKind, roles: r.principalRoles, unit: r.principalUnit },
    action: r.action,
    resource: {
      type: r.resourceType,
      id: r.resourceId,
      datasetId: r.datasetId,
      unit: r.resourceUnit,
      classification: r.classification,
      labelVersion: r.labelVersion,
    },
    effect: r.effect,
    ruleId: r.ruleId,
    reason: r.reason,
    policyVersion: r.policyVersion,
    fields: { whole: r.fieldsWhole, masked: r.fieldsMasked, omitted: r.fieldsOmitted },
    purpose: r.purpose,
    agreementId: typeof r.details?.agreementId === 'string' ? r.details.agreementId : null,
    rowCount: r.rowCount,
    requestId: r.requestId,
    traceId: r.traceId,
    details: r.details,
    hash: r.hash,
    prevHash: r.prevHash,
  };
}

export const ENTRY_CSV_HEADER = [
  'seq',
  'id',
  'at',
  'decided_at',
  'event',
  'principal_sub',
  'principal_kind',
  'principal_roles',
  'principal_unit',
  'action',
  'resource_type',
  'resource_id',
  'dataset_id',
  'resource_unit',
  'classification',
  'label_version',
  'effect',
  'rule_id',
  'reason',
  'policy_version',
  'fields_whole',
  'fields_masked',
  'fields_omitted',
  'purpose',
  'row_count',
  'request_id',
  'trace_id',
  'details',
  'hash',
];

export function entryCsvCells(r: ChainedRow): unknown[] {
  return [
    r.seq,
    r.id,
    r.at.toISOString(),
    r.decidedAt.toISOString(),
    r.event,
    r.principalSub,
    r.principalKind,
    r.principalRoles,
    r.principalUnit,
    r.action,
    r.resourceType,
    r.resourceId,
    r.datasetId,
    r.resourceUnit,
    r.classification,
    r.labelVersion,
    r.effect,
    r.ruleId,
    r.reason,
    r.policyVersion,
    r.fieldsWhole,
    r.fieldsMasked,
    r.fieldsOmitted,
    r.purpose,
    r.rowCount,
    r.requestId,
    r.traceId,
    r.details,
    r.hash,
  ];
}

/** CSV of plain report rows: the header from the first row's keys (or the given header). */
export function rowsToCsv(header: string[], rows: Record<string, unknown>[]): string {
  return csvLine(header) + rows.map((r) => csvLine(header.map((h) => r[h]))).join('');
}
