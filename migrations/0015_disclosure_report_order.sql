-- The disclosures report in its order, per month and per day (src/audit/audit-query.repo.ts,
-- DISCLOSURE_ORDER): each month's (and each edge day's) rows come out of an index already in the
-- report's order, so a report merges them and stops at its page's end instead of aggregating and
-- sorting the whole period; a page after a cursor starts there. Each nullable column as
-- (is null, value or ''), the order of `col nulls last` without nulls. Disclosure rows only, as the
-- report reads them. Same file on PostgreSQL 15 and PGlite.
create index audit_rollup_month_disclosure_order on audit_rollup_month (month,
  (principal_sub is null), (coalesce(principal_sub, '')), (dataset_id is null), (coalesce(dataset_id, '')),
  (purpose is null), (coalesce(purpose, '')), (principal_unit is null), (coalesce(principal_unit, '')))
  where kind = 'disclosure';
create index audit_rollup_disclosure_order on audit_rollup (day,
  (principal_sub is null), (coalesce(principal_sub, '')), (dataset_id is null), (coalesce(dataset_id, '')),
  (purpose is null), (coalesce(purpose, '')), (principal_unit is null), (coalesce(principal_unit, '')))
  where kind = 'disclosure';
