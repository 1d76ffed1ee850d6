import type { AuditEntryInput } from '../audit/audit.port.ts';
import { asTransaction, type TransactionSql } from '../db/database.ts';
import { DomainError } from '../shared/errors.ts';
import type { Principal } from '../identity/principal.ts';
import { catalogAccess, isOwnProposal, type Rule } from './catalog.access.ts';
import {
  auditPrincipal,
  ensure,
  visibleDataset,
  type CatalogDeps,
  withDenialLogged,
  type RequestContext,
  allowedBy,
} from './catalog.context.ts';
import { checkIfMatch } from './dataset-version.ts';
import { todayIso } from '../shared/dates.ts';
import { legalBasisKey } from '../shared/legal-basis.ts';
import {
  bumpLabelVersion,
  clearPending,
  findDataset,
  findFields,
  setFieldLabel,
  setLabel,
  setPending,
  type DatasetRow,
  type FieldArt18,
  type FieldRow,
} from './catalog.repo.ts';
import type {
  Art18Declassification,
  Classification,
  DatasetView,
  DecideProposal,
  ExemptionInput,
  LabelDataset,
  LabelEventView,
  LabelField,
} from './catalog.schema.ts';
import type { CatalogAccess } from './catalog.access.ts';
import { datasetAttributes, datasetView, decidingCategory, labelEventView } from './catalog.view.ts';
import {
  appendLabelEvent,
  isArt18,
  listLabelEvents,
  type LabelHistoryRow,
  type NewLabelEvent,
} from './label-history.repo.ts';
import { fieldLabelProblem, isDeclassification } from './label-rules.ts';
import { DEFAULT_EXEMPTION_LIMITS, completeExemption, decisionOf, exemptionProblems } from './exemption-rules.ts';
import {
  approveExemption,
  endExemption,
  ensureRegisterNo,
  insertExemption,
  nextRegisterNo,
  openExemption,
  rejectExemption,
  type ExemptionRow,
} from './exemptions.repo.ts';

/**
 * Labels: set, propose, approve, reject, and the history. Each change runs in one transaction:
 * decide → store (label columns + an appended history row) → audit entry (appendWithin), so a
 * label and its record commit together or not at all.
 */
export interface LabelService {
  labelDataset(
    p: Principal,
    id: string,
    input: LabelDataset,
    ifMatch: string | undefined,
    ctx: RequestContext,
  ): Promise<{ status: 200 | 202; dataset: DatasetView }>;
  labelField(
    p: Principal,
    id: string,
    field: string,
    input: LabelField,
    ifMatch: string | undefined,
    ctx: RequestContext,
  ): Promise<{ status: 200 | 202; dataset: DatasetView }>;
  approve(
    p: Principal,
    id: string,
    input: DecideProposal,
    ifMatch: string | undefined,
    ctx: RequestContext,
  ): Promise<DatasetView>;
  reject(
    p: Principal,
    id: string,
    input: DecideProposal,
    ifMatch: string | undefined,
    ctx: RequestContext,
  ): Promise<DatasetView>;
  /** A field exemption: approve or reject its pending proposal (the same rules as a dataset's). */
  decideField(
    p: Principal,
    id: string,
    field: string,
    verb: 'approve' | 'reject',
    input: DecideProposal,
    ifMatch: string | undefined,
    ctx: RequestContext,
  ): Promise<DatasetView>;
  history(p: Principal, id: string): Promise<LabelEventView[]>;
}

/** What varies between label events; everything left out is null (or false) in the history row. */
type LabelChange = Pick<NewLabelEvent, 'event' | 'from' | 'to'> &
  Partial<Omit<NewLabelEvent, 'datasetId' | 'actor' | 'labelVersion'>>;

/** The one builder of a history row: the change, by whom, at which label version. */
export function labelEvent(p: Principal, datasetId: string, labelVersion: number, change: LabelChange): NewLabelEvent {
  return {
    datasetId,
    field: change.field ?? null,
    event: change.event,
    from: change.from,
    to: change.to,
    grounds: change.grounds ?? null,
    consequenceTest: change.consequenceTest ?? null,
    reviewBy: change.reviewBy ?? null,
    justification: change.justification ?? null,
    declassification: change.declassification ?? false,
    proposalId: change.proposalId ?? null,
    decisionRef: change.decisionRef ?? null,
    suggestion: change.suggestion ?? null,
    sharing: change.sharing ?? null,
    // Anonymous callers never reach a label change (access rules refuse them first).
    actor: { sub: p.sub ?? '(anonymous)', roles: [...p.roles], unit: p.unit },
    labelVersion,
  };
}

