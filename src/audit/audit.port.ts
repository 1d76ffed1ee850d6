import type { Transaction } from '../db/database.ts';

/**
 * What every capability hands to the audit log. Ids and field names only: never a value of a
 * record (no personal data in the log).
 */
export interface AuditEntryInput {
  /** decision: a permission check; disclosure: data left Jaga; label_change, catalog_change; audit_read. */
  event: 'decision' | 'disclosure' | 'label_change' | 'catalog_change' | 'audit_read';
  principal: { sub: string | null; kind: string; roles: string[]; unit: string | null };
  action: string;
  /**
   * `datasetId`: the dataset a Field/Record/Label belongs to (defaults to `id` for a Dataset), so the
   * log can be filtered by dataset; `unit`: the owning unit, so a PPID sees decisions about their unit's data.
   */
  resource: {
    type: string;
    id?: string | null;
    classification?: string | null;
    labelVersion?: number | null;
    datasetId?: string | null;
    unit?: string | null;
  };
  effect: 'allow' | 'deny';
  ruleId: string | null;
  reason: string;
  policyVersion: string | null;
  fields?: { whole: string[]; masked: string[]; omitted: string[] };
  purpose?: string | null;
  rowCount?: number | null;
  requestId?: string | null;
  traceId?: string | null;
  /** Further ids or facts about the event (label versions, cursor range); never record values. */
  details?: Record<string, unknown>;
}

export interface AuditLog {
  /** Queues the entry; resolves with its id once accepted (possibly before it is durable). */
  append(entry: AuditEntryInput): Promise<{ id: string }>;
  /** Resolves only once the entry is committed; rejects with AUDIT_UNAVAILABLE if it cannot be. */
  appendDurable(entry: AuditEntryInput): Promise<{ id: string }>;
  /**
   * One request's entries, in order, with one wait: resolves with their ids once all are committed
   * (`durable`) or queued; none is queued when one is refused. Optional: without it, callers append one by one.
   */
  appendAll?(entries: AuditEntryInput[], durable: boolean): Promise<string[]>;
  /** Appends inside the caller's transaction, so a change and its entry commit together. */
  appendWithin(tx: Transaction, entry: AuditEntryInput): Promise<{ id: string }>;
}

/** A log that assigns ids and stores nothing: the bench's BENCH_AUDIT=off, to measure what logging costs. */
export const unrecordedAuditLog: AuditLog = {
  append: async () => ({ id: crypto.randomUUID() }),
  appendDurable: async () => ({ id: crypto.randomUUID() }),
  appendWithin: async () => ({ id: crypto.randomUUID() }),
};
