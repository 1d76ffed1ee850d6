import { createHmac, createSecretKey, hash, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { ChainedRow, DetailValue, EntryRow } from './audit.entry.ts';

/**
 * What an operator is told about a chain without AUDIT_HMAC_KEY: start-up log, /readyz and every
 * verification say it, since such a chain proves order but not authorship.
 */
export const UNKEYED_WARNING =
  'AUDIT_HMAC_KEY is not set: the audit chain is plain SHA-256, so anyone with write access to the database can rewrite it consistently';

/** How the chain is hashed, in one line for /readyz (a warning, never a reason to be unready). */
export function keyingDetail(key: string | undefined): string {
  return key ? 'keyed: HMAC-SHA-256 with AUDIT_HMAC_KEY' : `unkeyed: ${UNKEYED_WARNING}`;
}

/** The chain's first link: the "previous hash" of entry 1. */
export const GENESIS_HASH = '0'.repeat(64);

const str = (n: number | string | null) => (n === null ? null : String(n));

function sortedDetails(details: Record<string, DetailValue>): [string, DetailValue][] {
  return Object.keys(details)
    .sort()
    .map((k) => [k, details[k] ?? null]);
}

/**
 * The canonical serialisation an entry's hash covers: a JSON array in a fixed order, numbers as
 * decimal strings and times as ISO-8601 UTC milliseconds, so it reads back from the database
 * exactly as it was written.
 */
export function canonical(r: Omit<ChainedRow, 'hash' | 'prevHash'>): string {
  return canonicalHead(r.seq, r.id, r.at.toISOString()) + canonicalTail(r);
}

/** The chain-assigned start of the canonical array: the same text JSON.stringify would give. */
const canonicalHead = (seq: number, id: string, at: string) =>
  `["jaga-audit-v1","${seq}",${JSON.stringify(id)},"${at}",`;

/**
 * The rest of the canonical array (from decidedAt on, closing bracket included). It does not
 * depend on the entry's place in the chain, so the writer computes it when the entry is queued,
 * off the flush's critical path.
 */
export function canonicalTail(r: EntryRow): string {
  return JSON.stringify([
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
    str(r.labelVersion),
    r.effect,
    r.ruleId,
    r.reason,
    r.policyVersion,
    r.fieldsWhole,
    r.fieldsMasked,
    r.fieldsOmitted,
    r.purpose,
    str(r.rowCount),
    r.requestId,
    r.traceId,
    sortedDetails(r.details),
  ]).slice(1);
}

// One KeyObject per configured key: createHmac with a string key re-imports it on every call.
const keys = new Map<string, KeyObject>();
const keyObject = (key: string) => keys.get(key) ?? keys.set(key, createSecretKey(Buffer.from(key))).get(key)!;

/** hash = SHA-256, or HMAC-SHA-256 keyed with AUDIT_HMAC_KEY, over the previous hash and the canonical content. */
export function chainHash(key: string | undefined, prevHash: string, r: Omit<ChainedRow, 'hash' | 'prevHash'>): string {
  return linkHash(key, prevHash, r.seq, r.id, r.at.toISOString(), canonicalTail(r));
}

/**
 * `chainHash` from a precomputed `canonicalTail` and the ISO text of `at` (one per batch). The
 * input is one string hashed in one call: the same bytes as the streamed updates it replaces.
 */
export function linkHash(
  key: string | undefined,
  prevHash: string,
  seq: number,
  id: string,
  at: string,
  tail: string,
): string {
  const input = `${prevHash}\n${canonicalHead(seq, id, at)}${tail}`;
  return key ? createHmac('sha256', keyObject(key)).update(input).digest('hex') : hash('sha256', input, 'hex');
}

export interface Checkpoint {
  seq: number;
  hash: string;
  at: string;
  /** HMAC-SHA-256 over the checkpoint, keyed with AUDIT_HMAC_KEY; null when no key is configured. */
  signature: string | null;
  algorithm: 'hmac-sha256' | null;
}

const checkpointText = (c: Pick<Checkpoint, 'seq' | 'hash' | 'at'>) =>
  `jaga-audit-checkpoint-v1\n${c.seq}\n${c.hash}\n${c.at}`;

export function signCheckpoint(key: string | undefined, c: Pick<Checkpoint, 'seq' | 'hash' | 'at'>): Checkpoint {
  if (!key) return { ...c, signature: null, algorithm: null };
  return {
    ...c,
    signature: createHmac('sha256', key).update(checkpointText(c)).digest('hex'),
    algorithm: 'hmac-sha256',
  };
}

/** True when the signature matches; false when it does not or no key is configured to check it. */
export function checkpointSignatureValid(
  key: string | undefined,
  c: Pick<Checkpoint, 'seq' | 'hash' | 'at'> & { signature?: string | null },
): boolean {
  if (!key || !c.signature) return false;
  const expected = Buffer.from(signCheckpoint(key, c).signature ?? '', 'hex');
  const given = Buffer.from(c.signature, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