/** The audit action of each label operation: what the caller asked for, also when refused. */
export type LabelAction = 'label' | 'approve' | 'reject' | 'scan';

function justificationRequired(detail: string): DomainError {
  return new DomainError('JUSTIFICATION_REQUIRED', detail, {
    errors: [{ path: 'body.justification', message: 'a declassification needs a written justification' }],
  });
}

const EXEMPTION_ONLY = ['consequenceTest', 'reviewBy', 'period', 'liftConditions', 'statute', 'subject'] as const;

/** Only an exemption takes a consequence test, a period, lift conditions and a review date. */
function refuseExemptionParts(input: ExemptionInput, to: Classification | null): void {
  const given = EXEMPTION_ONLY.filter((k) => input[k] !== undefined);
  if (given.length === 0) return;
  throw new DomainError(
    'VALIDATION_FAILED',
    'Only an exemption takes a consequence test, a period and a review date.',
    {
      errors: given.map((k) => ({ path: `body.${k}`, message: `not used for a ${to ?? 'removed'} label` })),
    },
  );
}

/** Every problem of an exemption proposal as one 422. */
function checkExemption(deps: CatalogDeps, input: ExemptionInput): void {
  const errors = exemptionProblems(input, todayIso(), deps.limits ?? DEFAULT_EXEMPTION_LIMITS);
  if (errors.length) {
    throw new DomainError(
      'EXEMPTION_INCOMPLETE',
      'An exemption needs art. 17 grounds, a complete consequence test (uji konsekuensi), a period and a review date; see errors.',
      { errors },
    );
  }
}

/** The decision an approval records, or the 422 listing what it lacks. */
function requireDecision(input: DecideProposal) {
  const result = decisionOf(input, todayIso());
  if ('errors' in result) {
    throw new DomainError(
      'DECISION_INCOMPLETE',
      'An exemption is approved by a decision: its reference, date and place, and who agreed (the head of the body or the PPID’s superior).',
      { errors: result.errors },
    );
  }
  return result.decision;
}

function refuseWhilePending(row: DatasetRow): void {
  if (row.pending_classification !== null) {
    throw new DomainError(
      'CONFLICT',
      'An exemption proposal is pending for this dataset; a PPID approves or rejects it first.',
    );
  }
}

/** Stores the change in the history and logs it, in the caller's transaction: both commit or neither. */
export async function recordChange(
  deps: CatalogDeps,
  tx: TransactionSql,
  p: Principal,
  ctx: RequestContext,
  action: LabelAction,
  rule: Rule,
  change: NewLabelEvent,
  /** What must be stored with the history row before the entry is logged (the log's lock is held last, briefly). */
  andThen?: (event: LabelHistoryRow) => Promise<void>,
): Promise<void> {
  const event = await appendLabelEvent(tx, change);
  await andThen?.(event);
  const entry: AuditEntryInput = {
    event: 'label_change',
    principal: auditPrincipal(p),
    action,
    resource: {
      type: event.field_name ? 'Field' : 'Dataset',
      id: event.field_name ? `${event.dataset_id}/${event.field_name}` : event.dataset_id,
      classification: event.to_classification,
      labelVersion: event.label_version,
    },
    ...allowedBy(rule, ctx),
    details: {
      historyId: event.id,
      labelEvent: event.event,
      from: event.from_classification,
      to: event.to_classification,
      declassification: event.declassification,
      ...(isArt18(event.grounds) ? { article: '18(2)', basis: event.grounds.basis } : {}),
      // A DIK record's sharing list, as the law it names (ids: the log's details hold no free text).
      ...(event.sharing
        ? { dikNo: event.sharing.dikNo, shareableUnder: event.sharing.shareableUnder.map(legalBasisKey) }
        : {}),
      ...(event.proposal_id ? { proposalId: event.proposal_id } : {}),
      // The log's details are flat ids and integers: the confidence stays in the history row.
      ...(event.suggestion
        ? {
            suggestion: event.suggestion.decision,
            personalData: event.suggestion.personalData,
            fromPersonalData: event.suggestion.fromPersonalData,
          }
        : {}),
    },
  };
  await deps.audit.appendWithin(asTransaction(tx), entry);
}

