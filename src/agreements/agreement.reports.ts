import type { PolicyInForce } from '../catalog/catalog.access.ts';
import type { Sql } from '../db/database.ts';
import type { Principal } from '../identity/principal.ts';
import { AGREEMENT_DENIALS } from './agreement.schema.ts';
import { dayOf, statusAt } from './agreement.model.ts';
import { allAgreements } from './agreement.repo.ts';
import type { AgreementService } from './agreement.service.ts';

/**
 * Reports on agreements, from the agreements and the audit log: what left under each (rows and
 * fields by day), which lapse soon, which were never used, and which service reads or checks were
 * refused for want of one. Each lists only the agreements (or data) the caller may see.
 */
export interface DisclosureDay {
  agreementId: string;
  day: string;
  reads: number;
  rows: number;
  fieldsWhole: string[];
  fieldsMasked: string[];
  /** Reads that let exempt content out (each also counted in `reads`), and which exempt fields left. */
  exemptReads: number;
  fieldsExempt: string[];
}

export interface Refusal {
  at: string;
  principal: string | null;
  action: string;
  datasetId: string | null;
  purpose: string | null;
  code: string;
  decisionId: string;
}

export interface RegisterEntry {
  id: string;
  title: string;
  reference: string;
  recipient: string;
  purposes: string[];
  legalBasis: string;
  validFrom: string;
  validTo: string;
}

const DAY_MS = 86_400_000;
const REFUSAL_LIMIT = 1000;
// Deny reasons of policies/service.yaml begin with the code and a colon (the same pattern in SQL and here).
// Only the four that mean "no agreement for this": an exempt field withheld under one is not such a refusal.
const CODE = new RegExp(`^(${AGREEMENT_DENIALS.slice(0, 4).join('|')}):`);

/** `from`/`to` (YYYY-MM-DD, WIB days, inclusive) as instants. */
function period(q: { from?: string | undefined; to?: string | undefined }): { from: Date; to: Date } {
  const wib = (d: string) => Date.parse(`${d}T00:00:00+07:00`);
  return {
    from: new Date(q.from ? wib(q.from) : 0),
    to: new Date(q.to ? wib(q.to) + DAY_MS : Date.parse('9999-12-31T00:00:00Z')),
  };
}

