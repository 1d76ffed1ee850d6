import { asTransaction, type Queryable, type TransactionSql } from '../db/database.ts';
import { publicDatasets, type PublicDatasetRow } from './public-datasets.repo.ts';
import { DomainError } from '../shared/errors.ts';
import type { Principal } from '../identity/principal.ts';
import type { DatasetAttributes, SubjectType } from '../policy/engine.types.ts';
import { catalogAccess, type Rule } from './catalog.access.ts';
import {
  auditPrincipal,
  ensure,
  notFound,
  visibleDataset,
  type CatalogDeps,
  type RequestContext,
  allowedBy,
} from './catalog.context.ts';
import { decodeCursor, encodeCursor } from './catalog.cursor.ts';
import { checkIfMatch } from './dataset-version.ts';
import {
  bumpLabelVersion,
  countRangeFields,
  findDataset,
  findFields,
  findFieldsOf,
  insertDataset,
  insertFields,
  listDatasets,
  publicRegisterRow,
  updateField,
  updateMetadata,
  type DatasetRow,
  type MetadataChange,
} from './catalog.repo.ts';
import type {
  CreateDataset,
  DatasetView,
  ListDatasetsQuery,
  PublicDatasetView,
  UpdateDataset,
} from './catalog.schema.ts';
import {
  datasetAttributes,
  datasetView,
  fieldAttributes,
  publicDatasetView,
  withoutUserIds,
  type FieldForRead,
} from './catalog.view.ts';
import { appendLabelEvent } from './label-history.repo.ts';
import { createLabelService, type LabelService } from './label.service.ts';
import { createExemptionSharingService, type ExemptionSharingService } from './exemption-sharing.service.ts';
import { effectiveFieldClassification, rank } from './label-rules.ts';
import { createRegisterService, type RegisterService } from './register.service.ts';
import { databaseResolver } from './catalog.snapshot.ts';

/** A field as the records capability needs it: its attributes for decisions plus its type. */
export type { FieldForRead } from './catalog.view.ts';

/** Looks resources up by type and id for the decision API (`POST /v1/check` without attributes). */
export interface ResourceResolver {
  /** `Dataset` by id (its attributes plus `fields`); `Field` by `datasetId/field`. Null when missing (or of another type). */
  resolve(type: SubjectType | string, id: string, sql?: Queryable): Promise<Record<string, unknown> | null>;
}

export interface CatalogService extends LabelService, RegisterService, ExemptionSharingService {
  createDataset(p: Principal, input: CreateDataset, ctx: RequestContext): Promise<DatasetView>;
  /**
   * A dataset the caller may read; else, when it is in the DIP (public or restricted, no pending
   * exemption), its public metadata; else 404. Anonymous callers never see user ids.
   */
  getDataset(p: Principal, id: string): Promise<DatasetView | PublicDatasetView>;
  listDatasets(p: Principal, q: ListDatasetsQuery): Promise<{ items: DatasetView[]; nextCursor: string | null }>;
  updateDataset(
    p: Principal,
    id: string,
    input: UpdateDataset,
    ifMatch: string | undefined,
    ctx: RequestContext,
  ): Promise<DatasetView>;

  /**
   * For other capabilities (no permission check: they decide with the policy engine).
   * Pass `sql` when calling from inside a transaction (PGlite has one connection).
   */
  getDatasetAttributes(id: string, sql?: Queryable): Promise<DatasetAttributes | null>;
  /** The dataset's attributes and every field's, in declared order; null when missing. */
  getFieldsForRead(id: string, sql?: Queryable): Promise<{ dataset: DatasetAttributes; fields: FieldForRead[] } | null>;
  /** Datasets that are effectively public (no pending exemption), keyset by id: the open-data catalogue's candidates. */
  listPublicDatasets(afterId: string | null, limit: number): Promise<PublicDatasetRow[]>;
  resolver: ResourceResolver;
}

const DEFAULT_LIMIT = 50;
/** Range-filterable fields per dataset when the configuration does not say (RECORDS_RANGE_FILTERS_MAX). */
const DEFAULT_RANGE_FILTERS_MAX = 8;

/** Refuses a dataset with more range-filterable fields than allowed; inside the change's transaction, so nothing is written. */
async function checkRangeFilterLimit(deps: CatalogDeps, tx: TransactionSql, id: string): Promise<void> {
  const max = deps.rangeFilters?.max ?? DEFAULT_RANGE_FILTERS_MAX;
  const count = await countRangeFields(tx, id);
  if (count > max) {
    throw new DomainError(
      'RANGE_FILTER_LIMIT',
      `A dataset may declare at most ${max} range-filterable fields (each is an index on its records); this change declares ${count}.`,
      { errors: [{ path: 'body.fields', message: `at most ${max} fields with filter "range"` }] },
    );
  }
}