async function viewOf(tx: TransactionSql, id: string): Promise<DatasetView> {
  const row = await findDataset(tx, id);
  if (!row) throw new Error(`dataset ${id} vanished inside its transaction`);
  return datasetView(row, await findFields(tx, id));
}

/** The dataset with a pending proposal that this principal may decide (not their own). */
async function decidableProposal(
  deps: CatalogDeps,
  tx: TransactionSql,
  p: Principal,
  id: string,
  ifMatch: string | undefined,
  verb: 'approve' | 'reject',
) {
  const access = catalogAccess(deps.policy.current());
  const row = await visibleDataset(tx, access, p, id, true);
  if (row.pending_classification === null || !row.pending_history_id) {
    throw new DomainError('NO_PENDING_PROPOSAL', `Dataset ${id} has no pending exemption proposal.`);
  }
  if (isOwnProposal(p, row.pending_proposed_by)) {
    throw new DomainError('SELF_APPROVAL', 'A proposal is decided by a PPID other than its proposer.');
  }
  const rule = ensure(
    access.canApprove(p, datasetAttributes(row), row.pending_proposed_by),
    `${verb} exemptions of this dataset`,
  );
  checkIfMatch(ifMatch, row.version, false);
  return { row, rule };
}

/** An exemption is proposed, never set: it is pending until another PPID decides it (202). */
async function proposeExemption(
  deps: CatalogDeps,
  tx: TransactionSql,
  p: Principal,
  ctx: RequestContext,
  row: DatasetRow,
  rule: Rule,
  input: LabelDataset,
) {
  checkExemption(deps, input);
  const id = row.id;
  const labelVersion = await bumpLabelVersion(tx, id);
  const record = completeExemption(input);
  const { grounds, consequenceTest, reviewBy } = record;
  const justification = input.justification ?? null;
  const change = labelEvent(p, id, labelVersion, {
    event: 'proposal',
    from: row.classification,
    to: 'exempt',
    grounds,
    consequenceTest,
    reviewBy,
    justification,
  });
  await recordChange(deps, tx, p, ctx, 'label', rule, change, async (event) => {
    await setPending(tx, id, {
      grounds,
      consequenceTest,
      reviewBy,
      justification,
      proposedBy: change.actor.sub,
      historyId: event.id,
    });
    await insertExemption(tx, {
      ...record,
      datasetId: id,
      field: null,
      subject: input.subject ?? row.title,
      justification,
      previousClassification: row.classification,
      proposedBy: change.actor.sub,
      historyId: event.id,
    });
  });
  return { status: 202 as const, dataset: await viewOf(tx, id) };
}

/** Public, restricted (or unlabelled): set at once, a declassification only by whoever may declassify, with a justification. */
async function relabelDataset(
  deps: CatalogDeps,
  tx: TransactionSql,
  p: Principal,
  ctx: RequestContext,
  access: CatalogAccess,
  row: DatasetRow,
  labelRule: Rule,
  input: LabelDataset,
) {
  const id = row.id;
  const from = row.classification;
  const to = input.classification;
  refuseExemptionParts(input, to);
  if (from === to) return { status: 200 as const, dataset: await viewOf(tx, id) };
  const declassification = isDeclassification(from, to);
  let rule = labelRule;
  if (declassification) {
    rule = ensure(
      access.canDeclassify(p, datasetAttributes(row), row.pending_proposed_by),
      `declassify this dataset (${from} → ${to})`,
    );
    if (!input.justification)
      throw justificationRequired(
        `Moving from ${from} to ${to} is a declassification and needs a written justification.`,
      );
  }
  const labelVersion = await bumpLabelVersion(tx, id);
  const change = labelEvent(p, id, labelVersion, {
    event: 'label',
    from,
    to,
    grounds: input.grounds ?? null,
    justification: input.justification ?? null,
    declassification,
  });
  await setLabel(tx, id, {
    classification: to,
    grounds: input.grounds ?? null,
    consequenceTest: null,
    reviewBy: null,
    justification: change.justification,
    decidedBy: change.actor.sub,
    decisionRef: null,
  });
  if (from === 'exempt') await endExemption(tx, id, null, 'lifted');
  // Public and restricted datasets are listed in the DIP (UU 14/2008 art. 11(1)(a)) under a number.
  await ensureRegisterNo(tx, id, row.owner_unit);
  await recordChange(deps, tx, p, ctx, 'label', rule, change);
  return { status: 200 as const, dataset: await viewOf(tx, id) };
}

