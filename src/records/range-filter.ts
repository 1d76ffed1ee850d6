import { createHash } from 'node:crypto';
import { DATASET_ID, FIELD_NAME } from '../catalog/catalog.schema.ts';
import type { FieldType } from './record-values.ts';

/**
 * Range filters (`?field[gt|gte|lt|lte]=v`) and the expression indexes that serve them. The filter
 * and the index are written from ONE expression (`rangeExpression`), so the planner matches the
 * index exactly: the same operator, the same cast, the same collation, the same literal key.
 */

/** Types with an order a range can follow; the others (string, boolean) allow equality only. */
export const RANGE_TYPES = ['integer', 'number', 'date', 'datetime'] as const satisfies readonly FieldType[];
export const isRangeType = (type: FieldType): boolean => (RANGE_TYPES as readonly string[]).includes(type);

// Names are spliced into SQL text (an index expression cannot take a parameter): only the shapes
// the catalog's schema (and the database's checks) already enforce ever get there.

function literal(value: string, shape: RegExp): string {
  if (!shape.test(value)) throw new Error(`not a name that may be spliced into SQL: ${JSON.stringify(value)}`);
  return `'${value}'`;
}

/**
 * The typed value of a field as range filters compare it and its index holds it, as SQL text over
 * `column` (the records' `data`, qualified or not). Numbers compare as numeric (exact for integers
 * and decimals alike); dates and datetimes as text in the C collation, which is their order because
 * ingest normalises them to `YYYY-MM-DD` and UTC ISO (record-values.ts).
 */
export function rangeExpression(field: string, type: FieldType, column = 'data'): string {
  if (!isRangeType(type)) throw new Error(`a ${type} field has no range order`);
  const value = `(${column} ->> ${literal(field, FIELD_NAME)})`;
  return type === 'integer' || type === 'number' ? `(${value}::numeric)` : `(${value} collate "C")`;
}

/** The index's predicate, also said word for word by a range read so the planner can prove it. */
export const datasetPredicate = (datasetId: string, column = 'dataset_id'): string =>
  `${column} = ${literal(datasetId, DATASET_ID)}`;

/** A stable name per dataset and field (ids are too long to spell out within PostgreSQL's 63 bytes). */
export const rangeIndexName = (datasetId: string, field: string): string =>
  `records_range_${createHash('sha256').update(`${datasetId}\0${field}`).digest('hex').slice(0, 32)}`;

/** Every name `rangeIndexName` gives starts so; nothing else on `records` does. */
export const RANGE_INDEX_PREFIX = 'records_range_';

/** The DDL of a field's index: partial on its dataset, over `rangeExpression`. */
export function createRangeIndexSql(datasetId: string, field: string, type: FieldType, concurrently: boolean): string {
  return (
    `create index ${concurrently ? 'concurrently ' : ''}if not exists ${rangeIndexName(datasetId, field)} ` +
    `on records (${rangeExpression(field, type)}) where ${datasetPredicate(datasetId)}`
  );
}
