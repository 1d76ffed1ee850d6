import type { Queryable } from '../db/database.ts';

export interface UnitRow {
  code: string;
  name: string;
  parent: string | null;
}

/** All units, or the subtree under `under` (the unit itself included), in code order. */
export async function listUnits(sql: Queryable, under?: string): Promise<UnitRow[]> {
  if (!under || under === 'RI')
    return sql<UnitRow[]>`select code, name, parent from units order by code = 'RI' desc, code`;
  return sql<UnitRow[]>`
    select code, name, parent from units
    where code = ${under} or code like ${under + '.%'}
    order by code`;
}

export async function findUnit(sql: Queryable, code: string): Promise<UnitRow | undefined> {
  const rows = await sql<UnitRow[]>`select code, name, parent from units where code = ${code}`;
  return rows[0];
}

export async function insertUnit(sql: Queryable, unit: UnitRow): Promise<void> {
  await sql`insert into units (code, name, parent) values (${unit.code}, ${unit.name}, ${unit.parent})`;
}