/** A field's own label: at least as strict as its dataset's; loosening it is a declassification. */
async function relabelField(
  deps: CatalogDeps,
  tx: TransactionSql,
  p: Principal,
  id: string,
  fieldName: string,
  input: LabelField,
  ifMatch: string | undefined,
  ctx: RequestContext,
): Promise<{ status: 200 | 202; dataset: DatasetView }> {
  const access = catalogAccess(deps.policy.current());
  const row = await visibleDataset(tx, access, p, id, true);
  const attrs = datasetAttributes(row);
  let rule = ensure(access.canLabel(p, attrs), 'label the fields of this dataset');
  checkIfMatch(ifMatch, row.version, false);
  const field = (await findFields(tx, id)).find((f) => f.name === fieldName);
  if (!field) throw new DomainError('NOT_FOUND', `Dataset ${id} has no field ${fieldName}.`);
  const to = input.classification;
  if (await openExemption(tx, id, fieldName, 'pending')) {
    throw new DomainError(
      'CONFLICT',
      `An exemption proposal is pending for field ${fieldName}; a PPID approves or rejects it first.`,
    );
  }
  if (field.art18?.status === 'pending') {
    throw new DomainError(
      'CONFLICT',
      `An art. 18(2) declassification is pending for field ${fieldName}; a PPID approves or rejects it first.`,
    );
  }
  const art18 = input.declassification !== undefined;
  const problem = fieldLabelProblem(row.effective_classification, to, decidingCategory(field), art18);
  if (problem)
    throw new DomainError(problem.code, problem.detail, {
      errors: [{ path: art18 ? 'body.declassification' : 'body.classification', message: problem.detail }],
    });
  const from = field.classification;
  if (input.declassification) {
    refuseExemptionParts(input, to);
    return proposeArt18(deps, tx, p, ctx, row, field, rule, input.declassification);
  }
  // Always a proposal, also for a field already exempt (a re-test: the exemption in force stays meanwhile).
  if (to === 'exempt') return proposeFieldExemption(deps, tx, p, ctx, row, fieldName, from, rule, input);
  if (from === to) return { status: 200, dataset: await viewOf(tx, id) };
  refuseExemptionParts(input, to);

  // Loosening or removing a field's own label is a declassification of that field.
  const declassification = from !== null && (to === null || isDeclassification(from, to));
  if (declassification) {
    rule = ensure(
      access.canDeclassify(p, attrs, row.pending_proposed_by),
      `declassify field ${fieldName} (${from} → ${to ?? 'the dataset’s label'})`,
    );
    if (!input.justification)
      throw justificationRequired('Loosening a field’s label is a declassification and needs a written justification.');
  }
  const labelVersion = await bumpLabelVersion(tx, id);
  await setFieldLabel(tx, id, fieldName, to);
  if (from === 'exempt') await endExemption(tx, id, fieldName, 'lifted');
  const change = labelEvent(p, id, labelVersion, {
    event: 'label',
    field: fieldName,
    from,
    to,
    justification: input.justification ?? null,
    declassification,
  });
  await recordChange(deps, tx, p, ctx, 'label', rule, change);
  return { status: 200, dataset: await viewOf(tx, id) };
}

/**
 * A field exemption is proposed like a dataset's (grounds, test, period, review date) and pending
 * until another PPID decides it; meanwhile the field already counts as exempt (fail closed).
 */
