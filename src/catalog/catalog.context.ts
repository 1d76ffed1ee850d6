import type { AuditEntryInput, AuditLog } from '../audit/audit.port.ts';
import type { Queryable, Sql } from '../db/database.ts';
import { DomainError } from '../shared/errors.ts';
import type { Principal } from '../identity/principal.ts';
import type { CatalogAccess, PolicySource, Rule } from './catalog.access.ts';
import { findDataset, type DatasetRow } from './catalog.repo.ts';
import { datasetAttributes } from './catalog.view.ts';

/** What the catalog services share: the database, the audit log, the policy engine. */
export interface CatalogDeps {
  sql: Sql;
  audit: AuditLog;
  policy: PolicySource;
}

/** Per-request facts that go into audit entries. */
export interface RequestContext {
  requestId?: string | null;
  traceId?: string | null;
}

export function auditPrincipal(p: Principal): AuditEntryInput['principal'] {
  return { sub: p.sub, kind: p.kind, roles: [...p.roles], unit: p.unit };
}

/** The part of an audit entry that says an allowed change was decided by `rule` in this request. */
export function allowedBy(rule: Rule, ctx: RequestContext) {
  return {
    effect: 'allow' as const,
    ruleId: rule.ruleId,
    reason: rule.reason,
    policyVersion: rule.policyVersion,
    requestId: ctx.requestId ?? null,
    traceId: ctx.traceId ?? null,
  };
}

/** The same 404 for a dataset that does not exist and one the caller may not see. */
export function notFound(id: string): DomainError {
  return new DomainError('NOT_FOUND', `There is no dataset ${id}.`);
}

/** Loads a dataset the caller may see (locked for update when asked), or throws the 404. */
export async function visibleDataset(sql: Queryable, access: CatalogAccess, p: Principal, id: string, forUpdate = false): Promise<DatasetRow> {
  const row = await findDataset(sql, id, { forUpdate });
  if (!row || !access.canRead(p, datasetAttributes(row)).allow) throw notFound(id);
  return row;
}

/** Throws FORBIDDEN when the decision denies (the policy's rules stay out of the answer). */
export function ensure(rule: Rule, action: string): Rule {
  if (!rule.allow) throw new DomainError('FORBIDDEN', `Not allowed to ${action}.`);
  return rule;
}

export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * Checks an If-Match header against the current version. `required` answers 428 when it is
 * missing; a stale one answers 412.
 */
export function checkIfMatch(header: string | undefined, version: number, required: boolean): void {
  if (header === undefined || header.trim() === '') {
    if (required) throw new DomainError('PRECONDITION_REQUIRED', 'Send If-Match with the ETag of the dataset you read.');
    return;
  }
  if (header.trim() === '*') return;
  const tags = header.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (!tags.includes(etagOf(version))) {
    throw new DomainError('PRECONDITION_FAILED', `The dataset has changed (its ETag is now ${etagOf(version)}); read it again.`, {
      currentTag: etagOf(version),
    });
  }
}

/** Opaque keyset cursors: the last id of the page, base64url-encoded. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z0-9][a-z0-9-]{1,63}$/.test(id)) {
    throw new DomainError('VALIDATION_FAILED', 'The cursor is not valid.', { errors: [{ path: 'query.cursor', message: 'not a cursor this API issued' }] });
  }
  return id;
}

/** Today's date (UTC) as YYYY-MM-DD. */
export function todayIso(): string {
  return new Date().toISOString().slice(0, 10);
}