export function createAgreementReports(deps: {
  sql: Sql;
  policy: PolicyInForce;
  agreements: AgreementService;
  now: () => number;
}) {
  const { sql } = deps;
  const visibleIds = async (p: Principal) => (await deps.agreements.list(p, {})).items.map((a) => a.id);

  return {
    async disclosures(
      p: Principal,
      q: { from?: string | undefined; to?: string | undefined },
    ): Promise<DisclosureDay[]> {
      const ids = await visibleIds(p);
      if (ids.length === 0) return [];
      const { from, to } = period(q);
      const rows = await sql<
        {
          agreement_id: string;
          at: Date;
          row_count: string | null;
          completes: boolean;
          fields_whole: string[];
          fields_masked: string[];
          fields_exempt: string[] | string | null;
          refunded: string | null;
        }[]
      >`
        select details->>'agreementId' as agreement_id, at, row_count::text as row_count,
          (details ? 'completes') as completes, fields_whole, fields_masked, details->'exemptFields' as fields_exempt,
          details->>'refunded' as refunded
        from audit_entry
        where event = 'disclosure' and details->>'agreementId' = any(${ids}) and at >= ${from} and at < ${to}`;
      const byKey = new Map<string, DisclosureDay & { whole: Set<string>; masked: Set<string>; exempt: Set<string> }>();
      for (const r of rows) {
        const day = dayOf(new Date(r.at).getTime());
        const key = `${r.agreement_id} ${day}`;
        let d = byKey.get(key);
        if (!d) {
          d = {
            agreementId: r.agreement_id,
            day,
            reads: 0,
            rows: 0,
            fieldsWhole: [],
            fieldsMasked: [],
            exemptReads: 0,
            fieldsExempt: [],
            whole: new Set(),
            masked: new Set(),
            exempt: new Set(),
          };
          byKey.set(key, d);
        }
        // An export's row count arrives in its completion entry; the read itself is counted once.
        if (!r.completes) d.reads++;
        d.rows += Number(r.row_count ?? 0);
        // A read given up at its deadline after it committed: its rows never left (read.service.ts).
        if (r.refunded !== null) {
          d.reads--;
          d.rows -= Number(r.refunded);
          continue;
        }
        r.fields_whole.forEach((f) => d.whole.add(f));
        r.fields_masked.forEach((f) => d.masked.add(f));
        const exempt = (typeof r.fields_exempt === 'string' ? JSON.parse(r.fields_exempt) : r.fields_exempt) as
          string[] | null;
        if (exempt?.length && !r.completes) d.exemptReads++;
        exempt?.forEach((f) => d.exempt.add(f));
      }
      return [...byKey.values()]
        .map(({ whole, masked, exempt, ...d }) => ({
          ...d,
          fieldsWhole: [...whole].sort(),
          fieldsMasked: [...masked].sort(),
          fieldsExempt: [...exempt].sort(),
        }))
        .sort((a, b) =>
          a.agreementId === b.agreementId ? a.day.localeCompare(b.day) : a.agreementId.localeCompare(b.agreementId),
        );
    },

    async expiring(p: Principal, withinDays: number) {
      const now = deps.now();
      const today = dayOf(now);
      const { items } = await deps.agreements.list(p, { expiring: `${withinDays}d` });
      return items.map((a) => ({
        id: a.id,
        title: a.title,
        recipient: a.recipient.agency,
        validTo: a.validTo,
        daysLeft: Math.round((Date.parse(a.validTo) - Date.parse(today)) / DAY_MS),
      }));
    },

    async unused(p: Principal) {
      const { items } = await deps.agreements.list(p, {});
      const approved = items.filter((a) => a.status !== 'draft');
      if (approved.length === 0) return [];
      const used = new Set(
        (
          await sql<{ id: string }[]>`
            select distinct details->>'agreementId' as id from audit_entry
            where event = 'disclosure' and details->>'agreementId' = any(${approved.map((a) => a.id)})`
        ).map((r) => r.id),
      );
      return approved
        .filter((a) => !used.has(a.id))
        .map((a) => ({
          id: a.id,
          title: a.title,
          recipient: a.recipient.agency,
          status: a.status,
          validFrom: a.validFrom,
          validTo: a.validTo,
        }));
    },

    /** Service reads and checks denied for want of an agreement, newest first, on data the caller may audit. */
    async refusals(p: Principal, q: { from?: string | undefined; to?: string | undefined }): Promise<Refusal[]> {
      const { from, to } = period(q);
      const engine = deps.policy.current();
      const rows = await sql<
        {
          id: string;
          at: Date;
          principal_sub: string | null;
          action: string;
          dataset_id: string | null;
          owner_unit: string | null;
          purpose: string | null;
          reason: string;
          refusal: string | null;
        }[]
      >`
        select a.id::text as id, a.at, a.principal_sub, a.action, a.dataset_id, d.owner_unit, a.purpose, a.reason,
          a.details->>'refusal' as refusal
        from audit_entry a left join datasets d on d.id = a.dataset_id
        where a.principal_kind = 'service' and a.effect = 'deny' and a.at >= ${from} and a.at < ${to}
          and (a.details ? 'refusal' or a.reason ~ ${CODE.source})
        order by a.at desc
        limit ${REFUSAL_LIMIT}`;
      return rows
        .filter(
          (r) =>
            engine.decide({
              principal: p,
              action: 'audit',
              subject: 'AuditEntry',
              resource: { unit: r.owner_unit, datasetId: r.dataset_id },
            }).allow,
        )
        .map((r) => ({
          at: new Date(r.at).toISOString(),
          principal: r.principal_sub,
          action: r.action,
          datasetId: r.dataset_id,
          purpose: r.purpose,
          code: r.refusal ?? CODE.exec(r.reason)?.[1] ?? 'NO_AGREEMENT',
          decisionId: r.id,
        }));
    },

    /** The public register: active agreements whose PPID chose to publish them; never field lists or principals. */
    async register(): Promise<RegisterEntry[]> {
      const now = deps.now();
      return (await allAgreements(sql))
        .filter((a) => a.publish && statusAt(a, now) === 'active')
        .map((a) => ({
          id: a.id,
          title: a.title,
          reference: a.reference,
          recipient: a.recipientAgency,
          purposes: a.purposes,
          legalBasis: a.legalBasis,
          validFrom: a.validFrom,
          validTo: a.validTo,
        }));
    },
  };
}

export type AgreementReports = ReturnType<typeof createAgreementReports>;
