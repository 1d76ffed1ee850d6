import type { Principal } from '../identity/principal.ts';
import type {
  AgreementDataset,
  AgreementDenial,
  AgreementStatus,
  AgreementView,
  Coverage,
  StoredStatus,
} from './agreement.schema.ts';

/** The attribute policies name (policies/service.yaml); see agreement.attributes.ts. */
export const AGREEMENT_ATTRIBUTE = 'agreement';

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
  | { agreement: null; code: Exclude<AgreementDenial, 'FIELD_NOT_IN_AGREEMENT'>; mentioned: boolean };

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

/** How the agreement covers one field of a dataset. */
export function coverageOf(a: Agreement, datasetId: string, field: string): Coverage | 'FIELD_NOT_IN_AGREEMENT' {
  const fields = a.datasets.find((d) => d.id === datasetId)?.fields;
  const c = fields && Object.hasOwn(fields, field) ? fields[field] : undefined;
  return c ?? 'FIELD_NOT_IN_AGREEMENT';
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
