import type postgres from 'postgres';
import type { Queryable } from '../db/database.ts';
import { conditionToSql } from '../policy/plan-sql.ts';
import type { Condition } from '../policy/engine.types.ts';

type Fragment = postgres.PendingQuery<postgres.Row[]>;

/** Which datasets a reader may count: all, or those a condition over `{ unit, datasetId }` admits. */
export type DatasetScope = { kind: 'all' } | { kind: 'where'; condition: Condition };

/**
 * The catalog's read port for the openness report (src/audit asks; the catalog owns its tables,
 * migrations/0002_catalog.sql). `unit` narrows to a unit's subtree. Counts by the effective
 * classification (a pending exemption already counts as exempt, as every access decision does).
 * One query after another: the embedded database has one connection.
 */
export interface OpennessReader {
  datasetsPerUnit(scope: DatasetScope, unit: string | undefined): Promise<UnitCountDb[]>;
  exemptionsByGround(scope: DatasetScope, unit: string | undefined): Promise<GroundCountDb[]>;
  overdueReviews(scope: DatasetScope, unit: string | undefined, asOf: string): Promise<OverdueDb[]>;
}

export function createOpennessReader(sql: Queryable): OpennessReader {
  return {
    datasetsPerUnit: (scope, unit) => datasetsPerUnit(sql, datasetScope(sql, scope), unit),
    exemptionsByGround: (scope, unit) => exemptionsByGround(sql, datasetScope(sql, scope), unit),
    overdueReviews: (scope, unit, asOf) => overdueReviews(sql, datasetScope(sql, scope), unit, asOf),
  };
}

/** The scope as a WHERE fragment over `d` (datasets). */
function datasetScope(sql: Queryable, scope: DatasetScope): Fragment {
  if (scope.kind === 'all') return sql`true`;
  // The AuditEntry condition read against a dataset: its unit is the owning unit.
  return conditionToSql(sql, scope.condition, { unit: sql`d.owner_unit`, datasetId: sql`d.id` });
}

function subtree(sql: Queryable, unit: string | undefined): Fragment {
  if (!unit || unit === 'RI') return sql`true`;
  return sql`(d.owner_unit = ${unit} or d.owner_unit like ${unit + '.%'})`;
}

export interface UnitCountDb {
  unit: string;
  unit_name: string;
  total: string;
  public: string;
  restricted: string;
  exempt: string;
  pending: string;
  unlabelled: string;
  /** Fields declared `none` in which a scan found personal data (not rejected by a steward). */
  personal_data_undeclared: string;
}

/** Datasets per effective classification per owning unit (units without datasets are left out). */
async function datasetsPerUnit(sql: Queryable, scope: Fragment, unit: string | undefined): Promise<UnitCountDb[]> {
  return sql<UnitCountDb[]>`
    select d.owner_unit as unit, u.name as unit_name, count(*) as total,
           count(*) filter (where d.effective_classification = 'public') as public,
           count(*) filter (where d.effective_classification = 'restricted') as restricted,
           count(*) filter (where d.effective_classification = 'exempt') as exempt,
           count(*) filter (where d.pending_classification is not null) as pending,
           count(*) filter (where d.effective_classification is null) as unlabelled,
           coalesce(sum(found.n), 0) as personal_data_undeclared
    from datasets d join units u on u.code = d.owner_unit
    left join lateral (
      select count(*) as n from fields f
      where f.dataset_id = d.id and f.personal_data = 'none' and (f.suggested is not null or f.quarantine is not null)
    ) found on true
    where ${scope} and ${subtree(sql, unit)}
    group by d.owner_unit, u.name
    order by d.owner_unit`;
}

export interface GroundCountDb {
  ground: string;
  datasets: string;
  units: string;
  pending: string;
}

/**
 * Exemptions by legal ground: each ground cited by an exemption in force (`label_grounds`), and
 * how many pending proposals cite it (`pending_grounds`). A dataset citing two grounds counts
 * under both.
 */
async function exemptionsByGround(sql: Queryable, scope: Fragment, unit: string | undefined): Promise<GroundCountDb[]> {
  return sql<GroundCountDb[]>`
    with cited as (
      select g.ground, d.id, d.owner_unit, false as pending
      from datasets d cross join lateral jsonb_array_elements_text(d.label_grounds) as g(ground)
      where d.classification = 'exempt' and jsonb_typeof(d.label_grounds) = 'array' and ${scope} and ${subtree(sql, unit)}
      union all
      select g.ground, d.id, d.owner_unit, true as pending
      from datasets d cross join lateral jsonb_array_elements_text(d.pending_grounds) as g(ground)
      where d.pending_classification = 'exempt' and jsonb_typeof(d.pending_grounds) = 'array' and ${scope} and ${subtree(sql, unit)}
    )
    select ground,
           count(distinct id) filter (where not pending) as datasets,
           count(distinct owner_unit) filter (where not pending) as units,
           count(distinct id) filter (where pending) as pending
    from cited
    group by ground
    order by count(distinct id) filter (where not pending) desc, ground`;
}

export interface OverdueDb {
  dataset: string;
  title: string;
  unit: string;
  review_by: string;
  grounds: unknown;
  days_overdue: number;
}

/**
 * Exemption records in force (dataset and field) whose review date or period end has passed
 * (before `asOf`), the most overdue first. They stay in force (fail closed): each is a task for
 * the PPID, who opens the information or re-tests the exemption.
 */
async function overdueReviews(
  sql: Queryable,
  scope: Fragment,
  unit: string | undefined,
  asOf: string,
): Promise<OverdueDb[]> {
  return sql<OverdueDb[]>`
    select dataset, title, unit, to_char(due, 'YYYY-MM-DD') as review_by, grounds,
           (${asOf}::date - due)::int as days_overdue
    from (
      select d.id as dataset, d.title, d.owner_unit as unit, e.grounds, e.id,
             least(e.review_by, coalesce((e.period->>'until')::date, e.review_by)) as due
      from exemptions e join datasets d on d.id = e.dataset_id
      where e.status = 'in_force' and ${scope} and ${subtree(sql, unit)}
    ) x
    where due < ${asOf}::date
    order by due, dataset, id
    limit 10000`;
}
