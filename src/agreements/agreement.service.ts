import { randomBytes } from 'node:crypto';
import type { AuditEntryInput, AuditLog } from '../audit/audit.port.ts';
import { catalogAccess, type CatalogAccess, type PolicyInForce, type Rule } from '../catalog/catalog.access.ts';
import type { CatalogService } from '../catalog/catalog.service.ts';
import { asTransaction, type Sql, type TransactionSql } from '../db/database.ts';
import type { Principal } from '../identity/principal.ts';
import type { DatasetAttributes } from '../policy/engine.types.ts';
import { DomainError } from '../shared/errors.ts';
import { dayOf, statusAt, toView, type Agreement } from './agreement.model.ts';
import {
  allAgreements,
  appendHistory,
  findAgreement,
  historyOf,
  insertAgreement,
  saveAgreement,
} from './agreement.repo.ts';
import type {
  AgreementEventView,
  AgreementView,
  CreateAgreement,
  UpdateAgreement,
  AgreementDataset,
} from './agreement.schema.ts';

export interface AgreementDeps {
  /** Writes run through the catalog snapshot's watch (catalog.notify.ts): a change invalidates it at once. */
  sql: Sql;
  audit: AuditLog;
  policy: PolicyInForce;
  catalog: Pick<CatalogService, 'getFieldsForRead'>;
  now: () => number;
}

export interface RequestContext {
  requestId?: string | null;
  traceId?: string | null;
}

type Transition = 'approve' | 'suspend' | 'revoke';

/** Which stored statuses each lifecycle step starts from, and where it leads. */
const TRANSITIONS: Record<Transition, { from: Agreement['status'][]; to: Agreement['status']; event: string }> = {
  approve: { from: ['draft', 'suspended'], to: 'approved', event: 'approved' },
  suspend: { from: ['approved'], to: 'suspended', event: 'suspended' },
  revoke: { from: ['draft', 'approved', 'suspended'], to: 'revoked', event: 'revoked' },
};

const notFound = (id: string) => new DomainError('NOT_FOUND', `There is no agreement ${id}.`);

/**
 * The agreements' lifecycle: a steward of the datasets' unit drafts; a PPID of that unit (not the
 * drafter) approves, suspends, revokes. Each change is one transaction: the agreement, a row of its
 * append-only history, and an audit entry commit together, and the catalog version moves (the
 * decision snapshot of every instance learns of it).
 */
