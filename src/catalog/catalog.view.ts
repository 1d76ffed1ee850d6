import type { DatasetAttributes, FieldAttributes } from '../policy/engine.types.ts';
import type { DatasetRow, DikRow, FieldRow, RegisterRow } from './catalog.repo.ts';
import type {
  DatasetView,
  ExemptRegisterEntry,
  FieldType,
  FieldView,
  LabelEventView,
  PublicDatasetView,
  PublicRegisterEntry,
} from './catalog.schema.ts';
import { isArt18, type LabelHistoryRow } from './label-history.repo.ts';
import { effectiveFieldClassification, personalDataKind, stricter } from './label-rules.ts';

/** Rows → the shapes callers see (API views, policy attributes). */

/** The dataset columns decisions use. */
export type DatasetAttributeRow = Pick<
  DatasetRow,
  | 'id'
  | 'owner_unit'
  | 'effective_classification'
  | 'pending_classification'
  | 'label_version'
  | 'steward'
  | 'source_system'
>;

export function datasetAttributes(d: DatasetAttributeRow): DatasetAttributes {
  return {
    id: d.id,
    ownerUnit: d.owner_unit,
    classification: d.effective_classification,
    labelPending: d.pending_classification !== null,
    labelVersion: d.label_version,
    steward: d.steward,
    sourceSystem: d.source_system,
  };
}

/** A field as a read needs it: its decision attributes and its type (and whether spans in its text are redacted). */
export type FieldForRead = FieldAttributes & { type: FieldType; redactSpans?: boolean };

const KIND_RANK = { none: 0, general: 1, specific: 2 } as const;

/**
 * The category decisions use: the declared one, or while the field is quarantined the detector's
 * finding when that is of a stricter kind (a specific finding is masked as specific).
 */
export function decidingCategory(f: Pick<FieldRow, 'personal_data' | 'quarantine'>): string {
  if (f.quarantine === null) return f.personal_data;
  return KIND_RANK[personalDataKind(f.quarantine)] > KIND_RANK[personalDataKind(f.personal_data)]
    ? f.quarantine
    : f.personal_data;
}

/**
 * True when an art. 18(2) declassification is in force for the field as it is now: approved, for
 * the category the field holds, and the field still labelled public (fail closed otherwise).
 */
export function declassified(f: Pick<FieldRow, 'classification' | 'art18'>, category: string): boolean {
  return f.art18?.status === 'in_force' && f.art18.personalData === category && f.classification === 'public';
}

/** A field's attributes for decisions; a quarantined field is restricted at least, whatever its labels say. */
export function fieldAttributes(
  d: Pick<DatasetRow, 'id' | 'owner_unit' | 'effective_classification'>,
  f: Pick<FieldRow, 'name' | 'classification' | 'personal_data' | 'quarantine' | 'art18'>,
): FieldAttributes {
  const category = decidingCategory(f);
  const opened = declassified(f, category);
  const label = effectiveFieldClassification(d.effective_classification, f.classification, category, opened);
  return {
    datasetId: d.id,
    ownerUnit: d.owner_unit,
    name: f.name,
    classification: f.quarantine === null ? label : stricter(label, 'restricted'),
    personalData: category,
    personalDataKind: personalDataKind(category),
    ...(opened ? { declassified: true } : {}),
  };
}

export function fieldView(d: DatasetRow, f: FieldRow): FieldView {
  return {
    name: f.name,
    type: f.type,
    description: f.description,
    personalData: f.personal_data,
    personalDataKind: personalDataKind(f.personal_data),
    classification: f.classification,
    effectiveClassification: fieldAttributes(d, f).classification,
    provenance: f.suggested !== null ? 'suggested' : f.provenance,
    quarantined: f.quarantine !== null,
    redactSpans: f.redact_spans,
    filter: f.filter,
    // Declared but not yet claimed by a builder: building (it starts within moments).
    rangeIndex:
      f.filter === 'range' ? { status: f.range_index_status ?? 'building', error: f.range_index_error } : null,
    declassification: f.art18
      ? {
          article: f.art18.article,
          basis: f.art18.basis,
          reference: f.art18.reference,
          status: f.art18.status,
          decisionRef: f.art18.decisionRef,
        }
      : null,
  };
}

const iso = (t: Date | null) => (t ? t.toISOString() : null);

export function labelStatus(d: DatasetRow): DatasetView['labelStatus'] {
  if (d.pending_classification !== null) return 'pending';
  return d.classification === null ? 'unlabelled' : 'labelled';
}

