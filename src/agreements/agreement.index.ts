import type { CatalogSnapshot } from '../catalog/catalog.snapshot.ts';
import type { Sql } from '../db/database.ts';
import { NO_SHARING, type Agreement, type DatasetSharing } from './agreement.model.ts';
import { agreementsNaming, readAgreementsAtVersion, readSharing } from './agreement.repo.ts';

/**
 * The agreements decisions need, held in memory beside the catalog snapshot. Every agreement change
 * moves the catalog version (migrations/0009_agreements.sql), so the snapshot's invalidation
 * (this instance's writes, LISTEN/NOTIFY from others, the periodic version read) covers agreements
 * too: the index answers from memory only while the catalog snapshot is current and was loaded at
 * the very version the index was. Otherwise it reads the database, as the snapshot does, and
 * starts a reload. Records reads never use it: they read agreements in their own transaction.
 */
export interface AgreementIndex {
  /** The non-draft agreements naming `sub` as one of their recipient's principals. */
  naming(sub: string): Promise<readonly Agreement[]>;
  /** The field exemptions of a dataset its PPID lets be shared, with the legal bases (the DIK records). */
  sharing(datasetId: string): Promise<DatasetSharing>;
}

interface Loaded {
  version: string;
  bySub: Map<string, Agreement[]>;
  sharing: Map<string, DatasetSharing>;
}

export function createAgreementIndex(sql: Sql, snapshot: CatalogSnapshot | null): AgreementIndex {
  let loaded: Loaded | null = null;
  let loading: Promise<void> | null = null;

  function reload(): void {
    if (loading) return;
    loading = readAgreementsAtVersion(sql)
      .then(({ version, agreements, sharing }) => {
        const bySub = new Map<string, Agreement[]>();
        for (const a of agreements) {
          for (const sub of a.principals) {
            const list = bySub.get(sub);
            if (list) list.push(a);
            else bySub.set(sub, [a]);
          }
        }
        loaded = { version, bySub, sharing };
      })
      .catch(() => {}) // until a load succeeds, decisions read the database (and fail as it fails)
      .finally(() => (loading = null));
  }

  /** The loaded state while it is current (the catalog snapshot fresh, at the same version); else null. */
  function current(): Loaded | null {
    const state = snapshot?.state();
    if (state?.fresh && loaded !== null && loaded.version === state.version) return loaded;
    if (snapshot) reload();
    return null;
  }

  return {
    async naming(sub) {
      const now = current();
      return now ? (now.bySub.get(sub) ?? []) : agreementsNaming(sql, sub);
    },
    async sharing(datasetId) {
      const now = current();
      return (now ? now.sharing : await readSharing(sql, datasetId)).get(datasetId) ?? NO_SHARING;
    },
  };
}