export function createCatalogService(deps: CatalogDeps): CatalogService {
  const { sql } = deps;

  async function getDatasetAttributes(id: string, q: Queryable = sql): Promise<DatasetAttributes | null> {
    const row = await findDataset(q, id);
    return row ? datasetAttributes(row) : null;
  }

  async function getFieldsForRead(id: string, q: Queryable = sql) {
    const row = await findDataset(q, id);
    if (!row) return null;
    const fields = await findFields(q, id);
    return {
      dataset: datasetAttributes(row),
      fields: fields.map((f): FieldForRead => ({
        ...fieldAttributes(row, f),
        type: f.type,
        // Present only when set: identifiers in the field's text are redacted span by span (src/detection).
        ...(f.redact_spans ? { redactSpans: true } : {}),
      })),
    };
  }

  return {
    ...createLabelService(deps),
    ...createExemptionSharingService(deps),
    ...createRegisterService(deps),
    getDatasetAttributes,
    getFieldsForRead,
    listPublicDatasets: (afterId, limit) => publicDatasets(sql, afterId, limit),
    // Without a transaction, decisions resolve through the snapshot (catalog.notify.ts); this reads the database.
    resolver: databaseResolver(sql),
    createDataset: (principal, input, ctx) => createDataset(deps, principal, input, ctx),
    async getDataset(principal, id) {
      const row = await findDataset(sql, id);
      if (row && catalogAccess(deps.policy.current()).canRead(principal, datasetAttributes(row)).allow) {
        const view = datasetView(row, await findFields(sql, id));
        return principal.kind === 'anonymous' ? withoutUserIds(view) : view;
      }
      // Listed in the DIP: its existence and metadata are public information (UU 14/2008 art. 11(1)(a)).
      const listed = row ? await publicRegisterRow(sql, id) : undefined;
      if (!listed) throw notFound(id);
      return publicDatasetView(listed, await findFields(sql, id));
    },
    listDatasets: (principal, query) => listDatasetsPage(deps, principal, query),
    async updateDataset(principal, id, input, ifMatch, ctx) {
      const view = await sql.begin((tx) => updateDataset(deps, tx, principal, id, input, ifMatch, ctx));
      if (input.fields?.some((field) => field.filter !== undefined)) deps.rangeFilters?.changed();
      return view;
    },
  };
}

async function createDataset(
  deps: CatalogDeps,
  principal: Principal,
  input: CreateDataset,
  ctx: RequestContext,
): Promise<DatasetView> {
  const rule = ensure(
    catalogAccess(deps.policy.current()).canCreate(principal, input.ownerUnit),
    `create a dataset in unit ${input.ownerUnit}`,
  );
  const view = await deps.sql.begin(async (tx) => {
    await insertDataset(tx, {
      id: input.id,
      title: input.title,
      description: input.description ?? '',
      ownerUnit: input.ownerUnit,
      sourceSystem: input.sourceSystem ?? null,
      steward: input.steward ?? principal.sub,
      producerUnit: input.producerUnit ?? null,
      updateFrequency: input.updateFrequency ?? null,
      periodCovered: input.periodCovered ?? null,
      concepts: input.concepts ?? null,
      referenceCodes: input.referenceCodes ?? [],
      dip: {
        summary: input.summary ?? null,
        responsibleOfficial: input.responsibleOfficial ?? null,
        producedAt: input.producedAt ?? null,
        producedPlace: input.producedPlace ?? null,
        forms: input.forms ?? [],
        retention: input.retention ?? null,
        infoKind: input.infoKind ?? null,
      },
    });
    await insertFields(
      tx,
      input.id,
      input.fields.map((field) => ({
        name: field.name,
        type: field.type,
        description: field.description ?? '',
        personalData: field.personalData ?? 'none',
        filter: field.filter ?? 'equality',
      })),
      1,
    );
    await checkRangeFilterLimit(deps, tx, input.id);
    const ranged = input.fields.filter((field) => field.filter === 'range').map((field) => field.name);
    await deps.audit.appendWithin(asTransaction(tx), {
      event: 'catalog_change',
      principal: auditPrincipal(principal),
      action: 'create',
      resource: { type: 'Dataset', id: input.id, classification: null, labelVersion: 0 },
      ...allowedBy(rule, ctx),
      details: {
        fields: input.fields.map((field) => field.name),
        ...(ranged.length ? { rangeFiltersDeclared: ranged } : {}),
      },
    });
    const row = await findDataset(tx, input.id);
    if (!row) throw new Error('created dataset not found');
    return datasetView(row, await findFields(tx, input.id));
  });
  if (input.fields.some((field) => field.filter === 'range')) deps.rangeFilters?.changed();
  return view;
}

