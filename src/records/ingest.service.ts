import type { AuditLog } from '../audit/audit.port.ts';
import type { CatalogService, FieldForRead } from '../catalog/catalog.service.ts';
import { isWithin } from '../shared/unit-code.ts';
import { asTransaction, type Queryable, type Sql } from '../db/database.ts';
import { DomainError, type FieldError } from '../shared/errors.ts';
import type { Principal } from '../identity/principal.ts';
import type { PolicyService } from '../policy/policy.service.ts';
import { splitCsv, splitJsonArray, splitNdjson, type RawRecord, type UploadFormat } from './ingest.parse.ts';
import { normaliseValue, type Value } from './record-values.ts';
import { canIngest, canSeeDataset } from './records.access.ts';
import { insertRecords, type NewRecord } from './records.repo.ts';
import type { DetectionService, QuarantineView } from '../detection/scan.service.ts';

export interface IngestDeps {
  sql: Sql;
  catalog: Pick<CatalogService, 'getFieldsForRead'>;
  policy: Pick<PolicyService, 'current'>;
  audit: AuditLog;
  /** Personal-data findings over a sample of each upload (quarantine); absent: none looked for. */
  detection?: Pick<DetectionService, 'onIngest'>;
  /** Records sampled per upload (a reservoir over the whole upload). */
  sampleSize?: number;
  /** Called after an upload that quarantined a field commits: the catalog snapshot reloads. */
  catalogChanged?: () => void;
}

export interface IngestContext {
  requestId?: string | null;
  traceId?: string | null;
  /** Called after each stored batch (the CLI's progress display). */
  onProgress?: (rows: number) => void;
}

