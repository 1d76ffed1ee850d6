import { createHmac } from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import { pseudonymSecret } from './records.repo.ts';
import type { CryptoKeyLike } from './masks.ts';

/**
 * Keyed pseudonyms (HMAC-SHA-256): stable for one dataset, so joins within it still work;
 * different across datasets, so pseudonyms cannot be linked between them; irreversible
 * without the key. The per-dataset key is HMAC(master, "jaga/pseudonym/v1/" + datasetId)
 * (HKDF-Expand with one block), where master is PSEUDONYM_KEY, or, when that is unset, a random
 * secret stored per dataset in the database (record_pseudonym_secrets).
 */
export async function pseudonymKeyFor(sql: Queryable, master: string | undefined, datasetId: string): Promise<CryptoKeyLike> {
  const root = master !== undefined ? Buffer.from(master, 'utf8') : Buffer.from(await pseudonymSecret(sql, datasetId));
  const key = createHmac('sha256', root).update(`jaga/pseudonym/v1/${datasetId}`).digest();
  return (value: string) => 'psn_' + createHmac('sha256', key).update(value).digest('base64url').slice(0, 22);
}
