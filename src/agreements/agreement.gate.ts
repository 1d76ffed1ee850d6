import type { Sql, TransactionSql } from '../db/database.ts';
import type { Principal } from '../identity/principal.ts';
import { DomainError } from '../shared/errors.ts';
import {
  dayOf,
  nextDayStart,
  NO_SHARING,
  selectAgreement,
  type Agreement,
  type DatasetSharing,
  type Selection,
} from './agreement.model.ts';
import { addUsage, agreementsNaming, findAgreement, lockUsage, readSharing } from './agreement.repo.ts';

/** What a records read under an agreement holds until its rows are read: the day's allowance. */
export interface Held {
  agreementId: string;
  day: string;
  /** Rows per day, or null when the agreement sets no limit. */
  limit: number | null;
  /** Rows that may still leave today (null: no limit). */
  remaining: number | null;
}

/**
 * The records read path's view of agreements (src/records/read.service.ts). Reads never take an
 * agreement from memory: `select` reads the database, and `hold` re-reads the agreement in the
 * transaction that reads the rows (locked for share, so a suspension or revocation committing
 * meanwhile is waited for and seen), then locks the day's usage row so concurrent reads under one
 * agreement count one after another (the row limit is exact).
 */
export interface AgreementGate {
  now(): number;
  /** The agreement, and the dataset's shareable field exemptions (their DIK records), from the database. */
  select(
    principal: Principal,
    datasetId: string,
    purpose: string | null,
  ): Promise<{ selection: Selection; sharing: DatasetSharing }>;
  /**
   * `sharing`: what the read was decided with; the DIK records are read again locked for share, and
   * a change committed meanwhile answers CONFLICT (ask again) rather than let exempt data out on it.
   */
  hold(
    tx: TransactionSql,
    principal: Principal,
    agreement: Agreement,
    datasetId: string,
    purpose: string | null,
    sharing?: DatasetSharing,
  ): Promise<Held>;
  /** Counts the rows that leave under the allowance held (same transaction). */
  count(tx: TransactionSql, held: Held, rows: number): Promise<void>;
  /** Gives back rows counted by a read whose caller never got them (answered 503 at its deadline). */
  refund(held: Held, rows: number): Promise<void>;
}

export function createAgreementGate(sql: Sql, now: () => number): AgreementGate {
  return {
    now,
    async select(principal, datasetId, purpose) {
      const list = principal.sub === null ? [] : await agreementsNaming(sql, principal.sub);
      const selection = selectAgreement(list, principal, datasetId, purpose, now());
      const sharing = selection.agreement
        ? ((await readSharing(sql, datasetId)).get(datasetId) ?? NO_SHARING)
        : NO_SHARING;
      return { selection, sharing };
    },
    async hold(tx, principal, agreement, datasetId, purpose, sharing) {
      const at = now();
      const current = await findAgreement(tx, agreement.id, 'share');
      const still = selectAgreement(current ? [current] : [], principal, datasetId, purpose, at);
      if (!still.agreement)
        throw new DomainError(still.code, `The agreement ${agreement.id} no longer covers this read (${still.code}).`, {
          extensions: { agreementId: agreement.id },
        });
      if (still.agreement.version !== agreement.version)
        throw new DomainError('CONFLICT', `The agreement ${agreement.id} changed during the read; ask again.`);
      if (sharing && !sameSharing(sharing, (await readSharing(tx, datasetId, 'share')).get(datasetId) ?? NO_SHARING))
        throw new DomainError(
          'CONFLICT',
          `An exemption record of dataset ${datasetId} changed during the read; ask again.`,
        );
      const day = dayOf(at);
      const limit = still.agreement.rowsPerDay;
      if (limit === null) return { agreementId: agreement.id, day, limit: null, remaining: null };
      const used = await lockUsage(tx, agreement.id, day);
      if (used >= limit) {
        throw new DomainError(
          'AGREEMENT_ROW_LIMIT',
          `The agreement ${agreement.id} allows ${limit} rows a day; today's are used up.`,
          {
            extensions: {
              agreementId: agreement.id,
              limit,
              resetAt: nextDayStart(at),
              retryAfter: Math.max(1, Math.ceil((Date.parse(nextDayStart(at)) - at) / 1000)),
            },
          },
        );
      }
      return { agreementId: agreement.id, day, limit, remaining: limit - used };
    },
    async count(tx, held, rows) {
      if (held.limit !== null && rows > 0) await addUsage(tx, held.agreementId, held.day, rows);
    },
    async refund(held, rows) {
      if (held.limit !== null && rows > 0) await addUsage(sql, held.agreementId, held.day, -rows);
    },
  };
}

function sameSharing(a: DatasetSharing, b: DatasetSharing): boolean {
  if (a.size !== b.size) return false;
  for (const [field, x] of a) {
    const y = b.get(field);
    if (!y || y.dikNo !== x.dikNo || y.bases.length !== x.bases.length || y.bases.some((v, i) => v !== x.bases[i]))
      return false;
  }
  return true;
}