export function createAgreementService(deps: AgreementDeps) {
  const access = () => catalogAccess(deps.policy.current());

  /** The datasets an agreement covers, as the catalog holds them now (every field named must exist). */
  async function datasetsOf(tx: TransactionSql | Sql, list: AgreementDataset[]): Promise<DatasetAttributes[]> {
    const out: DatasetAttributes[] = [];
    const errors: { path: string; message: string }[] = [];
    for (const [i, d] of list.entries()) {
      const read = await deps.catalog.getFieldsForRead(d.id, tx);
      if (!read) {
        errors.push({ path: `body.datasets.${i}.id`, message: 'no such dataset' });
        continue;
      }
      const names = new Set(read.fields.map((f) => f.name));
      for (const field of Object.keys(d.fields))
        if (!names.has(field)) errors.push({ path: `body.datasets.${i}.fields.${field}`, message: 'no such field' });
      out.push(read.dataset);
    }
    if (errors.length)
      throw new DomainError('REFERENCE_NOT_FOUND', 'The agreement names datasets or fields that do not exist.', {
        errors,
      });
    return out;
  }

  /** The rule allowing `p` to do `what` on every dataset, or FORBIDDEN (404 when it may not even see one). */
  function allowedOnAll(
    p: Principal,
    datasets: DatasetAttributes[],
    what: (a: CatalogAccess, d: DatasetAttributes) => Rule,
    action: string,
  ): Rule {
    const a = access();
    let last: Rule | null = null;
    for (const d of datasets) {
      const rule = what(a, d);
      if (!rule.allow) throw new DomainError('FORBIDDEN', `Not allowed to ${action} for dataset ${d.id}.`);
      last = rule;
    }
    return last!;
  }

  function visible(p: Principal, a: Agreement, datasets: DatasetAttributes[]): boolean {
    if (p.sub !== null && p.sub === a.draftedBy) return true;
    const acc = access();
    return datasets.some(
      (d) => acc.canUpdate(p, d).allow || acc.canApprove(p, d, null).allow || acc.canReadHistory(p, d, null).allow,
    );
  }

  async function load(
    p: Principal,
    id: string,
    tx?: TransactionSql,
  ): Promise<{ a: Agreement; datasets: DatasetAttributes[] }> {
    const a = await findAgreement(tx ?? deps.sql, id, tx ? 'update' : undefined);
    if (!a) throw notFound(id);
    const datasets = await datasetsOf(tx ?? deps.sql, a.datasets).catch(() => [] as DatasetAttributes[]);
    if (!visible(p, a, datasets)) throw notFound(id);
    return { a, datasets };
  }

  function entry(
    p: Principal,
    a: Agreement,
    action: string,
    rule: Rule,
    event: string,
    ctx: RequestContext,
  ): AuditEntryInput {
    return {
      event: 'catalog_change',
      principal: { sub: p.sub, kind: p.kind, roles: [...p.roles], unit: p.unit },
      action,
      resource: { type: 'Agreement', id: a.id, datasetId: a.datasets[0]?.id ?? null, unit: a.providerUnits[0] ?? null },
      effect: 'allow',
      ruleId: rule.ruleId,
      reason: rule.reason,
      policyVersion: rule.policyVersion,
      requestId: ctx.requestId ?? null,
      traceId: ctx.traceId ?? null,
      details: { agreementId: a.id, agreementEvent: event, status: a.status, version: a.version },
    };
  }

  async function record(
    tx: TransactionSql,
    p: Principal,
    a: Agreement,
    action: string,
    rule: Rule,
    event: string,
    note: string | null,
    ctx: RequestContext,
  ): Promise<void> {
    await appendHistory(tx, a, event, p.sub, note);
    await deps.audit.appendWithin(asTransaction(tx), entry(p, a, action, rule, event, ctx));
  }

  return {
    async create(p: Principal, input: CreateAgreement, ctx: RequestContext): Promise<AgreementView> {
      if (p.sub === null) throw new DomainError('FORBIDDEN', 'Only a signed-in steward may draft an agreement.');
      return deps.sql.begin(async (tx) => {
        const datasets = await datasetsOf(tx, input.datasets);
        const rule = allowedOnAll(p, datasets, (acc, d) => acc.canUpdate(p, d), 'draft an agreement');
        const a: Agreement = {
          id: `pks-${randomBytes(6).toString('hex')}`,
          title: input.title,
          reference: input.reference,
          referenceDate: input.referenceDate ?? null,
          providerUnits: [...new Set(datasets.map((d) => d.ownerUnit))].sort(),
          recipientAgency: input.recipient.agency,
          principals: [...new Set(input.recipient.principals)],
          legalBasis: input.legalBasis,
          purposes: [...new Set(input.purposes)],
          datasets: input.datasets,
          validFrom: input.validFrom,
          validTo: input.validTo,
          rowsPerDay: input.rowsPerDay ?? null,
          publish: input.publish ?? false,
          status: 'draft',
          draftedBy: p.sub!,
          approvedBy: null,
          version: 1,
          createdAt: new Date(deps.now()),
          updatedAt: new Date(deps.now()),
        };
        await insertAgreement(tx, a);
        await record(tx, p, a, 'create', rule, 'drafted', null, ctx);
        return toView((await findAgreement(tx, a.id))!, deps.now());
      });
    },

    async get(p: Principal, id: string): Promise<AgreementView> {
      return toView((await load(p, id)).a, deps.now());
    },

    async history(p: Principal, id: string): Promise<AgreementEventView[]> {
      await load(p, id);
      return (await historyOf(deps.sql, id)).map((h) => ({ ...h, at: new Date(h.at).toISOString() }));
    },

    async list(
      p: Principal,
      q: { recipient?: string | undefined; status?: string | undefined; expiring?: string | undefined },
    ): Promise<{ items: AgreementView[] }> {
      const now = deps.now();
      const today = dayOf(now);
      const horizon = q.expiring ? dayOf(now + Number(q.expiring.slice(0, -1)) * 86_400_000) : null;
      const recipient = q.recipient?.toLowerCase();
      const items: AgreementView[] = [];
      for (const a of await allAgreements(deps.sql)) {
        const status = statusAt(a, now);
        if (q.status && status !== q.status) continue;
        if (horizon && !(status === 'active' && a.validTo >= today && a.validTo <= horizon)) continue;
        if (
          recipient &&
          !a.recipientAgency.toLowerCase().includes(recipient) &&
          !a.principals.some((x) => x.toLowerCase() === recipient)
        )
          continue;
        const datasets = await datasetsOf(deps.sql, a.datasets).catch(() => [] as DatasetAttributes[]);
        if (visible(p, a, datasets)) items.push(toView(a, now));
      }
      return { items };
    },

    /** A draft's terms change (steward of every dataset named); afterwards only `publish` does (its PPID). */
    async update(p: Principal, id: string, input: UpdateAgreement, ctx: RequestContext): Promise<AgreementView> {
      return deps.sql.begin(async (tx) => {
        const { a, datasets } = await load(p, id, tx);
        const terms = Object.keys(input).filter(
          (k) => k !== 'publish' && input[k as keyof UpdateAgreement] !== undefined,
        );
        let rule: Rule;
        const next: Agreement = { ...a, version: a.version + 1 };
        if (a.status === 'draft') {
          if (input.datasets) next.datasets = input.datasets;
          const covered = input.datasets ? await datasetsOf(tx, input.datasets) : datasets;
          rule = allowedOnAll(p, covered, (acc, d) => acc.canUpdate(p, d), 'change the agreement');
          Object.assign(next, {
            ...(input.title !== undefined ? { title: input.title } : {}),
            ...(input.reference !== undefined ? { reference: input.reference } : {}),
            ...(input.referenceDate !== undefined ? { referenceDate: input.referenceDate } : {}),
            ...(input.recipient
              ? { recipientAgency: input.recipient.agency, principals: [...new Set(input.recipient.principals)] }
              : {}),
            ...(input.legalBasis !== undefined ? { legalBasis: input.legalBasis } : {}),
            ...(input.purposes ? { purposes: [...new Set(input.purposes)] } : {}),
            ...(input.validFrom !== undefined ? { validFrom: input.validFrom } : {}),
            ...(input.validTo !== undefined ? { validTo: input.validTo } : {}),
            ...(input.rowsPerDay !== undefined ? { rowsPerDay: input.rowsPerDay } : {}),
            ...(input.publish !== undefined ? { publish: input.publish } : {}),
            providerUnits: [...new Set(covered.map((d) => d.ownerUnit))].sort(),
          });
          if (next.validTo < next.validFrom)
            throw new DomainError('VALIDATION_FAILED', 'validTo must not be before validFrom.', {
              errors: [{ path: 'body.validTo', message: 'validTo must not be before validFrom' }],
            });
        } else {
          if (terms.length)
            throw new DomainError(
              'CONFLICT',
              `The agreement is ${a.status}: its terms are those signed; draft a new one.`,
            );
          rule = allowedOnAll(p, datasets, (acc, d) => acc.canApprove(p, d, null), 'publish the agreement');
          if (input.publish !== undefined) next.publish = input.publish;
        }
        await saveAgreement(tx, next);
        const event = a.status === 'draft' ? 'updated' : next.publish ? 'published' : 'unpublished';
        await record(tx, p, next, 'update', rule, event, null, ctx);
        return toView((await findAgreement(tx, id))!, deps.now());
      });
    },

    async transition(
      p: Principal,
      id: string,
      step: Transition,
      note: string | null,
      ctx: RequestContext,
    ): Promise<AgreementView> {
      return deps.sql.begin(async (tx) => {
        const { a, datasets } = await load(p, id, tx);
        const t = TRANSITIONS[step];
        if (step === 'approve' && p.sub !== null && p.sub === a.draftedBy)
          throw new DomainError('SELF_APPROVAL', 'An agreement cannot be approved by the one who drafted it.');
        const rule = allowedOnAll(p, datasets, (acc, d) => acc.canApprove(p, d, a.draftedBy), `${step} the agreement`);
        if (!t.from.includes(a.status))
          throw new DomainError('CONFLICT', `The agreement is ${statusAt(a, deps.now())}; it cannot be ${t.event}.`);
        const next: Agreement = {
          ...a,
          status: t.to,
          version: a.version + 1,
          ...(step === 'approve' ? { approvedBy: p.sub } : {}),
        };
        await saveAgreement(tx, next);
        await record(tx, p, next, step === 'approve' ? 'approve' : 'update', rule, t.event, note, ctx);
        return toView((await findAgreement(tx, id))!, deps.now());
      });
    },
  };
}

export type AgreementService = ReturnType<typeof createAgreementService>;
