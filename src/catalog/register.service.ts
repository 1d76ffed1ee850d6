import { asTransaction } from '../db/database.ts';
import { DomainError } from '../shared/errors.ts';
import type { Principal } from '../identity/principal.ts';
import { catalogAccess } from './catalog.access.ts';
import { auditPrincipal, ensure, type CatalogDeps, type RequestContext, allowedBy } from './catalog.context.ts';
import { decodeCursor, encodeCursor } from './catalog.cursor.ts';
import { exemptRegister, findFieldsOf, insertDetermination, publicRegister, type RegisterRow } from './catalog.repo.ts';
import type {
  CreateUnit,
  Determination,
  ExemptRegisterEntry,
  PublicRegisterEntry,
  UnitView,
} from './catalog.schema.ts';
import { exemptRegisterEntry, publicRegisterEntry } from './catalog.view.ts';
import { parentUnit } from '../shared/unit-code.ts';
import { findUnit, insertUnit, listUnits } from './units.repo.ts';

/**
 * The registers UU 14/2008 asks a public body to keep (the list of public information, DIP;
 * the list of exempt information, DIK) and the overdue-review list, plus the unit tree.
 */
/** Who determines the DIP (UU 14/2008 art. 11; the PPID, or an administrator). */
const DETERMINING_ROLES = ['ppid', 'admin'];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface RegisterService {
  publicRegister(cursor: string | undefined, limit: number): Promise<Page<PublicRegisterEntry>>;
  exemptRegister(cursor: string | undefined, limit: number): Promise<Page<ExemptRegisterEntry>>;
  /** Exemptions in force past their review date, within the caller's unit (PPID, auditors). */
  overdueReviews(p: Principal, cursor: string | undefined, limit: number): Promise<Page<ExemptRegisterEntry>>;
  /** A PPID determines (menetapkan) the DIP of their unit (and the units under it). */
  determine(
    p: Principal,
    input: Determination,
    ctx: RequestContext,
  ): Promise<{ id: string; unit: string; ref: string; date: string; determinedAt: string }>;
  listUnits(under: string | undefined): Promise<UnitView[]>;
  createUnit(p: Principal, input: CreateUnit, ctx: RequestContext): Promise<UnitView>;
}

function paged<R extends { id: string }, T>(
  rows: R[],
  limit: number,
  view: (r: R) => T,
  key: (id: string) => string = (id) => id,
): Page<T> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(view), nextCursor: rows.length > limit && last ? encodeCursor(key(last.id)) : null };
}

/** DIK pages are keyset by record number: the cursor holds `r<number>`. */
const recordKey = (id: string) => `r${id}`;
function decodeRecordCursor(cursor: string | undefined): { after?: string } {
  const key = decodeCursor(cursor);
  if (key === undefined) return {};
  if (!/^r[0-9]{1,18}$/.test(key)) {
    throw new DomainError('VALIDATION_FAILED', 'The cursor is not valid.', {
      errors: [{ path: 'query.cursor', message: 'not a cursor this API issued' }],
    });
  }
  return { after: key.slice(1) };
}

export function createRegisterService(deps: CatalogDeps): RegisterService {
  const { sql, audit } = deps;
  return {
    async publicRegister(cursor, limit) {
      const rows = await publicRegister(sql, decodeCursor(cursor), limit);
      const fields = await findFieldsOf(
        sql,
        rows.slice(0, limit).map((r) => r.id),
      );
      return paged(rows, limit, (r: RegisterRow) => publicRegisterEntry(r, fields.get(r.id) ?? []));
    },

    async exemptRegister(cursor, limit) {
      const rows = await exemptRegister(sql, { ...decodeRecordCursor(cursor), limit });
      return paged(rows, limit, exemptRegisterEntry, recordKey);
    },

    async overdueReviews(p, cursor, limit) {
      const scope = catalogAccess(deps.policy.current()).overdueScope(p);
      if (scope.kind === 'never') {
        if (p.kind === 'anonymous')
          throw new DomainError('UNAUTHENTICATED', 'The overdue-review list is for PPID and auditors; sign in.');
        throw new DomainError('FORBIDDEN', 'The overdue-review list is for PPID and auditors.');
      }
      const rows = await exemptRegister(sql, { ...decodeRecordCursor(cursor), limit, overdueOnly: true, scope });
      return paged(rows, limit, exemptRegisterEntry, recordKey);
    },

    async determine(p, input, ctx) {
      if (p.kind === 'anonymous')
        throw new DomainError('UNAUTHENTICATED', 'Determining the DIP is for a PPID; sign in.');
      const unit = input.unit ?? p.unit;
      const within = (u: string, of: string | null) =>
        of === 'RI' || u === of || (of !== null && u.startsWith(`${of}.`));
      if (!DETERMINING_ROLES.some((r) => p.roles.includes(r)) || unit === null || !within(unit, p.unit)) {
        throw new DomainError('FORBIDDEN', 'The DIP is determined by a PPID of the unit.');
      }
      return sql.begin(async (tx) => {
        if (!(await findUnit(tx, unit))) {
          throw new DomainError('REFERENCE_NOT_FOUND', `There is no unit ${unit}.`, {
            errors: [{ path: 'body.unit', message: 'unknown unit' }],
          });
        }
        const made = await insertDetermination(tx, {
          unit,
          ref: input.ref,
          date: input.date,
          determinedBy: p.sub ?? '',
        });
        await audit.appendWithin(asTransaction(tx), {
          event: 'catalog_change',
          principal: auditPrincipal(p),
          action: 'approve',
          resource: { type: 'Unit', id: unit },
          effect: 'allow',
          ruleId: null,
          reason: 'the PPID determines the DIP (UU 14/2008 art. 11; Perki 1/2021)',
          policyVersion: deps.policy.current().version,
          requestId: ctx.requestId ?? null,
          traceId: ctx.traceId ?? null,
          details: { determination: made.id, ref: input.ref, date: input.date },
        });
        return { id: made.id, unit, ref: input.ref, date: input.date, determinedAt: made.at.toISOString() };
      });
    },

    async listUnits(under) {
      return listUnits(sql, under);
    },

    async createUnit(p, input, ctx) {
      const parent = parentUnit(input.code);
      const rule = ensure(
        catalogAccess(deps.policy.current()).canManageUnits(p, { code: input.code, parent }),
        'add units',
      );
      return sql.begin(async (tx) => {
        if (parent !== null && !(await findUnit(tx, parent))) {
          throw new DomainError('REFERENCE_NOT_FOUND', `Unit ${input.code} needs its parent unit ${parent} first.`, {
            errors: [{ path: 'body.code', message: `parent unit ${parent} does not exist` }],
          });
        }
        await insertUnit(tx, { code: input.code, name: input.name, parent });
        await audit.appendWithin(asTransaction(tx), {
          event: 'catalog_change',
          principal: auditPrincipal(p),
          action: 'manage',
          resource: { type: 'Unit', id: input.code },
          ...allowedBy(rule, ctx),
        });
        return { code: input.code, name: input.name, parent };
      });
    },
  };
}
