import type { AuditLog } from '../audit/audit.port.ts';
import { asTransaction, type Sql, type TransactionSql } from '../db/database.ts';
import type { Principal } from '../identity/principal.ts';
import { DomainError } from '../shared/errors.ts';
import { decodeCursor, encodeCursor } from '../catalog/catalog.cursor.ts';
import type { PolicyInForce } from '../catalog/catalog.access.ts';
import {
  datasetsWithCategories,
  findPurpose,
  insertPurpose,
  listPurposes,
  updatePurpose,
  type PurposeRow,
  type PurposeValues,
} from './purposes.repo.ts';
import type { CreatePurpose, ProcessingEntry, PurposeView, UpdatePurpose } from './purposes.schema.ts';

/**
 * The register of processing purposes and the record of processing (UU 27/2022 art. 20, 31).
 * Kept by a PPID or an administrator; read by them and auditors. A change bumps the catalog
 * version (migration 0008), so every instance reloads the purposes decisions hold in memory.
 */
export interface PurposesService {
  list(p: Principal): Promise<PurposeView[]>;
  create(p: Principal, input: CreatePurpose, ctx: Ctx): Promise<PurposeView>;
  update(p: Principal, id: string, input: UpdatePurpose, ctx: Ctx): Promise<PurposeView>;
  processing(
    p: Principal,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ items: ProcessingEntry[]; nextCursor: string | null }>;
}

interface Ctx {
  requestId?: string | null;
  traceId?: string | null;
}

/**
 * Waits for the register in memory to hold a committed change; if that reload fails (database
 * gone), the change is committed all the same and the periodic version read reloads it later.
 */
const settled = (p: Promise<void>) => p.catch(() => undefined);

const KEEPERS = ['ppid', 'admin'];
const READERS = ['ppid', 'admin', 'auditor'];

function requireRole(p: Principal, roles: string[], what: string): void {
  if (p.kind === 'anonymous') throw new DomainError('UNAUTHENTICATED', `${what}: sign in.`);
  if (!p.roles.some((r) => roles.includes(r)))
    throw new DomainError('FORBIDDEN', `${what} is for ${roles.join(', ')}.`);
}

export function purposeView(r: PurposeRow): PurposeView {
  return {
    id: r.id,
    description: r.description,
    lawfulBasis: r.lawful_basis as PurposeView['lawfulBasis'],
    datasets: r.datasets,
    categories: r.categories,
    recipients: r.recipients,
    retention: r.retention,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** Whether a purpose may use a dataset holding these categories (empty lists: any). */
function applies(purpose: PurposeRow, dataset: string, categories: string[]): boolean {
  if (purpose.datasets.length) return purpose.datasets.includes(dataset);
  return (
    categories.length > 0 && (purpose.categories.length === 0 || purpose.categories.some((c) => categories.includes(c)))
  );
}

export function createPurposesService(deps: {
  sql: Sql;
  audit: AuditLog;
  policy: PolicyInForce;
  /** Resolves once decisions hold the committed change (the register in memory, catalog.notify.ts). */
  changed: () => Promise<void>;
}): PurposesService {
  const { sql, audit } = deps;
  const logChange = async (
    tx: TransactionSql,
    p: Principal,
    action: 'create' | 'update',
    id: string,
    ctx: Ctx,
    details: Record<string, unknown>,
  ) =>
    audit.appendWithin(asTransaction(tx), {
      event: 'catalog_change',
      principal: { sub: p.sub, kind: p.kind, roles: [...p.roles], unit: p.unit },
      action,
      resource: { type: 'Purpose', id },
      effect: 'allow',
      ruleId: null,
      reason: 'the register of processing purposes is kept by a PPID or an administrator (UU 27/2022 art. 31)',
      policyVersion: deps.policy.current().version,
      requestId: ctx.requestId ?? null,
      traceId: ctx.traceId ?? null,
      details,
    });
  return {
    async list(p) {
      requireRole(p, [...READERS, 'steward', 'staff', 'service'], 'The register of processing purposes');
      return (await listPurposes(sql)).map(purposeView);
    },

    async create(p, input, ctx) {
      requireRole(p, KEEPERS, 'Registering a purpose');
      const values: PurposeValues = {
        description: input.description,
        lawfulBasis: input.lawfulBasis,
        datasets: input.datasets ?? [],
        categories: input.categories ?? [],
        recipients: input.recipients ?? [],
        retention: input.retention ?? null,
      };
      return sql
        .begin(async (tx) => {
          if (!(await insertPurpose(tx, input.id, values, p.sub ?? ''))) {
            throw new DomainError('ALREADY_EXISTS', `Purpose ${input.id} is already registered.`);
          }
          await logChange(tx, p, 'create', input.id, ctx, { lawfulBasis: values.lawfulBasis });
          const row = await findPurpose(tx, input.id);
          if (!row) throw new Error('registered purpose not found');
          return purposeView(row);
        })
        .then(async (view) => {
          await settled(deps.changed());
          return view;
        });
    },

    async update(p, id, input, ctx) {
      requireRole(p, KEEPERS, 'Changing a purpose');
      return sql
        .begin(async (tx) => {
          const old = await findPurpose(tx, id, true);
          if (!old) throw new DomainError('NOT_FOUND', `There is no registered purpose ${id}.`);
          const values: PurposeValues = {
            description: input.description ?? old.description,
            lawfulBasis: input.lawfulBasis ?? old.lawful_basis,
            datasets: input.datasets ?? old.datasets,
            categories: input.categories ?? old.categories,
            recipients: input.recipients ?? old.recipients,
            retention: input.retention === undefined ? old.retention : input.retention,
          };
          await updatePurpose(tx, id, values);
          await logChange(tx, p, 'update', id, ctx, { changed: Object.keys(input), lawfulBasis: values.lawfulBasis });
          const row = await findPurpose(tx, id);
          if (!row) throw new Error('updated purpose not found');
          return purposeView(row);
        })
        .then(async (view) => {
          await settled(deps.changed());
          return view;
        });
    },

    async processing(p, cursor, limit) {
      requireRole(p, READERS, 'The record of processing');
      const purposes = await listPurposes(sql);
      const rows = await datasetsWithCategories(sql, decodeCursor(cursor), limit);
      const page = rows.slice(0, limit);
      const items = page
        .map((d): ProcessingEntry => ({
          dataset: d.id,
          title: d.title,
          ownerUnit: d.owner_unit,
          categories: d.categories,
          purposes: purposes
            .filter((x) => applies(x, d.id, d.categories))
            .map((x) => ({
              id: x.id,
              description: x.description,
              lawfulBasis: x.lawful_basis as PurposeView['lawfulBasis'],
              categories: x.categories.length ? x.categories.filter((c) => d.categories.includes(c)) : d.categories,
              recipients: x.recipients,
              retention: x.retention,
            })),
        }))
        // Datasets that hold no personal data and no purpose names are not processing of personal data.
        .filter((e) => e.categories.length > 0 || e.purposes.length > 0);
      const last = page.at(-1);
      return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
    },
  };
}