async function proposeFieldExemption(
  deps: CatalogDeps,
  tx: TransactionSql,
  p: Principal,
  ctx: RequestContext,
  row: DatasetRow,
  fieldName: string,
  from: Classification | null,
  rule: Rule,
  input: LabelField,
): Promise<{ status: 202; dataset: DatasetView }> {
  checkExemption(deps, input);
  const id = row.id;
  const labelVersion = await bumpLabelVersion(tx, id);
  const record = completeExemption(input);
  const justification = input.justification ?? null;
  const change = labelEvent(p, id, labelVersion, {
    event: 'proposal',
    field: fieldName,
    from,
    to: 'exempt',
    grounds: record.grounds,
    consequenceTest: record.consequenceTest,
    reviewBy: record.reviewBy,
    justification,
  });
  await setFieldLabel(tx, id, fieldName, 'exempt');
  await recordChange(deps, tx, p, ctx, 'label', rule, change, (event) =>
    insertExemption(tx, {
      ...record,
      datasetId: id,
      field: fieldName,
      subject: input.subject ?? `${row.title}: ${fieldName}`,
      justification,
      previousClassification: from,
      proposedBy: change.actor.sub,
      historyId: event.id,
    }),
  );
  return { status: 202, dataset: await viewOf(tx, id) };
}

/**
 * Specific personal data opened under UU 14/2008 art. 18(2) (public office, or the person's written
 * consent): proposed with its basis, pending (the field keeps its label) until a PPID other than the
 * proposer approves it with the decision; the history row is its record.
 */
async function proposeArt18(
  deps: CatalogDeps,
  tx: TransactionSql,
  p: Principal,
  ctx: RequestContext,
  row: DatasetRow,
  field: FieldRow,
  rule: Rule,
  d: Art18Declassification,
): Promise<{ status: 202; dataset: DatasetView }> {
  const labelVersion = await bumpLabelVersion(tx, row.id);
  const change = labelEvent(p, row.id, labelVersion, {
    event: 'proposal',
    field: field.name,
    from: field.classification,
    to: 'public',
    grounds: { article: d.article, basis: d.basis, reference: d.reference, personalData: decidingCategory(field) },
    justification: d.justification,
    declassification: true,
  });
  await recordChange(deps, tx, p, ctx, 'label', rule, change);
  return { status: 202, dataset: await viewOf(tx, row.id) };
}

/** Approves (the field becomes public) or rejects (its label stays) a pending art. 18(2) declassification. */
async function decideArt18(
  deps: CatalogDeps,
  tx: TransactionSql,
  p: Principal,
  ctx: RequestContext,
  row: DatasetRow,
  field: FieldRow & { art18: FieldArt18 },
  verb: 'approve' | 'reject',
  input: DecideProposal,
): Promise<DatasetView> {
  const proposal = field.art18;
  const proposedBy = proposalAuthor(await listLabelEvents(tx, row.id), proposal.historyId);
  if (isOwnProposal(p, proposedBy)) {
    throw new DomainError('SELF_APPROVAL', 'A proposal is decided by a PPID other than its proposer.');
  }
  const access = catalogAccess(deps.policy.current());
  const rule = ensure(
    access.canApprove(p, datasetAttributes(row), proposedBy),
    `${verb} declassifications of this dataset`,
  );
  const decision = verb === 'approve' ? requireDecision(input) : null;
  const labelVersion = await bumpLabelVersion(tx, row.id);
  const { status: _s, decisionRef: _r, historyId, from, ...grounds } = proposal;
  if (decision) await setFieldLabel(tx, row.id, field.name, 'public');
  const change = labelEvent(p, row.id, labelVersion, {
    event: decision ? 'approval' : 'rejection',
    field: field.name,
    from,
    to: decision ? 'public' : from,
    grounds: decision ? grounds : null,
    justification: input.justification ?? null,
    declassification: decision !== null,
    proposalId: historyId,
    decisionRef: decision?.ref ?? input.decisionRef ?? input.decision?.ref ?? null,
  });
  await recordChange(deps, tx, p, ctx, verb, rule, change);
  return viewOf(tx, row.id);
}

