import type { Queryable, Sql, TransactionSql } from '../db/database.ts';
import type { ChainedRow, DetailValue } from './audit.entry.ts';

/** Any fixed number: the same for every Jaga instance; guards the chain head. */
export const CHAIN_LOCK = 4_702_351_007;

export interface DbEntry {
  seq: string;
  id: string;
  at: Date;
  decided_at: Date;
  event: ChainedRow['event'];
  principal_sub: string | null;
  principal_kind: string;
  principal_roles: string[];
  principal_unit: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  dataset_id: string | null;
  resource_unit: string | null;
  classification: string | null;
  label_version: number | null;
  effect: 'allow' | 'deny';
  rule_id: string | null;
  reason: string;
  policy_version: string | null;
  fields_whole: string[];
  fields_masked: string[];
  fields_omitted: string[];
  purpose: string | null;
  row_count: string | null;
  request_id: string | null;
  trace_id: string | null;
  details: Record<string, DetailValue>;
  prev_hash: string;
  hash: string;
}

export function toDb(r: ChainedRow): Omit<DbEntry, 'seq' | 'row_count'> & { seq: number; row_count: number | null } {
  return {
    seq: r.seq,
    id: r.id,
    at: r.at,
    decided_at: r.decidedAt,
    event: r.event,
    principal_sub: r.principalSub,
    principal_kind: r.principalKind,
    principal_roles: r.principalRoles,
    principal_unit: r.principalUnit,
    action: r.action,
    resource_type: r.resourceType,
    resource_id: r.resourceId,
    dataset_id: r.datasetId,
    resource_unit: r.resourceUnit,
    classification: r.classification,
    label_version: r.labelVersion,
    effect: r.effect,
    rule_id: r.ruleId,
    reason: r.reason,
    policy_version: r.policyVersion,
    fields_whole: r.fieldsWhole,
    fields_masked: r.fieldsMasked,
    fields_omitted: r.fieldsOmitted,
    purpose: r.purpose,
    row_count: r.rowCount,
    request_id: r.requestId,
    trace_id: r.traceId,
    details: r.details,
    prev_hash: r.prevHash,
    hash: r.hash,
  };
}

export function fromDb(d: DbEntry): ChainedRow {
  return {
    seq: Number(d.seq),
    id: d.id,
    at: d.at,
    decidedAt: d.decided_at,
    event: d.event,
    principalSub: d.principal_sub,
    principalKind: d.principal_kind,
    principalRoles: d.principal_roles,
    principalUnit: d.principal_unit,
    action: d.action,
    resourceType: d.resource_type,
    resourceId: d.resource_id,
    datasetId: d.dataset_id,
    resourceUnit: d.resource_unit,
    classification: d.classification,
    labelVersion: d.label_version,
    effect: d.effect,
    ruleId: d.rule_id,
    reason: d.reason,
    policyVersion: d.policy_version,
    fieldsWhole: d.fields_whole,
    fieldsMasked: d.fields_masked,
    fieldsOmitted: d.fields_omitted,
    purpose: d.purpose,
    rowCount: d.row_count === null ? null : Number(d.row_count),
    requestId: d.request_id,
    traceId: d.trace_id,
    details: d.details,
    prevHash: d.prev_hash,
    hash: d.hash,
  };
}

export interface Head {
  seq: number;
  hash: string;
  at: Date;
}

/**
 * Takes the chain lock for this transaction and reads the head and the database clock. Two
 * statements on purpose: under READ COMMITTED the head must be read by a statement whose snapshot
 * is taken after the lock is held. `waitMs` bounds lock waits (and statements) of a flush.
 */
export async function lockHead(tx: TransactionSql, waitMs?: number): Promise<Head & { now: Date }> {
  if (waitMs === undefined) await tx`select pg_advisory_xact_lock(${CHAIN_LOCK})`;
  else {
    await tx`select set_config('lock_timeout', ${`${waitMs}ms`}, true), set_config('statement_timeout', ${`${waitMs * 2}ms`}, true),
      pg_advisory_xact_lock(${CHAIN_LOCK})`;
  }
  const [h] = await tx<{ seq: string; hash: string; at: Date; now: Date }[]>`
    select seq, hash, at, date_trunc('milliseconds', clock_timestamp()) as now from audit_head`;
  if (!h) throw new Error('audit_head is missing');
  return { seq: Number(h.seq), hash: h.hash, at: h.at, now: h.now };
}

