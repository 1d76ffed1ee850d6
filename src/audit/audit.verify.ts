import type { Queryable } from '../db/database.ts';
import { chainHash, checkpointSignatureValid, GENESIS_HASH } from './audit.hash.ts';
import {
  droppedThrough,
  entriesAfter,
  entriesBetween,
  entryAt,
  partitionStarts,
  readHead,
  retentionAnchor,
} from './audit.repo.ts';

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
  /**
   * Segments of the chain walked at once (AUDIT_VERIFY_PARALLELISM): each starts from the hash its
   * predecessor's last entry holds, which that predecessor's own walk checks. 1: one walk in order.
   */
  parallelism?: number;
  /**
   * Walks the segments of a parallel walk elsewhere (Node with PostgreSQL: worker threads, each
   * with its own connection; see audit.verify-workers.ts). Absent: they are walked in this thread.
   */
  workers?: StartPieceWalkers;
  onProgress?: (checked: number, total: number) => void;
}

/** One segment of a parallel walk: from `from`, whose predecessor holds `prev`, up to `through` (else the last entry). */
export interface Piece {
  from: number;
  through?: number;
  prev: string;
  headSeq: number;
  pageSize: number;
}

/** What a segment's walk found (figures meaningless when `abandoned`). */
export interface Walked {
  checked: number;
  /** The seq after the last entry found intact (at a break: the bad entry's). */
  expectedSeq: number;
  /** The hash of the last entry found intact. */
  prev: string;
  firstBad?: BadEntry;
  /** Left off because an earlier segment broke first: its figures mean nothing. */
  abandoned?: boolean;
}

/** Walks pieces somewhere else, at most as many at once as it was started for; closed when the walk ends. */
export interface PieceWalkers {
  /**
   * Resolves with the piece's result, or rejects when it could not be walked (a worker that
   * failed, exited or stopped answering): the piece is then not intact.
   */
  walk(piece: Piece, on: { stopBefore: () => number; onPage: (checked: number) => void }): Promise<Walked>;
  close(): Promise<void>;
}
export type StartPieceWalkers = (hmacKey: string | undefined) => PieceWalkers;

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
  const walked =
    (o.parallelism ?? 1) > 1
      ? await walkInParallel(sql, o, { expectedSeq, prev, anchored, headSeq: head.seq }, pageSize)
      : await walkSegment(sql, o, { from: expectedSeq, prev, anchored, headSeq: head.seq, pageSize });
  let { firstBad } = walked;
  const { checked } = walked;
  prev = walked.prev;
  const lastSeq = walked.expectedSeq - 1;
  if (!firstBad && lastSeq < head.seq) firstBad = tailMissing(head.seq, lastSeq);
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

const tailMissing = (headSeq: number, lastSeq: number): BadEntry => ({
  seq: lastSeq + 1,
  id: null,
  problem: 'missing',
  detail: `the head says ${headSeq} entries but the chain ends at ${lastSeq}`,
});

/**
 * Walks entries from `from` in seq order, up to `through` (inclusive) when given, else to the last
 * entry present, checking each link and hash. `stopBefore` abandons the walk between pages once a
 * break is known before `from` (a parallel walk's earlier segment broke).
 */
