import type { Queryable, Sql } from '../db/database.ts';
import type { Logger } from '../system/logger.ts';

/**
 * An entry as the reports count it (migration 0011's projection, word for word): personal-data
 * disclosures and denied attempts, with the personal fields a disclosure named. `e` is audit_entry.
 */
export const ROLLUP_PROJECTION = `(e.at at time zone 'UTC')::date as day, e.at, e.row_count, e.principal_sub,
  e.principal_kind, e.principal_unit, e.resource_unit, e.dataset_id, e.action,
  case when e.effect = 'deny' then 'denied' else 'disclosure' end as kind,
  case when e.effect = 'deny' then null else e.purpose end as purpose,
  case when e.effect = 'deny' then '{}'::text[] else jaga_audit_personal(e.fields_whole, e.details) end as pw,
  case when e.effect = 'deny' then '{}'::text[] else jaga_audit_personal(e.fields_masked, e.details) end as pm`;
/** Which projected entries the reports count (with ROLLUP_PROJECTION's names). */
export const ROLLUP_COUNTED = `(kind = 'denied' or cardinality(pw) > 0 or cardinality(pm) > 0)`;
/** Entries that may count, as a filter on audit_entry `e` before the projection. */
export const ROLLUP_CANDIDATE = `(e.effect = 'deny' or e.event = 'disclosure')`;

const KEY_COLUMNS = 'kind, principal_sub, principal_kind, principal_unit, resource_unit, dataset_id, purpose, action';
const ROLLUP_COLUMNS = `${KEY_COLUMNS}, personal_whole, personal_masked, entries, rows, first_at, last_at`;
const MERGE = `entries = r.entries + excluded.entries, rows = r.rows + excluded.rows,
  first_at = least(r.first_at, excluded.first_at), last_at = greatest(r.last_at, excluded.last_at)`;

/**
 * Folds the entries in (lo, hi] into the daily and monthly rollups, the denied attempts per
 * principal and month, and the minute map, and moves
 * the mark to `hi`, in one statement. The key is migration 0011's md5 over the key columns.
 */
const FOLD = `with src as materialized (
    select ${ROLLUP_PROJECTION} from audit_entry e where e.seq > $1 and e.seq <= $2 and ${ROLLUP_CANDIDATE}),
  keyed as materialized (
    select day, md5(row(${KEY_COLUMNS}, pw, pm)::text)::uuid as key, ${KEY_COLUMNS}, pw as personal_whole,
      pm as personal_masked, count(*) as entries, coalesce(sum(row_count), 0) as rows, min(at) as first_at,
      max(at) as last_at
    from src where ${ROLLUP_COUNTED}
    group by day, ${KEY_COLUMNS}, pw, pm),
  daily as (
    insert into audit_rollup as r (day, key, ${ROLLUP_COLUMNS})
    select day, key, ${ROLLUP_COLUMNS} from keyed
    on conflict (day, key) do update set ${MERGE}),
  monthly as (
    insert into audit_rollup_month as r (month, key, ${ROLLUP_COLUMNS})
    select date_trunc('month', day)::date, key, ${KEY_COLUMNS}, personal_whole, personal_masked, sum(entries),
      sum(rows), min(first_at), max(last_at)
    from keyed
    group by date_trunc('month', day)::date, key, ${KEY_COLUMNS}, personal_whole, personal_masked
    on conflict (month, key) do update set ${MERGE}),
  denied as (
    insert into audit_denied_month as r (month, key, principal_sub, principal_kind, principal_unit, attempts, datasets,
      actions, first_at, last_at)
    select date_trunc('month', day)::date, md5(row(principal_sub, principal_kind, principal_unit)::text)::uuid,
      principal_sub, principal_kind, principal_unit, sum(entries),
      coalesce(array_agg(distinct dataset_id order by dataset_id) filter (where dataset_id is not null), '{}'),
      array_agg(distinct action order by action), min(first_at), max(last_at)
    from keyed where kind = 'denied'
    group by 1, 2, 3, 4, 5
    on conflict (month, key) do update set attempts = r.attempts + excluded.attempts,
      datasets = array(select distinct x from unnest(r.datasets || excluded.datasets) x order by x),
      actions = array(select distinct x from unnest(r.actions || excluded.actions) x order by x),
      first_at = least(r.first_at, excluded.first_at), last_at = greatest(r.last_at, excluded.last_at)),
  minutes as (
    insert into audit_minute as r (minute, first_seq)
    select date_trunc('minute', at), min(seq) from audit_entry where seq > $1 and seq <= $2 group by 1
    on conflict (minute) do update set first_seq = least(r.first_seq, excluded.first_seq))
  update audit_rollup_mark set seq = $2 where singleton`;

/** Most entries folded per transaction: bounds a catch-up transaction's length and memory. */
export const FOLD_CHUNK = 50_000;

/**
 * One step of the catch-up inside `tx`: takes the mark (skipping if another instance holds it),
 * folds up to `chunk` entries after it (never past the chain head) and moves it, all in `tx`, so a
 * step that does not commit leaves the rollups and the mark as they were.
 *
 * @returns entries folded, or undefined when another instance holds the mark
 */
export async function foldStep(tx: Queryable, chunk = FOLD_CHUNK): Promise<number | undefined> {
  const [m] = await tx<{ lo: string; head: string }[]>`
    select m.seq as lo, h.seq as head from audit_rollup_mark m, audit_head h for update of m skip locked`;
  if (!m) return undefined;
  const lo = Number(m.lo);
  const hi = Math.min(lo + chunk, Number(m.head));
  if (hi <= lo) return 0;
  await tx.unsafe(FOLD, [lo, hi]);
  return hi - lo;
}

/**
 * Catches the rollups up with the log: steps of `chunk` entries, each its own transaction, until
 * the mark reaches the head read at the step, another instance holds the mark, or `budgetMs` is spent.
 *
 * @returns entries folded
 */
export async function catchUpRollups(sql: Sql, o: { chunk?: number; budgetMs?: number } = {}): Promise<number> {
  const until = performance.now() + (o.budgetMs ?? 10_000);
  const chunk = o.chunk ?? FOLD_CHUNK;
  let folded = 0;
  for (;;) {
    const n = await sql.begin((tx) => foldStep(tx, chunk));
    if (!n) return folded;
    folded += n;
    if (n < chunk || performance.now() >= until) return folded;
  }
}

/** Entries not yet in the rollups (the head's seq less the mark). */
export async function rollupLag(sql: Queryable): Promise<number> {
  const [r] = await sql<{ lag: string }[]>`
    select h.seq - m.seq as lag from audit_head h, audit_rollup_mark m`;
  return Number(r?.lag ?? 0);
}

/**
 * The catch-up job: folds the log into the rollups every `intervalMs` (a run starts after the
 * previous one ended) and on demand (`now()`). A failure is logged and retried at the next tick.
 */
export function startRollupJob(sql: Sql, o: { intervalMs: number; logger?: Logger | undefined }) {
  let running: Promise<number> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const run = (): Promise<number> => {
    running ??= catchUpRollups(sql)
      .catch((error: unknown) => {
        o.logger?.warn('audit rollup catch-up failed', { error });
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const tick = () => {
    timer = undefined;
    if (stopped) return;
    void run().then(schedule);
  };
  const schedule = () => {
    if (stopped || o.intervalMs <= 0) return;
    timer = setTimeout(tick, o.intervalMs);
    timer.unref?.();
  };
  schedule();
  return {
    /** Runs a catch-up now, after the one running (if any). */
    async now(): Promise<number> {
      await running;
      return run();
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

export type RollupJob = ReturnType<typeof startRollupJob>;
