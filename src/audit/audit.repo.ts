import type { PendingQuery } from 'postgres';
import type { Queryable, Sql } from '../db/database.ts';
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
 * Takes the chain lock for this transaction and reads the head, row-locked, with the database
 * clock. The row lock is what excludes the single-statement appends (see INSERT_GUARDED), which
 * do not take the advisory lock; `FOR UPDATE` reads the newest committed head even if it moved
 * after this statement's snapshot. `waitMs` bounds lock waits (and statements).
 */
export async function lockHead(
  tx: Queryable,
  waitMs?: number,
  statementMs = (waitMs ?? 0) * 2,
): Promise<Head & { now: Date }> {
  if (waitMs === undefined) await tx`select pg_advisory_xact_lock(${CHAIN_LOCK})`;
  else {
    await tx`select set_config('lock_timeout', ${`${waitMs}ms`}, true), set_config('statement_timeout', ${`${statementMs}ms`}, true),
      pg_advisory_xact_lock(${CHAIN_LOCK})`;
  }
  const [h] = await tx<{ seq: string; hash: string; at: Date; now: Date }[]>`
    select seq, hash, at, date_trunc('milliseconds', clock_timestamp()) as now from audit_head for update`;
  if (!h) throw new Error('audit_head is missing');
  return { seq: Number(h.seq), hash: h.hash, at: h.at, now: h.now };
}