/** Offending records listed in a RECORDS_INVALID answer, at most. */
export const ERROR_CAP = 100;
/** Rows per multi-row INSERT. */
export const BATCH_ROWS = 1000;
const UNIT_CODE = /^(RI|[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?)$/;

/**
 * Validates one record against the dataset's fields: unknown names and type errors are listed
 * as `line N: field`. The record's own office may be given as `_unit` (or `unit` when the
 * dataset has no field of that name); it must lie within the dataset's owner unit.
 */
export function checkRecord(
  raw: RawRecord,
  fields: Map<string, FieldForRead>,
  ownerUnit: string,
): { record: { unit: string; data: Record<string, Value> } } | { errors: FieldError[] } {
  const at = `line ${raw.line}`;
  if (typeof raw.value !== 'object' || raw.value === null || Array.isArray(raw.value)) {
    return { errors: [{ path: at, message: 'expected an object of field values' }] };
  }
  const errors: FieldError[] = [];
  const data: Record<string, Value> = {};
  let unit = ownerUnit;
  for (const [name, rawValue] of Object.entries(raw.value)) {
    const field = fields.get(name);
    if (!field) {
      if (name === '_unit' || name === 'unit') {
        if (rawValue === null || rawValue === undefined || rawValue === '') continue;
        if (typeof rawValue !== 'string' || !UNIT_CODE.test(rawValue))
          errors.push({ path: `${at}: ${name}`, message: 'expected a unit code' });
        else if (!isWithin(rawValue, ownerUnit))
          errors.push({
            path: `${at}: ${name}`,
            message: `unit ${rawValue} is not within the dataset's owner unit ${ownerUnit}`,
          });
        else unit = rawValue;
        continue;
      }
      errors.push({ path: `${at}: ${name}`, message: 'unknown field' });
      continue;
    }
    const v = normaliseValue(field.type, rawValue, raw.fromText);
    if ('error' in v) errors.push({ path: `${at}: ${name}`, message: v.error });
    else data[name] = v.value;
  }
  return errors.length ? { errors } : { record: { unit, data } };
}

export interface IngestService {
  ingest(
    p: Principal,
    datasetId: string,
    format: UploadFormat,
    body: AsyncIterable<Uint8Array>,
    ctx: IngestContext,
  ): Promise<IngestResult>;
}

export interface IngestResult {
  inserted: number;
  /** Fields this upload quarantined: read as restricted until a steward decides (present only when any). */
  quarantined?: QuarantineView[];
}

export function createIngestService(deps: IngestDeps): IngestService {
  return {
    async ingest(principal, datasetId, format, body, ctx) {
      const { read, decision } = await authorise(deps, principal, datasetId);
      const sample = reservoir<Record<string, Value>>(deps.detection ? (deps.sampleSize ?? 1000) : 0);
      // One transaction: any error (invalid record, broken body, dropped connection) rolls back every batch.
      const result = await deps.sql.begin(async (tx) => {
        const writer = createBatchWriter(tx, ctx);
        const fields = new Map(read.fields.map((field) => [field.name, field]));
        const { invalid, errors } = await scanRecords(
          sourceOf(format, body),
          fields,
          read.dataset.ownerUnit,
          (checked) => {
            sample.offer(checked.data);
            return writer.add({ dataset_id: datasetId, unit: checked.unit, data: checked.data });
          },
        );
        if (invalid > 0) {
          throw new DomainError(
            'RECORDS_INVALID',
            `${invalid} record(s) do not match the dataset ${datasetId}; nothing was stored.`,
            {
              errors,
              extensions: {
                invalidRecords: invalid,
                errorsTruncated: invalid > errors.length || errors.length >= ERROR_CAP,
              },
            },
          );
        }
        const inserted = await writer.finish();
        // The quarantine commits with the rows: no read sees these rows under the looser label.
        const quarantined = deps.detection
          ? await deps.detection.onIngest(tx, principal, datasetId, sample.items(), ctx)
          : [];
        await deps.audit.appendWithin(asTransaction(tx), {
          event: 'catalog_change',
          principal: { sub: principal.sub, kind: principal.kind, roles: [...principal.roles], unit: principal.unit },
          action: 'ingest',
          resource: {
            type: 'Dataset',
            id: datasetId,
            classification: read.dataset.classification,
            labelVersion: read.dataset.labelVersion,
          },
          effect: 'allow',
          ruleId: decision.ruleId,
          reason: decision.reason,
          policyVersion: decision.policyVersion,
          rowCount: inserted,
          requestId: ctx.requestId ?? null,
          traceId: ctx.traceId ?? null,
          details: { format, ...(quarantined.length ? { quarantined: quarantined.map((q) => q.field) } : {}) },
        });
        return quarantined.length ? { inserted, quarantined } : { inserted };
      });
      if (result.quarantined) deps.catalogChanged?.();
      return result;
    },
  };
}

/** A uniform sample of at most `size` items of a stream of unknown length (Algorithm R). */
function reservoir<T>(size: number) {
  const kept: T[] = [];
  let seen = 0;
  return {
    offer(item: T): void {
      if (size === 0) return;
      seen++;
      if (kept.length < size) kept.push(item);
      else {
        const j = Math.floor(Math.random() * seen);
        if (j < size) kept[j] = item;
      }
    },
    items: (): readonly T[] => kept,
  };
}

/** The dataset and the decision allowing the load; NOT_FOUND for a dataset the principal may not see. */
async function authorise(deps: IngestDeps, principal: Principal, datasetId: string) {
  const read = await deps.catalog.getFieldsForRead(datasetId);
  const engine = deps.policy.current();
  if (!read || !canSeeDataset(engine, principal, read.dataset).allow)
    throw new DomainError('NOT_FOUND', `There is no dataset ${datasetId}.`);
  const decision = canIngest(engine, principal, read.dataset);
  if (!decision.allow)
    throw new DomainError('FORBIDDEN', `Not allowed to load records into ${datasetId}: ${decision.reason}.`);
  return { read, decision };
}

function sourceOf(
  format: UploadFormat,
  body: AsyncIterable<Uint8Array>,
): AsyncIterable<RawRecord | { header: string[] }> {
  if (format === 'csv') return splitCsv(body);
  if (format === 'ndjson') return splitNdjson(body);
  return splitJsonArray(body);
}

/**
 * Checks every record of the upload and hands the valid ones to `keep` while none is invalid.
 * Once anything is invalid nothing will be kept: it reads on only to list the errors (at most ERROR_CAP).
 */
async function scanRecords(
  source: AsyncIterable<RawRecord | { header: string[] }>,
  fields: Map<string, FieldForRead>,
  ownerUnit: string,
  keep: (record: { unit: string; data: Record<string, Value> }) => Promise<void>,
): Promise<{ invalid: number; errors: FieldError[] }> {
  const errors: FieldError[] = [];
  let invalid = 0;
  // Unknown CSV columns are reported once, against the header line.
  let unknownColumns: string[] = [];
  for await (const item of source) {
    if ('header' in item) {
      unknownColumns = item.header.filter((name) => !fields.has(name) && name !== '_unit' && name !== 'unit');
      for (const name of unknownColumns) {
        invalid++;
        if (errors.length < ERROR_CAP) errors.push({ path: `line 1: ${name}`, message: 'unknown field' });
      }
      continue;
    }
    for (const name of unknownColumns) delete (item.value as Record<string, unknown>)[name];
    const checked = checkRecord(item, fields, ownerUnit);
    if ('errors' in checked) {
      invalid++;
      for (const error of checked.errors) if (errors.length < ERROR_CAP) errors.push(error);
      continue;
    }
    if (invalid > 0) continue;
    await keep(checked.record);
  }
  return { invalid, errors };
}

/**
 * Inserts rows in batches of BATCH_ROWS, with one INSERT in flight while the next batch is parsed:
 * the database and the parser overlap. `finish` stores the rest and resolves with the rows stored.
 */
function createBatchWriter(tx: Queryable, ctx: IngestContext) {
  let inserted = 0;
  let batch: NewRecord[] = [];
  let inflight: Promise<void> = Promise.resolve();
  const flush = async () => {
    const rows = batch;
    batch = [];
    await inflight;
    if (rows.length === 0) return;
    const insert = insertRecords(tx, rows).then(() => {
      inserted += rows.length;
      ctx.onProgress?.(inserted);
    });
    insert.catch(() => {}); // awaited by the next flush (or by finish); a parse error must not leave it unhandled
    inflight = insert;
  };
  return {
    async add(row: NewRecord): Promise<void> {
      batch.push(row);
      if (batch.length >= BATCH_ROWS) await flush();
    },
    async finish(): Promise<number> {
      await flush();
      await inflight;
      return inserted;
    },
  };
}
