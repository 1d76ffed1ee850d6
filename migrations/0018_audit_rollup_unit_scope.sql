-- A PPID's or auditor's report over whole months reads the monthly rollup through its unit scope
-- (scopeClause / touchesUnit: the principal's unit or the resource's, as a range on the same
-- collated expression as the log's unit indexes), so only the scope's rows are read, not the year's.
create index audit_rollup_month_principal_unit
  on audit_rollup_month (kind, (coalesce(principal_unit, 'RI') collate "C"), month);
create index audit_rollup_month_resource_unit
  on audit_rollup_month (kind, (coalesce(resource_unit, 'RI') collate "C"), month);
