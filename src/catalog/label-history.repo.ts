import type { Queryable } from '../db/database.ts';
import type { Art18Declassification, Classification, ConsequenceTest } from './catalog.schema.ts';

/** The append-only label history (label_history refuses UPDATE and DELETE in the database). */

export type LabelEvent = 'label' | 'proposal' | 'approval' | 'rejection' | 'sharing';

/** A change of the legal bases an exemption in force may be shared under (event `sharing`). */
export type LabelSharing = {
  dikNo: string;
  shareableUnder: string[];
};

/**
 * An art. 18(2) declassification's basis, kept in the history row's `grounds` (an object, where an
 * exemption's grounds are a list): the history is its record, no other table holds it.
 */
export type Art18Grounds = Pick<Art18Declassification, 'article' | 'basis' | 'reference'> & { personalData: string };

export const isArt18 = (g: string[] | Art18Grounds | null): g is Art18Grounds =>
  g !== null && !Array.isArray(g) && g.article === '18(2)';

export interface LabelHistoryRow {
  id: string;
  dataset_id: string;
  field_name: string | null;
  event: LabelEvent;
  from_classification: Classification | null;
  to_classification: Classification | null;
  grounds: string[] | Art18Grounds | null;
  consequence_test: ConsequenceTest | null;
  review_by: string | null;
  justification: string | null;
  declassification: boolean;
  proposal_id: string | null;
  decision_ref: string | null;
  actor_sub: string;
  actor_roles: string[];
  actor_unit: string | null;
  at: Date;
  label_version: number;
  /** A decided scan suggestion (migrations/0010_detection.sql). */
  suggestion: LabelSuggestionDecision | null;
  /** The exemption's sharing list as changed (migrations/0014_exemption_sharing.sql). */
  sharing: LabelSharing | null;
}

export type LabelSuggestionDecision = {
  decision: 'accepted' | 'rejected';
  personalData: string;
  fromPersonalData: string;
  confidence: number;
};

export interface NewLabelEvent {
  datasetId: string;
  field: string | null;
  event: LabelEvent;
  from: Classification | null;
  to: Classification | null;
  grounds: string[] | Art18Grounds | null;
  consequenceTest: ConsequenceTest | null;
  reviewBy: string | null;
  justification: string | null;
  declassification: boolean;
  proposalId: string | null;
  decisionRef: string | null;
  actor: { sub: string; roles: string[]; unit: string | null };
  labelVersion: number;
  suggestion?: LabelSuggestionDecision | null;
  sharing?: LabelSharing | null;
}

const COLUMNS = (sql: Queryable) => sql`
  id::text as id, dataset_id, field_name, event, from_classification, to_classification, grounds,
  consequence_test, to_char(review_by, 'YYYY-MM-DD') as review_by, justification, declassification,
  proposal_id::text as proposal_id, decision_ref, actor_sub, actor_roles, actor_unit, at, label_version, suggestion, sharing`;

export async function appendLabelEvent(sql: Queryable, e: NewLabelEvent): Promise<LabelHistoryRow> {
  const [row] = await sql<LabelHistoryRow[]>`
    insert into label_history (dataset_id, field_name, event, from_classification, to_classification, grounds,
      consequence_test, review_by, justification, declassification, proposal_id, decision_ref,
      actor_sub, actor_roles, actor_unit, label_version, suggestion, sharing)
    values (${e.datasetId}, ${e.field}, ${e.event}, ${e.from}, ${e.to},
      ${e.grounds ? sql.json(e.grounds) : null}, ${e.consequenceTest ? sql.json(e.consequenceTest) : null},
      ${e.reviewBy}, ${e.justification}, ${e.declassification}, ${e.proposalId}, ${e.decisionRef},
      ${e.actor.sub}, ${sql.json(e.actor.roles)}, ${e.actor.unit}, ${e.labelVersion},
      ${e.suggestion ? sql.json(e.suggestion) : null}, ${e.sharing ? sql.json(e.sharing) : null})
    returning ${COLUMNS(sql)}`;
  if (!row) throw new Error('label_history insert returned nothing');
  return row;
}

/** A dataset's label history, oldest first. */
export async function listLabelEvents(sql: Queryable, datasetId: string): Promise<LabelHistoryRow[]> {
  return sql<LabelHistoryRow[]>`select ${COLUMNS(sql)} from label_history where dataset_id = ${datasetId} order by id`;
}