export function datasetView(d: DatasetRow, fields: FieldRow[]): DatasetView {
  return {
    id: d.id,
    title: d.title,
    description: d.description,
    ownerUnit: d.owner_unit,
    sourceSystem: d.source_system,
    steward: d.steward,
    producerUnit: d.producer_unit,
    updateFrequency: d.update_frequency,
    periodCovered: d.period_covered,
    concepts: d.concepts,
    referenceCodes: d.reference_codes,
    registerNo: d.register_no,
    summary: d.summary,
    responsibleOfficial: d.responsible_official,
    producedAt: d.produced_at,
    producedPlace: d.produced_place,
    forms: d.forms,
    retention: d.retention,
    infoKind: d.info_kind,
    createdAt: d.created_at.toISOString(),
    updatedAt: d.updated_at.toISOString(),
    version: d.version,
    classification: d.effective_classification,
    labelStatus: labelStatus(d),
    approvedClassification: d.classification,
    labelVersion: d.label_version,
    label: {
      grounds: d.label_grounds,
      consequenceTest: d.label_consequence_test,
      reviewBy: d.label_review_by,
      justification: d.label_justification,
      decidedBy: d.label_decided_by,
      decidedAt: iso(d.label_decided_at),
      decisionRef: d.label_decision_ref,
    },
    pending:
      d.pending_classification === null
        ? null
        : {
            classification: 'exempt',
            grounds: d.pending_grounds ?? [],
            consequenceTest: d.pending_consequence_test ?? { harm: '', publicInterest: '' },
            reviewBy: d.pending_review_by ?? '',
            proposedBy: d.pending_proposed_by ?? '',
            proposedAt: iso(d.pending_proposed_at) ?? '',
            historyId: d.pending_history_id ?? '',
          },
    fields: fields.map((f) => fieldView(d, f)),
  };
}

/** A dataset as an anonymous caller sees it: no internal user ids (steward, decider, proposer). */
export function withoutUserIds(view: DatasetView): DatasetView {
  return {
    ...view,
    steward: null,
    label: { ...view.label, decidedBy: null },
    pending: view.pending ? { ...view.pending, proposedBy: '' } : null,
  };
}

export function labelEventView(e: LabelHistoryRow): LabelEventView {
  return {
    id: e.id,
    datasetId: e.dataset_id,
    field: e.field_name,
    event: e.event,
    from: e.from_classification,
    to: e.to_classification,
    grounds: isArt18(e.grounds) ? null : e.grounds,
    consequenceTest: e.consequence_test,
    reviewBy: e.review_by,
    justification: e.justification,
    declassification: e.declassification,
    proposalId: e.proposal_id,
    decisionRef: e.decision_ref,
    by: { sub: e.actor_sub, roles: e.actor_roles, unit: e.actor_unit },
    at: e.at.toISOString(),
    labelVersion: e.label_version,
    ...(e.suggestion ? { suggestion: e.suggestion } : {}),
    ...(e.sharing ? { sharing: e.sharing } : {}),
    ...(isArt18(e.grounds) ? { art18: e.grounds } : {}),
  };
}

/** A DIP row: public datasets are open (their public fields listed), restricted ones available on request. */
export function publicRegisterEntry(d: RegisterRow, fields: FieldRow[]): PublicRegisterEntry {
  const open = d.effective_classification === 'public';
  return {
    registerNo: d.register_no ?? '',
    id: d.id,
    title: d.title,
    summary: d.summary ?? '',
    holdingUnit: { code: d.owner_unit, name: d.owner_unit_name },
    responsibleOfficial: d.responsible_official,
    producedAt: d.produced_at,
    producedPlace: d.produced_place,
    forms: d.forms,
    retention: d.retention,
    infoKind: d.info_kind,
    access: open ? 'open' : 'on_request',
    determination:
      d.determination_ref !== null && d.determination_date !== null
        ? { ref: d.determination_ref, date: d.determination_date }
        : null,
    sourceSystem: d.source_system,
    updateFrequency: d.update_frequency,
    periodCovered: d.period_covered,
    updatedAt: d.updated_at.toISOString(),
    labelVersion: d.label_version,
    publicFields: open
      ? fields
          // A quarantined field is not listed as public while a steward has not decided.
          .filter((f) => fieldAttributes(d, f).classification === 'public')
          .map((f) => ({
            name: f.name,
            type: f.type,
            description: f.description,
            // Personal data opened under UU 14/2008 art. 18(2) says on what basis.
            ...(f.art18 && declassified(f, decidingCategory(f))
              ? {
                  declassification: {
                    article: f.art18.article,
                    basis: f.art18.basis,
                    reference: f.art18.reference,
                    decisionRef: f.art18.decisionRef,
                  },
                }
              : {}),
          }))
      : [],
  };
}

/**
 * A dataset as the public may see it when they may not read it (restricted: available on
 * request): its DIP columns and its fields' names, never records, user ids or label history.
 */
export function publicDatasetView(d: RegisterRow, fields: FieldRow[]): PublicDatasetView {
  return {
    ...publicRegisterEntry(d, fields),
    classification: d.effective_classification === 'public' ? 'public' : 'restricted',
    fields: fields.map((f) => ({ name: f.name, type: f.type, description: f.description })),
  };
}

/** One row of the exempt list: never the dataset's contents; field names only of a partial exemption. */
export function exemptRegisterEntry(e: DikRow): ExemptRegisterEntry {
  return {
    dikNo: e.dik_no ?? '',
    id: e.dataset_id,
    title: e.title,
    subject: e.subject,
    ...(e.field_name !== null ? { fields: [e.field_name] } : {}),
    ownerUnit: e.owner_unit,
    ownerUnitName: e.owner_unit_name,
    grounds: e.grounds,
    ...(e.statute !== null ? { statute: e.statute } : {}),
    consequenceTest: e.consequence_test,
    period: e.period,
    liftConditions: e.lift_conditions,
    decision: e.decision,
    decidedAt: iso(e.decided_at),
    reviewBy: e.review_by,
    reviewOverdue: e.review_overdue,
    periodEnded: e.period_ended,
    labelVersion: e.label_version,
  };
}
