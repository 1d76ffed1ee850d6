import type { Queryable, Sql, TransactionSql } from '../db/database.ts';
import { exemptionSharing } from '../catalog/exemptions.repo.ts';
import type { Agreement, DatasetSharing, SharedExemption } from './agreement.model.ts';
import type { AgreementDataset, StoredStatus } from './agreement.schema.ts';

interface AgreementRow {
  id: string;
  title: string;
  reference: string;
  reference_date: string | null;
  provider_units: string[];
  recipient_agency: string;
  recipient_principals: string[];
  legal_basis: string;
  purposes: string[];
  datasets: AgreementDataset[] | string;
  valid_from: string;
  valid_to: string;
  rows_per_day: number | null;
  publish: boolean;
  status: StoredStatus;
  drafted_by: string;
  approved_by: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, title, reference, reference_date::text as reference_date, provider_units, recipient_agency,
  recipient_principals, legal_basis, purposes, datasets, valid_from::text as valid_from, valid_to::text as valid_to,
  rows_per_day, publish, status, drafted_by, approved_by, version, created_at, updated_at`;

function fromRow(r: AgreementRow): Agreement {
  return {
    id: r.id,
    title: r.title,
    reference: r.reference,
    referenceDate: r.reference_date,
    providerUnits: r.provider_units,
    recipientAgency: r.recipient_agency,
    principals: r.recipient_principals,
    legalBasis: r.legal_basis,
    purposes: r.purposes,
    datasets: typeof r.datasets === 'string' ? (JSON.parse(r.datasets) as AgreementDataset[]) : r.datasets,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    rowsPerDay: r.rows_per_day === null ? null : Number(r.rows_per_day),
    publish: r.publish,
    status: r.status,
    draftedBy: r.drafted_by,
    approvedBy: r.approved_by,
    version: Number(r.version),
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

export async function findAgreement(q: Queryable, id: string, lock?: 'update' | 'share'): Promise<Agreement | null> {
  // `lock` is one of two words, never caller text.
  const suffix = q.unsafe(lock ? ` for ${lock}` : '');
  const [row] = await q<AgreementRow[]>`select ${q.unsafe(COLUMNS)} from agreements where id = ${id}${suffix}`;
  return row ? fromRow(row) : null;
}

/** The agreements naming `sub` among their recipient's principals (drafts left out: they grant nothing). */
export async function agreementsNaming(q: Queryable, sub: string): Promise<Agreement[]> {
  const rows = await q<AgreementRow[]>`
    select ${q.unsafe(COLUMNS)} from agreements
    where ${sub} = any(recipient_principals) and status <> 'draft' order by id`;
  return rows.map(fromRow);
}

export async function allAgreements(q: Queryable): Promise<Agreement[]> {
  const rows = await q<AgreementRow[]>`select ${q.unsafe(COLUMNS)} from agreements order by id`;
  return rows.map(fromRow);
}

/**
 * The field exemptions in force whose DIK record lets them be shared (of one dataset, or all), by
 * dataset and field; `share` locks them until the transaction ends (a change waits, or is seen).
 */
export async function readSharing(
  q: Queryable,
  datasetId: string | null,
  lock?: 'share',
): Promise<Map<string, DatasetSharing>> {
  const out = new Map<string, Map<string, SharedExemption>>();
  for (const r of await exemptionSharing(q, datasetId, lock)) {
    // A dataset's own exemption shares nothing (a field's own record must allow it).
    if (r.field_name === null) continue;
    let byField = out.get(r.dataset_id);
    if (!byField) out.set(r.dataset_id, (byField = new Map()));
    byField.set(r.field_name, Object.freeze({ dikNo: r.dik_no, bases: Object.freeze([...r.shareable_under]) }));
  }
  return out;
}

/** Every agreement that grants anything, and the shareable exemptions, at one catalog version. */
export async function readAgreementsAtVersion(
  sql: Sql,
): Promise<{ version: string; agreements: Agreement[]; sharing: Map<string, DatasetSharing> }> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const [v] = await tx<{ version: string }[]>`select version::text as version from catalog_version`;
    if (!v) throw new Error('catalog_version has no row');
    const rows = await tx<AgreementRow[]>`select ${tx.unsafe(COLUMNS)} from agreements where status <> 'draft'`;
    return { version: v.version, agreements: rows.map(fromRow), sharing: await readSharing(tx, null) };
  });
}

export async function insertAgreement(tx: TransactionSql, a: Agreement): Promise<void> {
  await tx`
    insert into agreements (id, title, reference, reference_date, provider_units, recipient_agency,
      recipient_principals, legal_basis, purposes, datasets, valid_from, valid_to, rows_per_day, publish,
      status, drafted_by, approved_by, version)
    values (${a.id}, ${a.title}, ${a.reference}, ${a.referenceDate}, ${a.providerUnits}, ${a.recipientAgency},
      ${a.principals}, ${a.legalBasis}, ${a.purposes}, ${tx.json(a.datasets as never)}, ${a.validFrom}, ${a.validTo},
      ${a.rowsPerDay}, ${a.publish}, ${a.status}, ${a.draftedBy}, ${a.approvedBy}, ${a.version})`;
}

/** Writes the whole agreement as it now is (its version already moved on by the caller). */
export async function saveAgreement(tx: TransactionSql, a: Agreement): Promise<void> {
  await tx`
    update agreements set title = ${a.title}, reference = ${a.reference}, reference_date = ${a.referenceDate},
      provider_units = ${a.providerUnits}, recipient_agency = ${a.recipientAgency},
      recipient_principals = ${a.principals}, legal_basis = ${a.legalBasis}, purposes = ${a.purposes},
      datasets = ${tx.json(a.datasets as never)}, valid_from = ${a.validFrom}, valid_to = ${a.validTo},
      rows_per_day = ${a.rowsPerDay}, publish = ${a.publish}, status = ${a.status}, approved_by = ${a.approvedBy},
      version = ${a.version}, updated_at = now()
    where id = ${a.id}`;
}

export async function appendHistory(
  tx: TransactionSql,
  a: Agreement,
  event: string,
  actor: string | null,
  note: string | null,
): Promise<void> {
  await tx`
    insert into agreement_history (agreement_id, event, actor, status, note, agreement)
    values (${a.id}, ${event}, ${actor}, ${a.status}, ${note}, ${tx.json({ ...a, createdAt: undefined, updatedAt: undefined } as never)})`;
}

export async function historyOf(
  q: Queryable,
  id: string,
): Promise<{ seq: string; at: Date; event: string; actor: string | null; status: string; note: string | null }[]> {
  return q`
    select seq::text as seq, at, event, actor, status, note from agreement_history
    where agreement_id = ${id} order by seq`;
}

/**
 * The rows already disclosed today under the agreement, with that day's counter row locked until
 * the transaction ends: concurrent reads under one agreement count one after another.
 */
export async function lockUsage(tx: TransactionSql, id: string, day: string): Promise<number> {
  await tx`insert into agreement_usage (agreement_id, day) values (${id}, ${day}) on conflict do nothing`;
  const [row] = await tx<{ rows: string }[]>`
    select rows::text as rows from agreement_usage where agreement_id = ${id} and day = ${day} for update`;
  return Number(row?.rows ?? 0);
}

/** Adds `rows` (negative: gives rows back, never below zero) to the day's count. */
export async function addUsage(q: Queryable, id: string, day: string, rows: number): Promise<void> {
  await q`update agreement_usage set rows = greatest(rows + ${rows}, 0) where agreement_id = ${id} and day = ${day}`;
}