const proposalAuthor = (events: LabelHistoryRow[], historyId: string) =>
  events.find((e) => e.id === historyId)?.actor_sub ?? null;

/** The pending field exemption this principal may decide (not their own). */
async function decidableFieldProposal(
  deps: CatalogDeps,
  tx: TransactionSql,
  p: Principal,
  id: string,
  fieldName: string,
  ifMatch: string | undefined,
  verb: 'approve' | 'reject',
): Promise<{ row: DatasetRow; rule: Rule; pending: ExemptionRow }> {
  const access = catalogAccess(deps.policy.current());
  const row = await visibleDataset(tx, access, p, id, true);
  const pending = await openExemption(tx, id, fieldName, 'pending');
  if (!pending) {
    throw new DomainError(
      'NO_PENDING_PROPOSAL',
      `Field ${fieldName} of dataset ${id} has no pending exemption proposal.`,
    );
  }
  if (isOwnProposal(p, pending.proposed_by)) {
    throw new DomainError('SELF_APPROVAL', 'A proposal is decided by a PPID other than its proposer.');
  }
  const rule = ensure(
    access.canApprove(p, datasetAttributes(row), pending.proposed_by),
    `${verb} exemptions of this dataset`,
  );
  checkIfMatch(ifMatch, row.version, false);
  return { row, rule, pending };
}

async function decideField(
  deps: CatalogDeps,
  tx: TransactionSql,
  p: Principal,
  id: string,
  fieldName: string,
  verb: 'approve' | 'reject',
  input: DecideProposal,
  ifMatch: string | undefined,
  ctx: RequestContext,
): Promise<DatasetView> {
  const locked = await visibleDataset(tx, catalogAccess(deps.policy.current()), p, id, true);
  const field = (await findFields(tx, id)).find((f) => f.name === fieldName);
  if (field?.art18?.status === 'pending' && !(await openExemption(tx, id, fieldName, 'pending'))) {
    const row = locked;
    checkIfMatch(ifMatch, row.version, false);
    return decideArt18(deps, tx, p, ctx, row, { ...field, art18: field.art18 }, verb, input);
  }
  const { row, rule, pending } = await decidableFieldProposal(deps, tx, p, id, fieldName, ifMatch, verb);
  const decision = verb === 'approve' ? requireDecision(input) : null;
  const labelVersion = await bumpLabelVersion(tx, id);
  const historyId = pending.proposal_history_id;
  if (decision) {
    await endExemption(tx, id, fieldName, 'superseded');
    await approveExemption(
      tx,
      pending.id,
      decision,
      p.sub ?? '(anonymous)',
      await nextRegisterNo(tx, 'DIK', row.owner_unit),
    );
    const change = labelEvent(p, id, labelVersion, {
      event: 'approval',
      field: fieldName,
      from: pending.previous_classification,
      to: 'exempt',
      grounds: pending.grounds,
      consequenceTest: pending.consequence_test,
      reviewBy: pending.review_by,
      justification: input.justification ?? null,
      proposalId: historyId,
      decisionRef: decision.ref,
    });
    await recordChange(deps, tx, p, ctx, 'approve', rule, change);
  } else {
    await rejectExemption(tx, pending.id, p.sub ?? '(anonymous)');
    // The field's own label before the proposal comes back.
    await setFieldLabel(tx, id, fieldName, pending.previous_classification);
    const change = labelEvent(p, id, labelVersion, {
      event: 'rejection',
      field: fieldName,
      from: 'exempt',
      to: pending.previous_classification,
      justification: input.justification ?? null,
      proposalId: historyId,
      decisionRef: input.decisionRef ?? input.decision?.ref ?? null,
    });
    await recordChange(deps, tx, p, ctx, 'reject', rule, change);
  }
  return viewOf(tx, id);
}