export async function walkSegment(
  sql: Queryable,
  o: Pick<VerifyOptions, 'hmacKey' | 'onProgress'>,
  s: {
    from: number;
    prev: string;
    anchored: boolean;
    headSeq: number;
    pageSize: number;
    through?: number;
    stopBefore?: () => number;
    onPage?: (checked: number) => void;
  },
): Promise<Walked> {
  const { pageSize, through } = s;
  let expectedSeq = s.from;
  let prev = s.prev;
  let checked = 0;
  let firstBad: BadEntry | undefined;
  let after = expectedSeq - 1;
  let first = true;
  const read = (from: number) =>
    through === undefined ? entriesAfter(sql, from, pageSize) : entriesBetween(sql, from, through, pageSize);
  // Fetch the next page while hashing this one: the walk costs about max(fetch, hash), not their sum.
  const prefetch = (from: number) => {
    const p = read(from);
    p.catch(() => {}); // handled where awaited; this only keeps an early failure from being "unhandled"
    return p;
  };
  let next = prefetch(after);
  if (!s.onPage) o.onProgress?.(0, s.headSeq);
  walk: for (;;) {
    const page = await next;
    if (!page.length) break;
    if (s.stopBefore && s.stopBefore() < s.from) {
      await next.catch(() => []);
      return { checked, expectedSeq, prev, abandoned: true };
    }
    after = page[page.length - 1]!.seq;
    next = page.length < pageSize ? Promise.resolve([]) : prefetch(after);
    let pageChecked = 0;
    for (const e of page) {
      if (first && e.seq > expectedSeq && !s.anchored) {
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
      pageChecked += 1;
    }
    if (s.onPage) s.onPage(pageChecked);
    else o.onProgress?.(checked, s.headSeq);
  }
  await next.catch(() => []); // a prefetched page left unread after a break
  if (!firstBad && through !== undefined && expectedSeq <= through) {
    // The segment ended short: entries at its end are missing. Say so as the walk in order would,
    // naming the next entry present (or, with none, the head).
    const [present] = await entriesAfter(sql, expectedSeq - 1, 1);
    firstBad = present
      ? {
          seq: expectedSeq,
          id: null,
          problem: 'missing',
          detail: `entry ${expectedSeq} is missing (next present: ${present.seq})`,
        }
      : tailMissing(s.headSeq, expectedSeq - 1);
  }
  return { checked, expectedSeq, prev, ...(firstBad ? { firstBad } : {}) };
}

/**
 * The same walk in segments, `parallelism` at a time: cut at partition boundaries (each month's
 * partition starts from the previous one's last hash) and into pieces of at most a quarter of a
 * worker's share, so workers stay busy to the end. A segment starts from the hash its
 * predecessor's last entry holds; the predecessor's own walk checks that hash, so the joins are
 * checked as in the walk in order. The answer is the walk in order's: the earliest break, the
 * entries checked before it, and the end of the intact prefix as `lastSeq`/`lastHash`.
 */
async function walkInParallel(
  sql: Queryable,
  o: VerifyOptions,
  w: { expectedSeq: number; prev: string; anchored: boolean; headSeq: number },
  pageSize: number,
): Promise<Walked> {
  let { expectedSeq, prev } = w;
  if (!w.anchored) {
    // Where the walk in order starts: after partitions retention dropped, from their last entry.
    const [firstPresent] = await entriesAfter(sql, expectedSeq - 1, 1);
    if (firstPresent && firstPresent.seq > expectedSeq) {
      const anchor = await retentionAnchor(sql, firstPresent.seq);
      if (anchor) {
        expectedSeq = anchor.lastSeq + 1;
        prev = anchor.lastHash;
      }
    }
  }
  const parallelism = o.parallelism ?? 1;
  const span = Math.max(0, w.headSeq - expectedSeq + 1);
  const piece = Math.max(pageSize, Math.ceil(span / (parallelism * 4)));
  const cuts = new Set<number>();
  for (const s of await partitionStarts(sql)) if (s > expectedSeq && s <= w.headSeq) cuts.add(s);
  for (let s = expectedSeq + piece; s <= w.headSeq; s += piece) cuts.add(s);
  const starts = [expectedSeq, ...[...cuts].sort((a, b) => a - b)];
  const segments = starts.map((from, i) => ({ from, through: i + 1 < starts.length ? starts[i + 1]! - 1 : undefined }));
  const results: (Walked | { failed: Error } | undefined)[] = segments.map(() => undefined);
  // The earliest seq known broken, or the start of the earliest segment that could not be walked:
  // segments after it need not finish, as the walk in order would not reach them.
  let earliestBreak = Number.POSITIVE_INFINITY;
  let checkedSoFar = 0;
  o.onProgress?.(0, w.headSeq);
  let nextSegment = 0;
  const worker = async () => {
    for (;;) {
      const i = nextSegment++;
      const segment = segments[i];
      if (!segment || segment.from > earliestBreak) return;
      let anchorHash = prev;
      if (i > 0) {
        const before = await entryAt(sql, segment.from - 1);
        // Missing: the segment before reports it (an earlier break), so this one need not be walked.
        if (!before) {
          results[i] = { checked: 0, expectedSeq: segment.from, prev: '', abandoned: true };
          continue;
        }
        anchorHash = before.hash;
      }
      const piece: Piece = {
        from: segment.from,
        prev: anchorHash,
        headSeq: w.headSeq,
        pageSize,
        ...(segment.through !== undefined ? { through: segment.through } : {}),
      };
      const on = {
        stopBefore: () => earliestBreak,
        onPage: (n: number) => {
          checkedSoFar += n;
          o.onProgress?.(checkedSoFar, w.headSeq);
        },
      };
      let walked: Walked;
      try {
        walked = walkers
          ? await walkers.walk(piece, on)
          : await walkSegment(sql, o, { ...piece, anchored: true, ...on });
      } catch (error) {
        // Fails closed: the answer is an earlier break if one is found, else this error. This
        // walker may be gone, so it takes no more segments.
        results[i] = { failed: error as Error };
        earliestBreak = Math.min(earliestBreak, segment.from);
        return;
      }
      if (walked.firstBad) earliestBreak = Math.min(earliestBreak, walked.firstBad.seq);
      results[i] = walked;
    }
  };
  const walkers = o.workers?.(o.hmacKey);
  try {
    await Promise.all(Array.from({ length: Math.min(parallelism, segments.length) }, worker));
  } finally {
    await walkers?.close();
  }
  // Assemble in seq order: every segment before the earliest break was walked whole and intact.
  let checked = 0;
  let last: Walked = { checked: 0, expectedSeq, prev };
  for (const r of results) {
    if (r && 'failed' in r) throw new Error(`a segment of the chain could not be verified: ${r.failed.message}`);
    if (!r || r.abandoned) throw new Error('a segment before the first break was not walked');
    checked += r.checked;
    last = r;
    if (r.firstBad) break;
  }
  return { ...last, checked };
}
