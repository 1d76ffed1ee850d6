import type { Meter } from '@opentelemetry/api';
import type { AuditLog } from '../audit/audit.port.ts';
import { catalogAccess, type PolicyInForce } from '../catalog/catalog.access.ts';
import {
  auditPrincipal,
  allowedBy,
  ensure,
  visibleDataset,
  withDenialLogged,
  type RequestContext,
} from '../catalog/catalog.context.ts';
import { bumpLabelVersion, findDataset, findFields, type DatasetRow, type FieldRow } from '../catalog/catalog.repo.ts';
import type { DatasetView } from '../catalog/catalog.schema.ts';
import { datasetAttributes, datasetView, fieldAttributes } from '../catalog/catalog.view.ts';
import { isDeclassification } from '../catalog/label-rules.ts';
import { labelEvent, recordChange } from '../catalog/label.service.ts';
import { asTransaction, type Queryable, type Sql, type TransactionSql } from '../db/database.ts';
import type { Principal } from '../identity/principal.ts';
import { DomainError } from '../shared/errors.ts';
import { classifyField } from './classify.ts';
import { quarantineField, setSuggested, settleField } from '../catalog/field-findings.repo.ts';
import {
  decideSuggestion,
  findSuggestion,
  listSuggestions,
  upsertSuggestion,
  type SuggestionRow,
} from './scan.repo.ts';
import { quarantineFor, suggestionOf, type Suggestion } from './suggestion.ts';

/**
 * Scans, suggestions and quarantine (issue 18). A scan samples a dataset's records (bounded),
 * runs the detectors per field and stores one suggestion per field; it never changes what a
 * steward declared. Where a confident finding is stricter than the field's declared kind, the
 * field is quarantined in the same transaction — read as restricted (and as the category found)
 * by every decision until a steward accepts or rejects the suggestion. Those decisions are label
 * events: in the label history and the audit log.
 */
export interface SuggestionView {
  field: string;
  personalData: string;
  personalDataKind: 'none' | 'general' | 'specific';
  classification: 'restricted' | null;
  mask?: string;
  confidence: number;
  evidence: Suggestion['evidence'];
  spans: boolean;
  status: 'open' | 'agrees' | 'accepted' | 'rejected';
}

export interface QuarantineView {
  field: string;
  /** The category found; read as this (and as restricted) until a steward decides. */
  personalData: string;
  /** `field`: the whole field is held back; `spans`: identifiers inside its text are redacted. */
  scope: 'field' | 'spans';
  confidence: number;
}

export interface DetectionService {
  scan(
    p: Principal,
    datasetId: string,
    ctx: RequestContext,
  ): Promise<{ suggestions: SuggestionView[]; quarantined: QuarantineView[] }>;
  suggestions(p: Principal, datasetId: string): Promise<{ items: SuggestionView[] }>;
  decide(
    p: Principal,
    datasetId: string,
    field: string,
    decision: 'accept' | 'reject',
    input: { justification?: string | undefined },
    ctx: RequestContext,
  ): Promise<DatasetView>;
  /**
   * Findings over an upload's sample, inside the ingest's transaction: the rows and the quarantine
   * they cause commit together, so no read ever sees the rows without it.
   */
  onIngest(
    tx: TransactionSql,
    p: Principal,
    datasetId: string,
    sample: readonly Record<string, unknown>[],
    ctx: RequestContext,
  ): Promise<QuarantineView[]>;
}

export interface DetectionDeps {
  /** The catalog's writer (its transactions mark the catalog snapshot stale). */
  sql: Sql;
  audit: AuditLog;
  policy: PolicyInForce;
  meter?: Meter;
  /** A bounded sample of a dataset's records (the records capability's read port). */
  sample(datasetId: string, size: number): Promise<Record<string, unknown>[]>;
  sampleSize: number;
  quarantineConfidence: number;
  now?: () => Date;
}

export function viewOfSuggestion(r: SuggestionRow): SuggestionView {
  return {
    field: r.field_name,
    personalData: r.personal_data,
    personalDataKind: r.kind,
    classification: r.classification,
    ...(r.mask ? { mask: r.mask } : {}),
    confidence: Number(r.confidence),
    evidence: r.evidence,
    spans: r.spans,
    status: r.status,
  };
}

