import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditScope } from '../../src/audit/audit.access.ts';
import {
  deniedReportQuery,
  disclosureReportQuery,
  REPORT_ROWS,
  reportParts,
  rollupWhere,
  planDisclosureReport,
  withTailBound,
} from '../../src/audit/audit-query.repo.ts';
import { reportPeriod } from '../../src/audit/audit.service.ts';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { readMigrationFiles } from '../../src/db/migration-files.ts';
import { databaseKinds, freshDatabase } from '../helpers/databases.ts';

// A report over whole months for a PPID (or an auditor's unit filter) reads the monthly rollup
// through the unit indexes of migration 0018, not the whole year of rollup rows: at national
// scale a province holds a tenth of the rows and a district a few hundredths.
const within = (unit: string): AuditScope => ({
  kind: 'where',
  condition: { op: 'within', field: 'unit', value: unit },
});

describe.each(databaseKinds())('report plans on %s', (kind) => {
  let db: Database;
  beforeAll(async () => {
    db = await freshDatabase(kind);
    await migrate(db.sql, readMigrationFiles());
    // 60 000 monthly rows over 12 months, 23 provinces × 20 regencies, principals and resources apart.
    await db.sql.unsafe(`
      insert into audit_rollup_month (month, key, kind, principal_sub, principal_kind, principal_unit, resource_unit,
        dataset_id, purpose, action, personal_whole, personal_masked, entries, rows, first_at, last_at)
      select date_trunc('month', now() - (i % 12) * interval '1 month')::date, md5(i::text)::uuid,
        case when i % 2 = 0 then 'denied' else 'disclosure' end, 'p-' || (i % 5000), 'user',
        (11 + i % 23)::text || '.' || lpad((1 + (i / 23) % 20)::text, 2, '0'),
        (11 + (i / 7) % 23)::text || '.' || lpad((1 + (i / 13) % 20)::text, 2, '0'),
        'ds-' || (i % 10000), null, 'read', '{}', '{}', 1 + i % 3, 0, now(), now()
      from generate_series(1, 60000) as i`);
    await db.sql.unsafe('analyze audit_rollup_month');
  }, 120_000);
  afterAll(() => db?.close());

  const year = () => {
    const now = new Date();
    return reportPeriod(
      { from: new Date(Date.UTC(now.getUTCFullYear() - 1, now.getUTCMonth() + 1, 1)).toISOString().slice(0, 10) },
      now,
    );
  };
  const plan = async (scope: AuditScope, f: { unit?: string } = {}) => {
    const sel = await withTailBound(db.sql, rollupWhere(db.sql, scope, f, year()));
    const rows = await db.sql<{ 'QUERY PLAN': string }[]>`explain ${deniedReportQuery(db.sql, sel)}`;
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  };

  it("reads a district PPID's year of denied attempts through the unit indexes", async () => {
    const text = await plan(within('14.03'));
    expect(text).toContain('audit_rollup_month_principal_unit');
    expect(text).toContain('audit_rollup_month_resource_unit');
    expect(text).not.toMatch(/Seq Scan on audit_rollup_month/);
  });

  // The disclosures report's first part (a calendar year's whole months), planned as the report plans it.
  const disclosurePlan = async (scope: AuditScope) => {
    const sel = await withTailBound(db.sql, rollupWhere(db.sql, scope, {}, year()));
    return db.sql.begin(async (tx) => {
      await planDisclosureReport(tx, sel);
      const part = reportParts(sel.period, 'year').at(-1)!;
      const q = disclosureReportQuery(tx, { ...sel, period: part }, 'year', REPORT_ROWS);
      return (await tx<{ 'QUERY PLAN': string }[]>`explain ${q}`).map((r) => r['QUERY PLAN']).join('\n');
    });
  };

  it("reads a district PPID's year of disclosures by unit, not by walking the year in report order", async () => {
    const text = await disclosurePlan(within('14.03'));
    expect(text).toContain('audit_rollup_month_principal_unit');
    expect(text).not.toMatch(/Seq Scan on audit_rollup_month/);
  });

  it("streams the whole log's year of disclosures in report order", async () => {
    const text = await disclosurePlan({ kind: 'all' });
    expect(text).toContain('audit_rollup_month_disclosure_order');
    expect(text).not.toMatch(/Seq Scan on audit_rollup_month/);
  });

  it("reads an auditor's unit= filter over a year through them too", async () => {
    const text = await plan({ kind: 'all' }, { unit: '14.03' });
    expect(text).toContain('audit_rollup_month_principal_unit');
    expect(text).not.toMatch(/Seq Scan on audit_rollup_month/);
  });
});
