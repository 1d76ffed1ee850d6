import { createHash, createHmac, type Hash } from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import { pseudonymSecret } from './records.repo.ts';
import type { Pseudonymiser } from './masks.ts';

/** Distinct values remembered per read (low-cardinality fields repeat a lot); bounded. */
const CACHE_MAX = 4096;

/**
 * HMAC-SHA-256 (RFC 2104) with the key's inner and outer pads hashed once: each value then costs
 * two hash copies instead of building a key object per call (which dominated export CPU).
 */
function hmacWith(key: Buffer): (value: string) => Buffer {
  const block = Buffer.alloc(64);
  (key.length > 64 ? createHash('sha256').update(key).digest() : key).copy(block);
  const inner = createHash('sha256').update(block.map((b) => b ^ 0x36));
  const outer = createHash('sha256').update(block.map((b) => b ^ 0x5c));
  return (value) => (outer.copy() as Hash).update((inner.copy() as Hash).update(value).digest()).digest();
}

/**
 * Keyed pseudonyms (HMAC-SHA-256): stable for one dataset, so joins within it still work;
 * different across datasets, so pseudonyms cannot be linked between them; irreversible
 * without the key. The per-dataset key is HMAC(master, "jaga/pseudonym/v1/" + datasetId)
 * (HKDF-Expand with one block), where master is PSEUDONYM_KEY, or, when that is unset, a random
 * secret stored per dataset in the database (record_pseudonym_secrets).
 */
export async function pseudonymKeyFor(
  sql: Queryable,
  master: string | undefined,
  datasetId: string,
): Promise<Pseudonymiser> {
  const root = master !== undefined ? Buffer.from(master, 'utf8') : Buffer.from(await pseudonymSecret(sql, datasetId));
  const key = createHmac('sha256', root).update(`jaga/pseudonym/v1/${datasetId}`).digest();
  const mac = hmacWith(key);
  const cache = new Map<string, string>();
  return (value: string) => {
    let p = cache.get(value);
    if (p === undefined) {
      p = 'psn_' + mac(value).toString('base64url').slice(0, 22);
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(value, p);
    }
    return p;
  };
}