const SPECIAL = /["\\]/;
/** One quoted element of a PostgreSQL array literal (NULL unquoted). */
const element = (v: string | null) => (v === null ? 'NULL' : `"${SPECIAL.test(v) ? v.replace(/["\\]/g, '\\$&') : v}"`);
// An element that needs no quotes inside an array literal (and so no escaping when that literal
// is itself an element of the column's array): most names, roles and field names.
const PLAIN = /^[A-Za-z0-9_.:-]+$/;
const innerElement = (v: string) => (PLAIN.test(v) && (v.length !== 4 || v.toUpperCase() !== 'NULL') ? v : element(v));
const textArray = (xs: string[]) => (xs.length ? `{${xs.map(innerElement).join(',')}}` : '{}');
const EMPTY_DETAILS = '{}';
const detailsJson = (d: Record<string, DetailValue>) => {
  for (const _ in d) return JSON.stringify(d);
  return EMPTY_DETAILS;
};
const nullable = (v: string | number | null) => (v === null ? null : String(v));

type Cell = (r: ChainedRow) => string | null;
// The columns sent as arrays: name, type, value, and whether the value can go unquoted (uuids,
// ISO times, hex hashes, enum words: nothing an array literal treats specially).
const ARRAY_COLUMNS: [string, string, Cell, boolean?][] = [
  ['id', 'uuid', (r) => r.id, true],
  ['decided_at', 'timestamptz', (r) => r.decidedAt.toISOString(), true],
  ['event', 'text', (r) => r.event, true],
  ['principal_sub', 'text', (r) => r.principalSub],
  ['principal_kind', 'text', (r) => r.principalKind],
  ['principal_roles', 'text[]', (r) => textArray(r.principalRoles)],
  ['principal_unit', 'text', (r) => r.principalUnit],
  ['action', 'text', (r) => r.action],
  ['resource_type', 'text', (r) => r.resourceType],
  ['resource_id', 'text', (r) => r.resourceId],
  ['dataset_id', 'text', (r) => r.datasetId],
  ['resource_unit', 'text', (r) => r.resourceUnit],
  ['classification', 'text', (r) => r.classification],
  ['label_version', 'int4', (r) => nullable(r.labelVersion)],
  ['effect', 'text', (r) => r.effect, true],
  ['rule_id', 'text', (r) => r.ruleId],
  ['reason', 'text', (r) => r.reason],
  ['policy_version', 'text', (r) => r.policyVersion],
  ['fields_whole', 'text[]', (r) => textArray(r.fieldsWhole)],
  ['fields_masked', 'text[]', (r) => textArray(r.fieldsMasked)],
  ['fields_omitted', 'text[]', (r) => textArray(r.fieldsOmitted)],
  ['purpose', 'text', (r) => r.purpose],
  ['row_count', 'int8', (r) => nullable(r.rowCount)],
  ['request_id', 'text', (r) => r.requestId],
  ['trace_id', 'text', (r) => r.traceId],
  ['details', 'jsonb', (r) => detailsJson(r.details)],
  ['prev_hash', 'text', (r) => r.prevHash, true],
  ['hash', 'text', (r) => r.hash, true],
];
const n = ARRAY_COLUMNS.length;
const names = ARRAY_COLUMNS.map(([c]) => c).join(', ');

/**
 * One statement, one array per column (a fixed number of parameters whatever the batch size;
 * seq and the batch's one time are computed from scalars): moves the head from `expected` to the
 * last row, then inserts the rows, or fails as a whole (SQLSTATE JA001) if the head is not
 * `expected`. Being one statement, it is its own transaction: a writer can send it without BEGIN
 * or the advisory lock, hashed against the head it last wrote. The UPDATE always takes the head
 * row and decides in its SET, which READ COMMITTED evaluates on the newest committed head once
 * the row is free: a batch sent while the previous one is still being written waits for it, then
 * finds the head it expected. Taking the head first means two writers never wait on each other's
 * rows (no deadlock): the second waits for the head and then fails cleanly.
 */
const INSERT_GUARDED = `with moved as (
    update audit_head set
      seq = case when seq = $${n + 1} and hash = $${n + 2} then $${n + 3} else jaga_audit_head_moved() end,
      hash = $${n + 4}, at = $${n + 5}
    where singleton
    returning 1),
  ins as (
    insert into audit_entry (seq, at, ${names})
    select $${n + 1}::int8 + t.ord, $${n + 5}::timestamptz, ${ARRAY_COLUMNS.map(([c, t]) => `${c}::${t}`).join(', ')}
    from unnest(${ARRAY_COLUMNS.map((_, i) => `$${i + 1}::text[]`).join(', ')}) with ordinality as t(${names}, ord)
    where exists (select 1 from moved)
    returning 1)
  select count(*)::int4 as n from ins`;

/** The SQLSTATE of INSERT_GUARDED when the head had moved. */
export const HEAD_MOVED = 'JA001';

/**
 * The guarded batch insert, as a query not yet started (postgres.js starts a query when it is
 * awaited). `rows` follow `expected` (seq from expected.seq + 1) and share one `at`. Its one row's `n`
 * is the number of rows when they went in; it fails with HEAD_MOVED when the head was not `expected`. Each
 * column goes as one array literal built here: cheaper than postgres.js serialising arrays.
 */
export function insertEntriesGuarded(q: Queryable, rows: ChainedRow[], expected: Head): PendingQuery<{ n: number }[]> {
  const last = rows.at(-1);
  if (!last) throw new Error('an empty batch');
  const params: (string | number)[] = ARRAY_COLUMNS.map(([, , cell, bare]) => {
    const out = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const v = cell(rows[i]!);
      out[i] = bare && v !== null ? v : element(v);
    }
    return `{${out.join(',')}}`;
  });
  params.push(String(expected.seq), expected.hash, String(last.seq), last.hash, last.at.toISOString());
  return q.unsafe<{ n: number }[]>(INSERT_GUARDED, params, { prepare: true });
}

