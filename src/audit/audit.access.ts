import { ApiError } from '../http/problem.ts';
import type { Principal } from '../identity/principal.ts';

/** What part of the log a caller may read: all of it, or entries touching one unit's subtree. */
export type AuditScope = { kind: 'all' } | { kind: 'unit'; unit: string };

export type AuditUse = 'entries' | 'reports' | 'verify';

/**
 * The one access check of the audit routes (to be routed through the policy engine as
 * `can('audit', 'AuditEntry')` once it lands): `auditor` reads everything; a `ppid` reads the
 * entries whose principal or resource is within their unit, and reports on them; only an
 * auditor verifies the whole chain and takes checkpoints.
 */
export function auditScope(p: Principal, use: AuditUse): AuditScope {
  if (p.kind === 'anonymous') throw new ApiError('UNAUTHENTICATED', 'The audit log needs a bearer token.');
  if (p.roles.includes('auditor')) return { kind: 'all' };
  if (use !== 'verify' && p.roles.includes('ppid') && p.unit) {
    return p.unit === 'RI' ? { kind: 'all' } : { kind: 'unit', unit: p.unit };
  }
  throw new ApiError('FORBIDDEN', 'Reading the audit log needs the auditor role (or ppid, within the unit).');
}