export function createDetectionService(deps: DetectionDeps): DetectionService {
  const now = deps.now ?? (() => new Date());
  const quarantines = deps.meter?.createCounter('jaga.detection.quarantines', {
    description: 'Fields quarantined because a detector found personal data their label does not allow',
  });

  /** Classifies every field over `rows`, stores the suggestions, quarantines where the finding requires it. */
  async function findings(
    tx: TransactionSql,
    p: Principal,
    row: DatasetRow,
    rows: readonly Record<string, unknown>[],
    ctx: RequestContext,
    trigger: 'scan' | 'ingest',
  ): Promise<{ suggestions: SuggestionView[]; quarantined: QuarantineView[] }> {
    const fields = await findFields(tx, row.id);
    const prior = new Map((await listSuggestions(tx, row.id)).map((s) => [s.field_name, s]));
    const at = now();
    const quarantined: QuarantineView[] = [];
    for (const f of fields) {
      if (f.type === 'boolean') continue;
      const verdict = classifyField({ name: f.name, type: f.type, values: rows.map((r) => r[f.name]) }, at);
      const s = suggestionOf(f.name, verdict);
      const agrees = s.personalData === 'none' || s.personalData === f.personal_data;
      const status = await upsertSuggestion(tx, row.id, s, agrees ? 'agrees' : 'open');
      await setSuggested(tx, row.id, f.name, status === 'open' ? s.personalData : null);
      const before = prior.get(f.name);
      const rejected =
        status === 'rejected' ? s.personalData : before?.status === 'rejected' ? before.personal_data : null;
      const q = quarantineFor(f.personal_data, s, deps.quarantineConfidence, rejected);
      if (q && (await quarantineField(tx, row.id, f.name, q))) {
        quarantined.push({ field: f.name, personalData: q.category, scope: q.kind, confidence: s.confidence });
        await logQuarantine(tx, p, row, f, s, q.kind, ctx, trigger);
      }
    }
    if (quarantined.length > 0) {
      await bumpLabelVersion(tx, row.id);
      quarantines?.add(quarantined.length, { trigger });
    }
    return { suggestions: (await listSuggestions(tx, row.id)).map(viewOfSuggestion), quarantined };
  }

  async function logQuarantine(
    tx: TransactionSql,
    p: Principal,
    row: DatasetRow,
    f: FieldRow,
    s: Suggestion,
    scope: 'field' | 'spans',
    ctx: RequestContext,
    trigger: 'scan' | 'ingest',
  ): Promise<void> {
    await deps.audit.appendWithin(asTransaction(tx), {
      event: 'label_change',
      principal: auditPrincipal(p),
      action: 'quarantine',
      resource: {
        type: 'Field',
        id: `${row.id}/${f.name}`,
        datasetId: row.id,
        unit: row.owner_unit,
        classification: 'restricted',
      },
      effect: 'allow',
      ruleId: null,
      reason: `a detector found ${s.personalData} data that the field's label (${f.personal_data}) does not allow`,
      policyVersion: deps.policy.current().version,
      requestId: ctx.requestId ?? null,
      traceId: ctx.traceId ?? null,
      // Counts and the detector only: never a value.
      // The log's details are flat ids and integers: confidence in thousandths; counts, never values.
      details: {
        trigger,
        scope,
        declared: f.personal_data,
        found: s.personalData,
        confidencePermille: Math.round(s.confidence * 1000),
        detector: s.evidence.detector,
        matched: s.evidence.matched,
        sampled: s.evidence.sampled,
        ...(s.evidence.hint ? { hint: s.evidence.hint } : {}),
      },
    });
  }

  return {
    scan: (p, id, ctx) =>
      withDenialLogged(deps, p, 'scan', id, ctx, async () => {
        // Asked first, and sampled before the transaction (the embedded database has one connection);
        // the transaction asks again under its lock.
        const access = catalogAccess(deps.policy.current());
        const seen = await visibleDataset(deps.sql, access, p, id);
        ensure(access.canLabel(p, datasetAttributes(seen)), 'scan this dataset');
        const rows = await deps.sample(id, deps.sampleSize);
        return deps.sql.begin(async (tx) => {
          const access = catalogAccess(deps.policy.current());
          const row = await visibleDataset(tx, access, p, id, true);
          const rule = ensure(access.canLabel(p, datasetAttributes(row)), 'scan this dataset');
          const result = await findings(tx, p, row, rows, ctx, 'scan');
          await deps.audit.appendWithin(asTransaction(tx), {
            event: 'catalog_change',
            principal: auditPrincipal(p),
            action: 'scan',
            resource: {
              type: 'Dataset',
              id,
              classification: row.effective_classification,
              labelVersion: row.label_version,
            },
            ...allowedBy(rule, ctx),
            rowCount: rows.length,
            details: {
              sampled: rows.length,
              open: result.suggestions.filter((s) => s.status === 'open').map((s) => s.field),
              quarantined: result.quarantined.map((q) => q.field),
            },
          });
          return result;
        });
      }),

    async suggestions(p, id) {
      const access = catalogAccess(deps.policy.current());
      const row = await visibleDataset(deps.sql, access, p, id);
      ensure(
        access.canReadHistory(p, datasetAttributes(row), row.pending_proposed_by),
        'read this dataset’s suggestions',
      );
      return { items: (await listSuggestions(deps.sql, id)).map(viewOfSuggestion) };
    },

    decide: (p, id, fieldName, decision, input, ctx) =>
      withDenialLogged(deps, p, 'label', id, ctx, () =>
        deps.sql.begin(async (tx) => {
          const access = catalogAccess(deps.policy.current());
          const row = await visibleDataset(tx, access, p, id, true);
          const rule = ensure(access.canLabel(p, datasetAttributes(row)), 'decide this dataset’s suggestions');
          const field = (await findFields(tx, id)).find((f) => f.name === fieldName);
          if (!field) throw new DomainError('NOT_FOUND', `Dataset ${id} has no field ${fieldName}.`);
          const s = await findSuggestion(tx, id, fieldName);
          const undecided = s && (s.status === 'open' || field.quarantine !== null || field.redact_spans);
          if (!s || !undecided || s.personal_data === 'none')
            throw new DomainError('NO_OPEN_SUGGESTION', `No scan suggestion for ${fieldName} awaits a decision.`);
          const from = fieldAttributes(row, field).classification;
          await settleField(tx, id, fieldName, decision === 'accept' ? s.personal_data : null);
          await decideSuggestion(
            tx,
            id,
            fieldName,
            decision === 'accept' ? 'accepted' : 'rejected',
            p.sub ?? '(anonymous)',
          );
          const after = (await findFields(tx, id)).find((f) => f.name === fieldName)!;
          const to = fieldAttributes(row, after).classification;
          const labelVersion = await bumpLabelVersion(tx, id);
          const change = labelEvent(p, id, labelVersion, {
            event: 'label',
            field: fieldName,
            from,
            to,
            justification: input.justification ?? `scan suggestion ${decision === 'accept' ? 'accepted' : 'rejected'}`,
            declassification: isDeclassification(from, to),
            suggestion: {
              decision: decision === 'accept' ? 'accepted' : 'rejected',
              personalData: s.personal_data,
              fromPersonalData: field.personal_data,
              confidence: Number(s.confidence),
            },
          });
          await recordChange(deps, tx, p, ctx, 'label', rule, change);
          return viewOf(tx, id);
        }),
      ),

    async onIngest(tx, p, id, sample, ctx) {
      if (sample.length === 0) return [];
      const row = await findDataset(tx, id);
      if (!row) return [];
      const { quarantined } = await findings(tx, p, row, sample, ctx, 'ingest');
      return quarantined;
    },
  };
}

async function viewOf(q: Queryable, id: string): Promise<DatasetView> {
  const row = await findDataset(q, id);
  if (!row) throw new Error(`dataset ${id} vanished inside its transaction`);
  return datasetView(row, await findFields(q, id));
}
