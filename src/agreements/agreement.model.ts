import type { Principal } from '../identity/principal.ts';
import type {
  AgreementDataset,
  AgreementDenial,
  AgreementStatus,
  AgreementView,
  Coverage,
  FieldCoverage,
  StoredStatus,
} from './agreement.schema.ts';
import { legalBasisIn } from '../shared/legal-basis.ts';

/** The attribute policies name (policies/service.yaml); see agreement.attributes.ts. */
export const AGREEMENT_ATTRIBUTE = 'agreement';
/** The Field attribute saying whether exempt content may leave under the agreement (policies/service.yaml). */
export const AGREEMENT_EXEMPT_ATTRIBUTE = 'agreementExempt';

/** One agreement as decisions and the service use it (dates as YYYY-MM-DD). */
export interface Agreement {
  id: string;
  title: string;
  reference: string;
  referenceDate: string | null;
  providerUnits: string[];
  recipientAgency: string;
  principals: string[];
  legalBasis: string;
  purposes: string[];
  datasets: AgreementDataset[];
  validFrom: string;
  validTo: string;
  rowsPerDay: number | null;
  publish: boolean;
  status: StoredStatus;
  draftedBy: string;
  approvedBy: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Agreement days are Indonesian Western Time days (WIB, UTC+7, no daylight saving): validity
 * dates and the row limit's day both turn at midnight in Jakarta.
 */
const WIB_OFFSET_MS = 7 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

/** The agreement day (YYYY-MM-DD, WIB) at `now` (ms since the epoch). */
export const dayOf = (now: number): string => new Date(now + WIB_OFFSET_MS).toISOString().slice(0, 10);

/** When the agreement day after `now` begins (the row limit's reset), as an ISO instant. */
export function nextDayStart(now: number): string {
  const startOfDay = Math.floor((now + WIB_OFFSET_MS) / DAY_MS) * DAY_MS - WIB_OFFSET_MS;
  return new Date(startOfDay + DAY_MS).toISOString();
}

/** The status at `now`: an approved agreement is active from validFrom through validTo, expired after. */
export function statusAt(a: Pick<Agreement, 'status' | 'validFrom' | 'validTo'>, now: number): AgreementStatus {
  if (a.status !== 'approved') return a.status;
  const today = dayOf(now);
  if (today > a.validTo) return 'expired';
  return today >= a.validFrom ? 'active' : 'approved';
}

export type Selection =
  | { agreement: Agreement; code: null; mentioned: true }
  /** `mentioned`: some agreement naming the principal covers the dataset (the principal knows it exists). */
  | {
      agreement: null;
      code: Exclude<AgreementDenial, 'FIELD_NOT_IN_AGREEMENT' | 'EXEMPT_NOT_IN_AGREEMENT' | 'EXEMPTION_NOT_SHAREABLE'>;
      mentioned: boolean;
    };

/**
 * The agreement a service principal reads `datasetId` under for `purpose`: the first (by id) that is
 * active now, names the principal, covers the dataset and names the purpose. Otherwise the closest
 * failure: an active one without the purpose, else an expired one, else none.
 */
export function selectAgreement(
  list: readonly Agreement[],
  principal: Pick<Principal, 'sub'>,
  datasetId: string,
  purpose: string | null | undefined,
  now: number,
): Selection {
  const sub = principal.sub;
  const candidates = list
    .filter((a) => sub !== null && a.principals.includes(sub) && a.datasets.some((d) => d.id === datasetId))
    .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  let activeOther = false;
  let expired = false;
  for (const a of candidates) {
    const status = statusAt(a, now);
    if (status === 'active') {
      if (purpose && a.purposes.includes(purpose)) return { agreement: a, code: null, mentioned: true };
      activeOther = true;
    } else if (status === 'expired') expired = true;
  }
  const mentioned = candidates.length > 0;
  if (activeOther) return { agreement: null, code: 'PURPOSE_NOT_IN_AGREEMENT', mentioned };
  if (expired) return { agreement: null, code: 'AGREEMENT_EXPIRED', mentioned };
  return { agreement: null, code: 'NO_AGREEMENT', mentioned };
}

function entryOf(a: Agreement, datasetId: string, field: string): FieldCoverage | undefined {
  const fields = a.datasets.find((d) => d.id === datasetId)?.fields;
  return fields && Object.hasOwn(fields, field) ? fields[field] : undefined;
}

/** How the agreement covers one field of a dataset. */
export function coverageOf(a: Agreement, datasetId: string, field: string): Coverage | 'FIELD_NOT_IN_AGREEMENT' {
  const c = entryOf(a, datasetId, field);
  if (c === undefined) return 'FIELD_NOT_IN_AGREEMENT';
  return typeof c === 'string' ? c : c.coverage;
}

/** Whether the agreement opts in to the field's exempt content (`{ coverage, exempt: true }`). */
export function exemptOptIn(a: Agreement, datasetId: string, field: string): boolean {
  const c = entryOf(a, datasetId, field);
  return typeof c === 'object' && c.exempt === true;
}

/** A field exemption in force that its PPID lets be shared, under these legal bases (its DIK record). */
export interface SharedExemption {
  dikNo: string;
  bases: readonly string[];
}

/** The shareable field exemptions of one dataset, by field name. */
export type DatasetSharing = ReadonlyMap<string, SharedExemption>;

export const NO_SHARING: DatasetSharing = new Map();

export type ExemptSharing = 'shared' | 'EXEMPT_NOT_IN_AGREEMENT' | 'EXEMPTION_NOT_SHAREABLE';

/**
 * Whether an exempt field the agreement covers may leave under it: the agreement opts in to its
 * exempt content ("the agreement says so") and the field's exemption record lists the agreement's
 * legal basis among those it may be shared under ("the label allows it"). A field exempt only
 * through its dataset's exemption has no record of its own to allow it: never shared.
 */
export function exemptSharing(a: Agreement, datasetId: string, field: string, sharing: DatasetSharing): ExemptSharing {
  if (!exemptOptIn(a, datasetId, field)) return 'EXEMPT_NOT_IN_AGREEMENT';
  const record = sharing.get(field);
  return record && legalBasisIn(a.legalBasis, record.bases) ? 'shared' : 'EXEMPTION_NOT_SHAREABLE';
}

export function toView(a: Agreement, now: number): AgreementView {
  return {
    id: a.id,
    title: a.title,
    reference: a.reference,
    referenceDate: a.referenceDate,
    providerUnits: a.providerUnits,
    recipient: { agency: a.recipientAgency, principals: a.principals },
    legalBasis: a.legalBasis,
    purposes: a.purposes,
    datasets: a.datasets,
    validFrom: a.validFrom,
    validTo: a.validTo,
    rowsPerDay: a.rowsPerDay,
    publish: a.publish,
    status: statusAt(a, now),
    draftedBy: a.draftedBy,
    approvedBy: a.approvedBy,
    version: a.version,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}
