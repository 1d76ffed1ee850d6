import type { Queryable } from '../db/database.ts';
import { chainHash, checkpointSignatureValid, GENESIS_HASH } from './audit.hash.ts';
import { droppedThrough, entriesAfter, entryAt, readHead, retentionAnchor } from './audit.repo.ts';

export interface BadEntry {
  seq: number;
  /** null when the entry is missing. */
  id: string | null;
  problem: 'hash' | 'link' | 'missing';
  detail: string;
}

export interface CheckpointInput {
  seq: number;
  hash: string;
  at?: string;
  signature?: string | null;
}

export interface VerifyResult {
  ok: boolean;
  /** Whether the chain was checked with AUDIT_HMAC_KEY; unkeyed, anyone with write access could have rewritten it consistently. */
  keyed: boolean;
  checked: number;
  /** The last seq walked (the head when ok). */
  lastSeq: number;
  /** Where the walk started: after a point an earlier walk verified, or (absent) the start of the chain. */
  from?: { seq: number; verifiedAt: string };
  firstBad?: BadEntry;
  checkpoint?: {
    ok: boolean;
    seq: number;
    problem?: 'missing' | 'hash' | 'head_behind';
    signatureValid: boolean | null;
  };
}

export interface VerifyOptions {
  hmacKey?: string | undefined;
  /** A checkpoint held elsewhere: its entry must still be there with the same hash. */
  checkpoint?: CheckpointInput;
  /** Walk only the entries after the checkpoint, trusting it as the anchor. */
  fromCheckpoint?: boolean;
  /**
   * Walk only the entries after a point an earlier walk verified (its entry must still hold that
   * hash). What lies before it is not re-checked: that is the full walk's job.
   */
  start?: { seq: number; hash: string; verifiedAt?: string };
  pageSize?: number;
  onProgress?: (checked: number, total: number) => void;
}

/**
 * Walks the chain in seq order and recomputes every hash: reports the first entry whose content
 * no longer matches its hash (`hash`), whose previous-hash link is wrong (`link`: reordered or
 * re-hashed), or that is missing from the sequence (`missing`: deleted). Against a checkpoint it
 * also reports truncation of the newest entries.
 */
export async function verifyChain(sql: Queryable, o: VerifyOptions = {}): Promise<VerifyResult & { lastHash: string }> {
  const pageSize = o.pageSize ?? 5000;
  const head = await readHead(sql);
  const cp = o.checkpoint;
  let expectedSeq = 1;
  let prev = GENESIS_HASH;
  let anchored = Boolean(cp && o.fromCheckpoint);
  if (cp && o.fromCheckpoint) {
    expectedSeq = cp.seq + 1;
    prev = cp.hash;
  } else if (o.start) {
    const at = await entryAt(sql, o.start.seq);
    // A point in a partition retention has since dropped: walk from the oldest entry kept.
    const dropped = !at && (await droppedThrough(sql)) >= o.start.seq;
    if (dropped) o = { ...o, start: undefined };
    else if (at?.hash !== o.start.hash) {
      const firstBad: BadEntry = at
        ? { seq: at.seq, id: at.id, problem: 'hash', detail: 'the entry no longer holds the hash verified earlier' }
        : { seq: o.start.seq, id: null, problem: 'missing', detail: 'the last verified entry is missing' };
      return { ok: false, keyed: Boolean(o.hmacKey), checked: 0, lastSeq: o.start.seq - 1, firstBad, lastHash: prev };
    } else {
      expectedSeq = o.start.seq + 1;
      prev = o.start.hash;
      anchored = true;
    }
  }
  let checked = 0;
  let firstBad: BadEntry | undefined;
  let after = expectedSeq - 1;
  let first = true;
  // Fetch the next page while hashing this one: the walk costs about max(fetch, hash), not their sum.
  const prefetch = (from: number) => {
    const p = entriesAfter(sql, from, pageSize);
    p.catch(() => {}); // handled where awaited; this only keeps an early failure from being "unhandled"
    return p;
  };
  let next = prefetch(after);
  o.onProgress?.(0, head.seq);
  walk: for (;;) {
    const page = await next;
    if (!page.length) break;
    after = page[page.length - 1]!.seq;
    next = page.length < pageSize ? Promise.resolve([]) : prefetch(after);
    for (const e of page) {
      if (first && e.seq > expectedSeq && !anchored) {
        // Older partitions may have been dropped by retention: continue from the last entry they held.
        const anchor = await retentionAnchor(sql, e.seq);
        if (anchor) {
          expectedSeq = anchor.lastSeq + 1;
          prev = anchor.lastHash;
        }
      }
      first = false;
      if (e.seq !== expectedSeq) {
        firstBad = {
          seq: expectedSeq,
          id: null,
          problem: 'missing',
          detail: `entry ${expectedSeq} is missing (next present: ${e.seq})`,
        };
        break walk;
      }
      if (e.prevHash !== prev) {
        firstBad = {
          seq: e.seq,
          id: e.id,
          problem: 'link',
          detail: 'previous-hash link does not match the entry before it',
        };
        break walk;
      }
      const hash = chainHash(o.hmacKey, prev, e);
      if (hash !== e.hash) {
        firstBad = { seq: e.seq, id: e.id, problem: 'hash', detail: 'content does not match its hash' };
        break walk;
      }
      prev = e.hash;
      expectedSeq += 1;
      checked += 1;
    }
    o.onProgress?.(checked, head.seq);
  }
  await next.catch(() => []); // a prefetched page left unread after a break
  const lastSeq = expectedSeq - 1;
  if (!firstBad && lastSeq < head.seq) {
    firstBad = {
      seq: lastSeq + 1,
      id: null,
      problem: 'missing',
      detail: `the head says ${head.seq} entries but the chain ends at ${lastSeq}`,
    };
  }
  const result: VerifyResult & { lastHash: string } = {
    ok: !firstBad,
    keyed: Boolean(o.hmacKey),
    checked,
    lastSeq,
    lastHash: prev,
  };
  if (o.start) result.from = { seq: o.start.seq, verifiedAt: o.start.verifiedAt ?? '' };
  if (firstBad) result.firstBad = firstBad;
  if (cp) {
    const signatureValid =
      cp.signature && cp.at
        ? checkpointSignatureValid(o.hmacKey, { seq: cp.seq, hash: cp.hash, at: cp.at, signature: cp.signature })
        : null;
    const entry = await entryAt(sql, cp.seq);
    let problem: 'missing' | 'hash' | 'head_behind' | undefined;
    if (!entry) problem = 'missing';
    else if (entry.hash !== cp.hash) problem = 'hash';
    else if (head.seq < cp.seq) problem = 'head_behind';
    result.checkpoint = {
      ok: !problem && signatureValid !== false,
      seq: cp.seq,
      signatureValid,
      ...(problem ? { problem } : {}),
    };
    if (!result.checkpoint.ok) result.ok = false;
  }
  return result;
}