export function createLabelService(deps: CatalogDeps): LabelService {
  const { sql } = deps;
  return {
    labelDataset: (p, id, input, ifMatch, ctx) =>
      withDenialLogged(deps, p, 'label', id, ctx, () =>
        sql.begin(async (tx) => {
          const access = catalogAccess(deps.policy.current());
          const row = await visibleDataset(tx, access, p, id, true);
          const rule = ensure(access.canLabel(p, datasetAttributes(row)), 'label this dataset');
          checkIfMatch(ifMatch, row.version, false);
          refuseWhilePending(row);
          if (input.classification === 'exempt') return proposeExemption(deps, tx, p, ctx, row, rule, input);
          return relabelDataset(deps, tx, p, ctx, access, row, rule, input);
        }),
      ),

    labelField: (p, id, fieldName, input, ifMatch, ctx) =>
      withDenialLogged(deps, p, 'label', id, ctx, () =>
        sql.begin((tx) => relabelField(deps, tx, p, id, fieldName, input, ifMatch, ctx)),
      ),

    approve: (p, id, input, ifMatch, ctx) =>
      withDenialLogged(deps, p, 'approve', id, ctx, () =>
        sql.begin(async (tx) => {
          const { row, rule } = await decidableProposal(deps, tx, p, id, ifMatch, 'approve');
          const decision = requireDecision(input);
          const pending = await openExemption(tx, id, null, 'pending');
          if (!pending) {
            // A proposal made before exemption records existed: it lacks the parts the law asks for.
            throw new DomainError('CONFLICT', 'This proposal predates exemption records; reject it and propose again.');
          }
          const labelVersion = await bumpLabelVersion(tx, id);
          await endExemption(tx, id, null, 'superseded');
          await approveExemption(
            tx,
            pending.id,
            decision,
            p.sub ?? '(anonymous)',
            await nextRegisterNo(tx, 'DIK', row.owner_unit),
          );
          const change = labelEvent(p, id, labelVersion, {
            event: 'approval',
            from: row.classification,
            to: 'exempt',
            grounds: pending.grounds,
            consequenceTest: pending.consequence_test,
            reviewBy: pending.review_by,
            justification: input.justification ?? null,
            proposalId: row.pending_history_id,
            decisionRef: decision.ref,
          });
          const { consequenceTest, reviewBy, decisionRef } = change;
          await setLabel(tx, id, {
            classification: 'exempt',
            grounds: pending.grounds,
            consequenceTest,
            reviewBy,
            justification: input.justification ?? row.pending_justification,
            decidedBy: change.actor.sub,
            decisionRef,
          });
          await recordChange(deps, tx, p, ctx, 'approve', rule, change);
          return viewOf(tx, id);
        }),
      ),

    reject: (p, id, input, ifMatch, ctx) =>
      withDenialLogged(deps, p, 'reject', id, ctx, () =>
        sql.begin(async (tx) => {
          const { row, rule } = await decidableProposal(deps, tx, p, id, ifMatch, 'reject');
          const labelVersion = await bumpLabelVersion(tx, id);
          await clearPending(tx, id);
          const pending = await openExemption(tx, id, null, 'pending');
          if (pending) await rejectExemption(tx, pending.id, p.sub ?? '(anonymous)');
          // The label in force before the proposal stays.
          const change = labelEvent(p, id, labelVersion, {
            event: 'rejection',
            from: 'exempt',
            to: row.classification,
            justification: input.justification ?? null,
            proposalId: row.pending_history_id,
            decisionRef: input.decisionRef ?? input.decision?.ref ?? null,
          });
          await recordChange(deps, tx, p, ctx, 'reject', rule, change);
          return viewOf(tx, id);
        }),
      ),

    decideField: (p, id, fieldName, verb, input, ifMatch, ctx) =>
      withDenialLogged(deps, p, verb, id, ctx, () =>
        sql.begin((tx) => decideField(deps, tx, p, id, fieldName, verb, input, ifMatch, ctx)),
      ),

    async history(p, id) {
      const access = catalogAccess(deps.policy.current());
      const row = await visibleDataset(sql, access, p, id);
      ensure(access.canReadHistory(p, datasetAttributes(row), row.pending_proposed_by), 'read the label history');
      const events = (await listLabelEvents(sql, id)).map(labelEventView);
      // The public sees who decided by role and unit, never by internal user id.
      // nor the legal bases an exemption is shared under (docs/agreements.md: not a register column).
      return p.kind === 'anonymous'
        ? events.map(({ by: { sub: _sub, ...by }, sharing: _sharing, ...e }) => ({ ...e, by }))
        : events;
    },
  };
}