/** Inserts the rows and moves the head to the last, in one statement (one round trip). */
export async function insertEntries(tx: TransactionSql, rows: ChainedRow[]): Promise<void> {
  const last = rows[rows.length - 1];
  if (!last) return;
  await tx`with inserted as (insert into audit_entry ${tx(rows.map(toDb))} returning 1)
    update audit_head set seq = ${last.seq}, hash = ${last.hash}, at = ${last.at}
    where (select count(*) from inserted) = ${rows.length}`;
}

export async function readHead(sql: Queryable): Promise<Head> {
  const [h] = await sql<{ seq: string; hash: string; at: Date }[]>`select seq, hash, at from audit_head`;
  if (!h) throw new Error('audit_head is missing');
  return { seq: Number(h.seq), hash: h.hash, at: h.at };
}

/** Entries in chain order after `afterSeq`, one page (keyset on seq). */
export async function entriesAfter(sql: Queryable, afterSeq: number, limit: number): Promise<ChainedRow[]> {
  const rows = await sql<DbEntry[]>`select * from audit_entry where seq > ${afterSeq} order by seq limit ${limit}`;
  return rows.map(fromDb);
}

export async function entryAt(sql: Queryable, seq: number): Promise<ChainedRow | undefined> {
  const [row] = await sql<DbEntry[]>`select * from audit_entry where seq = ${seq} limit 1`;
  return row ? fromDb(row) : undefined;
}

/** The newest retention record below `seq`: where the kept chain must continue from. */
export async function retentionAnchor(sql: Queryable, seq: number): Promise<{ lastSeq: number; lastHash: string } | undefined> {
  const [row] = await sql<{ last_seq: string; last_hash: string }[]>`
    select last_seq, last_hash from audit_retention where last_seq < ${seq} order by last_seq desc limit 1`;
  return row ? { lastSeq: Number(row.last_seq), lastHash: row.last_hash } : undefined;
}

export async function saveCheckpoint(sql: Queryable, c: { seq: number; hash: string; at: Date; signature: string | null }): Promise<void> {
  await sql`insert into audit_checkpoint (seq, hash, at, signature) values (${c.seq}, ${c.hash}, ${c.at}, ${c.signature})`;
}

// ---- partitions -------------------------------------------------------------------------------

const PARTITION = /^audit_entry_y(\d{4})m(\d{2})$/;

export const partitionName = (year: number, month: number) => `audit_entry_y${year}m${String(month).padStart(2, '0')}`;

export async function listPartitions(sql: Queryable): Promise<{ name: string; year: number; month: number }[]> {
  const rows = await sql<{ name: string }[]>`
    select c.relname as name from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    join pg_class p on p.oid = i.inhparent
    where p.relname = 'audit_entry'`;
  return rows.flatMap((r) => {
    const m = PARTITION.exec(r.name);
    return m ? [{ name: r.name, year: Number(m[1]), month: Number(m[2]) }] : [];
  });
}

/** Creates the month's partition if missing (names and bounds are built from numbers only). */
export async function createPartition(sql: Sql, year: number, month: number): Promise<void> {
  const from = `${year}-${String(month).padStart(2, '0')}-01 00:00:00+00`;
  const next = month === 12 ? [year + 1, 1] : [year, month + 1];
  const to = `${next[0]}-${String(next[1]).padStart(2, '0')}-01 00:00:00+00`;
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${CHAIN_LOCK})`;
    await tx.unsafe(
      `create table if not exists ${partitionName(year, month)} partition of audit_entry for values from ('${from}') to ('${to}')`,
    );
  });
}

/** Detaches and drops a partition, recording its last entry so the chain still verifies from the oldest kept. */
export async function dropPartition(sql: Sql, name: string): Promise<void> {
  if (!PARTITION.test(name)) throw new Error(`not an audit partition: ${name}`);
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${CHAIN_LOCK})`;
    const [last] = await tx.unsafe<{ seq: string; hash: string }[]>(`select seq, hash from ${name} order by seq desc limit 1`);
    if (last) await tx`insert into audit_retention (partition_name, last_seq, last_hash) values (${name}, ${last.seq}, ${last.hash})`;
    await tx.unsafe(`alter table audit_entry detach partition ${name}`);
    await tx.unsafe(`drop table ${name}`);
  });
}