/** Inserts the rows after `head` (read under the chain lock), moving the head; throws if it moved. */
export async function insertEntries(tx: Queryable, rows: ChainedRow[], head: Head): Promise<void> {
  if (!rows.length) return;
  const inserted = await insertEntriesGuarded(tx, rows, head);
  if (inserted[0]?.n !== rows.length) throw new Error('audit head moved while the chain lock was held');
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

/** Entries in chain order after `afterSeq` up to `throughSeq`, one page (a segment of a parallel walk). */
export async function entriesBetween(
  sql: Queryable,
  afterSeq: number,
  throughSeq: number,
  limit: number,
): Promise<ChainedRow[]> {
  const rows = await sql<DbEntry[]>`
    select * from audit_entry where seq > ${afterSeq} and seq <= ${throughSeq} order by seq limit ${limit}`;
  return rows.map(fromDb);
}

export async function entryAt(sql: Queryable, seq: number): Promise<ChainedRow | undefined> {
  const [row] = await sql<DbEntry[]>`select * from audit_entry where seq = ${seq} limit 1`;
  return row ? fromDb(row) : undefined;
}

/** The last seq of the newest partition retention dropped (0 when none was). */
export async function droppedThrough(sql: Queryable): Promise<number> {
  const [row] = await sql<{ last: string | null }[]>`select max(last_seq) as last from audit_retention`;
  return Number(row?.last ?? 0);
}

/** The newest retention record below `seq`: where the kept chain must continue from. */
export async function retentionAnchor(
  sql: Queryable,
  seq: number,
): Promise<{ lastSeq: number; lastHash: string } | undefined> {
  const [row] = await sql<{ last_seq: string; last_hash: string }[]>`
    select last_seq, last_hash from audit_retention where last_seq < ${seq} order by last_seq desc limit 1`;
  return row ? { lastSeq: Number(row.last_seq), lastHash: row.last_hash } : undefined;
}

export async function saveCheckpoint(
  sql: Queryable,
  c: { seq: number; hash: string; at: Date; signature: string | null },
): Promise<void> {
  await sql`insert into audit_checkpoint (seq, hash, at, signature) values (${c.seq}, ${c.hash}, ${c.at}, ${c.signature})`;
}

// ---- verification -----------------------------------------------------------------------------

export interface VerifiedPoint {
  seq: number;
  hash: string;
  verifiedAt: Date;
}

/** The furthest point a walk found intact (if its entry has gone since, the next walk says so). */
export async function lastVerified(sql: Queryable): Promise<VerifiedPoint | undefined> {
  const [row] = await sql<{ seq: string; hash: string; verified_at: Date }[]>`
    select seq, hash, verified_at from audit_verified order by seq desc, verified_at desc limit 1`;
  return row ? { seq: Number(row.seq), hash: row.hash, verifiedAt: row.verified_at } : undefined;
}

/** Records that the chain verified up to (seq, hash). */
export async function recordVerified(
  sql: Queryable,
  p: { seq: number; hash: string; fullWalk: boolean },
): Promise<void> {
  if (p.seq <= 0) return;
  await sql`insert into audit_verified (seq, hash, at, full_walk)
    select ${p.seq}, ${p.hash}, at, ${p.fullWalk} from audit_entry where seq = ${p.seq} limit 1`;
}

// ---- partitions -------------------------------------------------------------------------------

const PARTITION = /^audit_entry_y(\d{4})m(\d{2})$/;

export const isPartitionName = (name: string) => PARTITION.test(name);

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

/**
 * The first seq each partition of audit_entry holds (the default partition included; empty ones
 * left out), ascending: each one's primary-key index answers, so this costs a probe per partition.
 */
export async function partitionStarts(sql: Queryable): Promise<number[]> {
  const parts = await sql<{ name: string }[]>`
    select c.relname as name from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    join pg_class p on p.oid = i.inhparent
    where p.relname = 'audit_entry'`;
  const starts: number[] = [];
  for (const { name } of parts) {
    if (!isPartitionName(name) && name !== 'audit_entry_default') continue;
    const [row] = await sql<{ s: string | null }[]>`select min(seq) as s from ${sql(name)}`;
    if (row?.s != null) starts.push(Number(row.s));
  }
  return starts.sort((a, b) => a - b);
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
    const [last] = await tx.unsafe<{ seq: string; hash: string }[]>(
      `select seq, hash from ${name} order by seq desc limit 1`,
    );
    if (last)
      await tx`insert into audit_retention (partition_name, last_seq, last_hash) values (${name}, ${last.seq}, ${last.hash})`;
    await tx.unsafe(`alter table audit_entry detach partition ${name}`);
    await tx.unsafe(`drop table ${name}`);
  });
}