async function listDatasetsPage(
  deps: CatalogDeps,
  principal: Principal,
  query: ListDatasetsQuery,
): Promise<{ items: DatasetView[]; nextCursor: string | null }> {
  const { sql } = deps;
  const limit = query.limit ?? DEFAULT_LIMIT;
  const rows = await listDatasets(sql, catalogAccess(deps.policy.current()).readScope(principal), {
    ...(query.classification ? { classification: query.classification } : {}),
    ...(query.unit ? { unit: query.unit } : {}),
    ...(query.unlabelled !== undefined ? { unlabelled: query.unlabelled } : {}),
    ...(query.reviewOverdue !== undefined ? { reviewOverdue: query.reviewOverdue } : {}),
    ...(query.openSuggestions !== undefined ? { openSuggestions: query.openSuggestions } : {}),
    ...(query.quarantined !== undefined ? { quarantined: query.quarantined } : {}),
    ...(query.sourceSystem ? { sourceSystem: query.sourceSystem } : {}),
    ...(query.pending !== undefined ? { pending: query.pending } : {}),
    ...(query.search ? { search: query.search } : {}),
    ...(query.cursor ? { after: decodeCursor(query.cursor) } : {}),
    limit,
  });
  const page = rows.slice(0, limit);
  const fields = await findFieldsOf(
    sql,
    page.map((row) => row.id),
  );
  const last = page.at(-1);
  return {
    items: page.map((row) => {
      const view = datasetView(row, fields.get(row.id) ?? []);
      return principal.kind === 'anonymous' ? withoutUserIds(view) : view;
    }),
    nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null,
  };
}

/** A field whose own label was kept when its personal-data category changed. */
interface PinnedLabel {
  field: string;
  from: DatasetRow['classification'];
  to: NonNullable<DatasetRow['classification']>;
  was: string;
  now: string;
}

async function updateDataset(
  deps: CatalogDeps,
  tx: TransactionSql,
  principal: Principal,
  id: string,
  input: UpdateDataset,
  ifMatch: string | undefined,
  ctx: RequestContext,
): Promise<DatasetView> {
  const access = catalogAccess(deps.policy.current());
  const row = await visibleDataset(tx, access, principal, id, true);
  const rule = ensure(access.canUpdate(principal, datasetAttributes(row)), 'change this dataset');
  checkIfMatch(ifMatch, row.version, true);

  const { pinned, rangeFilters } = await updateFields(tx, id, row, input.fields ?? []);
  if (rangeFilters.declared.length) await checkRangeFilterLimit(deps, tx, id);
  const change = metadataChange(input);
  if (!(await updateMetadata(tx, id, row.version, change))) {
    throw new DomainError('PRECONDITION_FAILED', 'The dataset changed while it was being updated; read it again.');
  }
  for (const pin of pinned) await recordPinnedLabel(deps, tx, principal, id, pin, rule, ctx);
  await deps.audit.appendWithin(asTransaction(tx), {
    event: 'catalog_change',
    principal: auditPrincipal(principal),
    action: 'update',
    resource: { type: 'Dataset', id, classification: row.effective_classification, labelVersion: row.label_version },
    ...allowedBy(rule, ctx),
    details: {
      changed: Object.keys(change),
      fields: (input.fields ?? []).map((field) => field.name),
      // A declaration change also builds or drops an index on the dataset's records.
      ...(rangeFilters.declared.length ? { rangeFiltersDeclared: rangeFilters.declared } : {}),
      ...(rangeFilters.removed.length ? { rangeFiltersRemoved: rangeFilters.removed } : {}),
    },
  });
  const updated = await findDataset(tx, id);
  if (!updated) throw new Error('updated dataset not found');
  return datasetView(updated, await findFields(tx, id));
}

/**
 * Changes the fields given and adds the new ones; returns the fields whose label was kept and the
 * fields whose range filter was declared or removed.
 */
