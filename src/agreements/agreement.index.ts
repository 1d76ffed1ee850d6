import type { CatalogSnapshot } from '../catalog/catalog.snapshot.ts';
import type { Sql } from '../db/database.ts';
import type { Agreement } from './agreement.model.ts';
import { agreementsNaming, readAgreementsAtVersion } from './agreement.repo.ts';

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
}

interface Loaded {
  version: string;
  bySub: Map<string, Agreement[]>;
}

export function createAgreementIndex(sql: Sql, snapshot: CatalogSnapshot | null): AgreementIndex {
  let loaded: Loaded | null = null;
  let loading: Promise<void> | null = null;

  function reload(): void {
    if (loading) return;
    loading = readAgreementsAtVersion(sql)
      .then(({ version, agreements }) => {
        const bySub = new Map<string, Agreement[]>();
        for (const a of agreements) {
          for (const sub of a.principals) {
            const list = bySub.get(sub);
            if (list) list.push(a);
            else bySub.set(sub, [a]);
          }
        }
        loaded = { version, bySub };
      })
      .catch(() => {}) // until a load succeeds, decisions read the database (and fail as it fails)
      .finally(() => (loading = null));
  }

  return {
    async naming(sub) {
      const state = snapshot?.state();
      if (state?.fresh && loaded !== null && loaded.version === state.version) return loaded.bySub.get(sub) ?? [];
      if (snapshot) reload();
      return agreementsNaming(sql, sub);
    },
  };
}
