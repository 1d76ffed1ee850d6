import type postgres from 'postgres';
import { NATIONAL_UNIT } from '../shared/unit-code.ts';
import { DomainError } from '../shared/errors.ts';
import type { Queryable } from '../db/database.ts';
import type { Condition, Plan } from './engine.types.ts';

export type Fragment = postgres.PendingQuery<postgres.Row[]>;

export interface ConditionSqlOptions {
  /**
   * `$within` as a range (`col = X or (col >= 'X.' and col < 'X/')`), which a B-tree on `col` serves
   * with a parameter. Only for columns in the C collation (where '/' follows '.') that are never NULL.
   */
  withinAsRange?: boolean;
}

/**
 * Translates a plan's condition into a postgres.js WHERE fragment, exactly: every attribute must
 * be mapped to a column and every operator has one SQL form; anything else throws
 * PLAN_NOT_TRANSLATABLE rather than filter more or less than the policy says.
 *
 * Each atom is two-valued (never SQL NULL), so `not` means what it means in memory
 * (conditions.ts `evaluate`): `eq` on a NULL column is false, `ne` true.
 *
 * @example
 *   const where = conditionToSql(sql, cond, { ownerUnit: sql`d.owner_unit`, classification: sql`d.classification` });
 *   await sql`select id from datasets d where ${where}`;
 */
export function conditionToSql(
  sql: Queryable,
  condition: Condition,
  columns: Record<string, Fragment>,
  options: ConditionSqlOptions = {},
): Fragment {
  const column = (field: string): Fragment => {
    const c = Object.hasOwn(columns, field) ? columns[field] : undefined;
    if (!c) throw new DomainError('PLAN_NOT_TRANSLATABLE', `The attribute "${field}" has no column here.`);
    return c;
  };
  const join = (parts: Fragment[], op: 'and' | 'or'): Fragment => {
    if (parts.length === 0) return op === 'and' ? sql`true` : sql`false`;
    const sep = op === 'and' ? sql` and ` : sql` or `;
    return sql`(${parts.reduce((acc, p) => sql`${acc}${sep}${p}`)})`;
  };
  const scalar = (value: unknown, field: string): string | number | boolean | null => {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value))
      return value as string | number | boolean | null;
    throw new DomainError('PLAN_NOT_TRANSLATABLE', `The value for "${field}" is not a scalar.`);
  };
  const inList = (col: Fragment, values: unknown[], field: string): Fragment => {
    const list = values.map((x) => scalar(x, field));
    const nonNull = list.filter((x) => x !== null);
    const parts: Fragment[] = [];
    if (nonNull.length) parts.push(sql`(${col} in ${sql(nonNull as string[])} and ${col} is not null)`);
    if (nonNull.length !== list.length) parts.push(sql`${col} is null`);
    return join(parts, 'or');
  };

  const walk = (c: Condition): Fragment => {
    switch (c.op) {
      case 'and':
      case 'or':
        return join(c.conditions.map(walk), c.op);
      case 'not':
        return sql`(not ${walk(c.condition)})`;
      case 'eq': {
        const col = column(c.field);
        const v = scalar(c.value, c.field);
        return v === null ? sql`(${col} is null)` : sql`(${col} = ${v} and ${col} is not null)`;
      }
      case 'ne': {
        const col = column(c.field);
        const v = scalar(c.value, c.field);
        return v === null ? sql`(${col} is not null)` : sql`(${col} <> ${v} or ${col} is null)`;
      }
      case 'in':
        return inList(column(c.field), c.value, c.field);
      case 'nin':
        return sql`(not ${inList(column(c.field), c.value, c.field)})`;
      case 'within': {
        const col = column(c.field);
        if (typeof c.value !== 'string')
          throw new DomainError('PLAN_NOT_TRANSLATABLE', `$within on "${c.field}" needs a unit code.`);
        if (c.value === NATIONAL_UNIT) return sql`(${col} is not null)`;
        if (options.withinAsRange)
          return sql`(${col} = ${c.value} or (${col} >= ${c.value + '.'} and ${col} < ${c.value + '/'}))`;
        const prefix = c.value.replace(/[\\%_]/g, (m) => `\\${m}`) + '.%';
        return sql`(${col} is not null and (${col} = ${c.value} or ${col} like ${prefix}))`;
      }
      default:
        throw new DomainError('PLAN_NOT_TRANSLATABLE', `The operator ${(c as { op: string }).op} has no SQL form.`);
    }
  };
  return walk(condition);
}

/** A whole plan as a WHERE fragment: `always` → true, `never` → false (callers may skip the query). */
export function planToSql(sql: Queryable, plan: Plan, columns: Record<string, Fragment>): Fragment {
  if (plan.kind === 'always') return sql`true`;
  if (plan.kind === 'never') return sql`false`;
  return conditionToSql(sql, plan.condition, columns);
}