async function updateFields(
  tx: TransactionSql,
  id: string,
  row: DatasetRow,
  given: NonNullable<UpdateDataset['fields']>,
): Promise<{ pinned: PinnedLabel[]; rangeFilters: { declared: string[]; removed: string[] } }> {
  const existing = new Map((await findFields(tx, id)).map((field) => [field.name, field]));
  const added = [];
  const pinned: PinnedLabel[] = [];
  const rangeFilters = { declared: [] as string[], removed: [] as string[] };
  for (const field of given) {
    const old = existing.get(field.name);
    if (!old) {
      added.push({
        name: field.name,
        type: field.type,
        description: field.description ?? '',
        personalData: field.personalData ?? 'none',
        filter: field.filter ?? 'equality',
      });
      if (field.filter === 'range') rangeFilters.declared.push(field.name);
      continue;
    }
    if (old.type !== field.type) {
      throw new DomainError(
        'CONFLICT',
        `Field ${field.name} is ${old.type}; a field's type is fixed once created (add a new field instead).`,
        {
          errors: [{ path: 'body.fields', message: `type of ${field.name} cannot change` }],
        },
      );
    }
    const personalData = field.personalData ?? old.personal_data;
    let own = old.classification;
    // A new personal-data category never loosens a field silently: the field keeps the
    // label it had (as its own label), and only a PPID's declassification loosens it.
    const before = effectiveFieldClassification(row.classification, own, old.personal_data);
    const after = effectiveFieldClassification(row.classification, own, personalData);
    if (before !== null && after !== null && rank(after) < rank(before)) {
      pinned.push({ field: field.name, from: own, to: before, was: old.personal_data, now: personalData });
      own = before;
    }
    const filter = field.filter ?? old.filter;
    if (filter !== old.filter) rangeFilters[filter === 'range' ? 'declared' : 'removed'].push(field.name);
    await updateField(tx, id, field.name, {
      description: field.description ?? old.description,
      personalData,
      classification: own,
      filter,
    });
  }
  const maxPosition = Math.max(0, ...[...existing.values()].map((field) => field.position));
  await insertFields(tx, id, added, maxPosition + 1);
  return { pinned, rangeFilters };
}

/** The dataset metadata the update names (columns as stored). */
function metadataChange(input: UpdateDataset): MetadataChange {
  const change: MetadataChange = {};
  if (input.title !== undefined) change.title = input.title;
  if (input.description !== undefined) change.description = input.description;
  if (input.sourceSystem !== undefined) change.source_system = input.sourceSystem;
  if (input.steward !== undefined) change.steward = input.steward;
  if (input.producerUnit !== undefined) change.producer_unit = input.producerUnit;
  if (input.updateFrequency !== undefined) change.update_frequency = input.updateFrequency;
  if (input.periodCovered !== undefined) change.period_covered = input.periodCovered;
  if (input.concepts !== undefined) change.concepts = input.concepts;
  if (input.referenceCodes !== undefined) change.reference_codes = input.referenceCodes;
  if (input.summary !== undefined) change.summary = input.summary;
  if (input.responsibleOfficial !== undefined) change.responsible_official = input.responsibleOfficial;
  if (input.producedAt !== undefined) change.produced_at = input.producedAt;
  if (input.producedPlace !== undefined) change.produced_place = input.producedPlace;
  if (input.forms !== undefined) change.forms = input.forms;
  if (input.retention !== undefined) change.retention = input.retention;
  if (input.infoKind !== undefined) change.info_kind = input.infoKind;
  return change;
}

/** A kept field label as a label event in the history and in the audit log. */
async function recordPinnedLabel(
  deps: CatalogDeps,
  tx: TransactionSql,
  principal: Principal,
  id: string,
  pin: PinnedLabel,
  rule: Rule,
  ctx: RequestContext,
): Promise<void> {
  const labelVersion = await bumpLabelVersion(tx, id);
  const event = await appendLabelEvent(tx, {
    datasetId: id,
    field: pin.field,
    event: 'label',
    from: pin.from,
    to: pin.to,
    grounds: null,
    consequenceTest: null,
    reviewBy: null,
    justification: `kept at ${pin.to} when its personal-data category changed from ${pin.was} to ${pin.now}`,
    declassification: false,
    proposalId: null,
    decisionRef: null,
    actor: { sub: principal.sub ?? '(anonymous)', roles: [...principal.roles], unit: principal.unit },
    labelVersion,
  });
  await deps.audit.appendWithin(asTransaction(tx), {
    event: 'label_change',
    principal: auditPrincipal(principal),
    action: 'label',
    resource: { type: 'Field', id: `${id}/${pin.field}`, classification: pin.to, labelVersion },
    ...allowedBy(rule, ctx),
    reason: 'field label kept when its personal-data category changed',
    details: { historyId: event.id, from: pin.from, to: pin.to },
  });
}
