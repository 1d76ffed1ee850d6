import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditItem } from '../../src/audit/audit.schema.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { entry, getAs, tokenFor } from './helpers.ts';

const auditor = await tokenFor('aud-1', ['auditor']);
const ppid32 = await tokenFor('ppid-32', ['ppid'], '32');

describe.each(databaseKinds())('audit routes on %s', (kind) => {
  let t: TestApp;
  // A private copy of the policy set, so one test can change the rules and reload them.
  const policyDir = mkdtempSync(join(tmpdir(), 'jaga-audit-policies-'));
  beforeAll(async () => {
    cpSync('policies', policyDir, { recursive: true });
    t = await startApp(kind, { AUDIT_HMAC_KEY: 'audit-hmac-key-audit-hmac-key-0123456789', POLICY_DIR: policyDir });
    const log = t.deps.services.audit;
    const in32 = { sub: 'u-32', kind: 'user', roles: ['staff'], unit: '32.01' };
    const in33 = { sub: 'u-33', kind: 'user', roles: ['staff'], unit: '33' };
    for (let i = 0; i < 5; i++) {
      await log.appendDurable(
        entry({
          event: 'disclosure',
          principal: in32,
          resource: { type: 'Dataset', id: 'voters', classification: 'restricted', unit: '32' },
          requestId: `d${i}`,
        }),
      );
    }
    await log.appendDurable(
      entry({
        event: 'disclosure',
        principal: in33,
        resource: { type: 'Dataset', id: 'reports', classification: 'exempt', unit: '33' },
        purpose: 'investigation',
        fields: { whole: ['nik'], masked: [], omitted: [] },
      }),
    );
    await log.appendDurable(
      entry({
        event: 'disclosure',
        principal: in33,
        resource: { type: 'Dataset', id: 'rulings', classification: 'public', unit: '33' },
        fields: { whole: [], masked: [], omitted: ['nik'] },
      }),
    );
    for (let i = 0; i < 3; i++) {
      await log.appendDurable(
        entry({
          principal: in33,
          effect: 'deny',
          action: 'read',
          resource: { type: 'Dataset', id: `secret-${i}`, unit: '33' },
          requestId: `x${i}`,
        }),
      );
    }
    await log.appendDurable(
      entry({
        principal: in32,
        effect: 'deny',
        resource: { type: 'Dataset', id: 'voters', unit: '32' },
        requestId: 'deny-32',
      }),
    );
  });
  afterAll(async () => {
    await t.close();
    rmSync(policyDir, { recursive: true, force: true });
  });

  it('answers 401 to the anonymous public and 403 to other roles, and logs the refused attempt', async () => {
    expect((await t.request('GET', '/v1/audit/decisions')).body).toMatchObject({
      status: 401,
      code: 'UNAUTHENTICATED',
    });
    const staff = await getAs(t, await tokenFor('snoop', ['staff', 'steward', 'admin'], '32'), '/v1/audit/decisions');
    expect(staff.status).toBe(403);
    expect(staff.body.code).toBe('FORBIDDEN');
    const ppidVerify = await getAs(t, ppid32, '/v1/audit/verify');
    expect(ppidVerify.status).toBe(403);
  });

  it('lists entries with filters and cursor pagination, in chain order', async () => {
    const first = await getAs(t, auditor, '/v1/audit/decisions?dataset=voters&effect=allow&limit=2');
    expect(first.status).toBe(200);
    const items = first.body.items as AuditItem[];
    expect(items).toHaveLength(2);
    expect(items.map((i) => i.requestId)).toEqual(['d0', 'd1']);
    expect(items[0]).toMatchObject({
      action: 'read',
      effect: 'allow',
      event: 'disclosure',
      resource: { type: 'Dataset', id: 'voters', classification: 'restricted' },
      fields: { whole: ['kecamatan'], masked: ['nik'] },
      purpose: 'supervision',
    });
    const seen = [...items];
    let cursor = first.body.nextCursor as string | null;
    while (cursor) {
      const next = await getAs(t, auditor, `/v1/audit/decisions?dataset=voters&effect=allow&limit=2&cursor=${cursor}`);
      seen.push(...(next.body.items as AuditItem[]));
      cursor = next.body.nextCursor;
    }
    expect(seen.map((i) => i.requestId)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
    const byPrincipal = await getAs(t, auditor, '/v1/audit/decisions?principal=u-33&effect=deny&action=read');
    expect((byPrincipal.body.items as AuditItem[]).map((i) => i.resource.id)).toEqual([
      'secret-0',
      'secret-1',
      'secret-2',
    ]);
    const byClass = await getAs(t, auditor, '/v1/audit/decisions?classification=exempt&purpose=investigation');
    expect((byClass.body.items as AuditItem[]).map((i) => i.resource.id)).toEqual(['reports']);
    const byRequest = await getAs(t, auditor, '/v1/audit/decisions?requestId=deny-32');
    expect(byRequest.body.items).toHaveLength(1);
    const future = await getAs(t, auditor, '/v1/audit/decisions?from=2999-01-01');
    expect(future.body.items).toEqual([]);
    const past = await getAs(t, auditor, '/v1/audit/decisions?to=2000-01-01T00:00:00Z');
    expect(past.body.items).toEqual([]);
  });

  it('limits a PPID to entries touching their unit', async () => {
    const res = await getAs(t, ppid32, '/v1/audit/decisions?limit=1000&event=disclosure');
    expect(res.status).toBe(200);
    const ids = new Set((res.body.items as AuditItem[]).map((i) => i.resource.id));
    expect(ids).toEqual(new Set(['voters']));
    const other = await getAs(t, ppid32, '/v1/audit/decisions?dataset=reports');
    expect(other.body.items).toEqual([]);
  });

  it('rejects bad filters with VALIDATION_FAILED', async () => {
    const res = await getAs(t, auditor, '/v1/audit/decisions?effect=maybe&limit=0&from=yesterday');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(new Set((res.body.errors as { path: string }[]).map((e) => e.path))).toEqual(
      new Set(['query.effect', 'query.from', 'query.limit']),
    );
  });

  it('exports CSV and NDJSON by Accept', async () => {
    const csv = await getAs(t, auditor, '/v1/audit/decisions?dataset=voters', { accept: 'text/csv' });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toMatch(/^seq,id,at,decided_at,event,principal_sub/);
    expect(lines).toHaveLength(1 + 6);
    const nd = await getAs(t, auditor, '/v1/audit/decisions?principal=u-33', { accept: 'application/x-ndjson' });
    expect(nd.headers.get('content-type')).toBe('application/x-ndjson');
    const items = nd.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditItem);
    expect(items).toHaveLength(5);
    expect(items.every((i) => i.principal.sub === 'u-33')).toBe(true);
    expect((await getAs(t, auditor, '/v1/audit/decisions', { accept: 'image/png' })).status).toBe(406);
    // CSV does not win by being named: the client's q-values decide (src/http/negotiate.ts).
    const preferJson = await getAs(t, auditor, '/v1/audit/decisions?dataset=voters', {
      accept: 'text/csv;q=0.5, application/json',
    });
    expect(preferJson.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('logs every read of the audit log, and refused attempts', async () => {
    await getAs(t, auditor, '/v1/audit/decisions?dataset=voters&limit=1', { 'x-request-id': 'audit-read-1234' });
    const res = await getAs(t, auditor, '/v1/audit/decisions?event=audit_read&limit=1000');
    const reads = res.body.items as AuditItem[];
    const mine = reads.find((i) => i.requestId === 'audit-read-1234');
    expect(mine).toMatchObject({
      effect: 'allow',
      action: 'audit',
      principal: { sub: 'aud-1' },
      details: { dataset: 'voters', format: 'json', limit: 1 },
    });
    const refused = await getAs(t, auditor, '/v1/audit/decisions?event=audit_read&effect=deny&limit=1000');
    expect((refused.body.items as AuditItem[]).map((i) => i.principal.sub)).toEqual(
      expect.arrayContaining(['snoop', 'ppid-32']),
    );
  });

  it('reports personal-data disclosures and denied attempts as JSON and CSV', async () => {
    const d = await getAs(t, auditor, '/v1/audit/reports/disclosures?period=month');
    expect(d.status).toBe(200);
    const rows = d.body.items as {
      principal: string;
      dataset: string;
      disclosures: number;
      rows: number;
      fieldsWhole: string[];
      fieldsMasked: string[];
      period: string;
    }[];
    // The public dataset read that disclosed no whole or masked field is not a personal-data disclosure.
    expect(rows.map((r) => r.dataset).sort()).toEqual(['reports', 'voters']);
    expect(d.body.truncated).toBe(false);
    expect(rows.find((r) => r.dataset === 'voters')).toMatchObject({
      principal: 'u-32',
      disclosures: 5,
      rows: 50,
      fieldsWhole: ['kecamatan'],
      fieldsMasked: ['nik'],
      period: new Date().toISOString().slice(0, 7),
    });
    const csv = await getAs(t, auditor, '/v1/audit/reports/disclosures?dataset=voters', { accept: 'text/csv' });
    expect(csv.text.split('\r\n')[0]).toBe(
      'period,principal,principalUnit,dataset,purpose,fieldsWhole,fieldsMasked,disclosures,rows,first,last',
    );
    expect(csv.text).toContain('u-32,32.01,voters,supervision,kecamatan,nik,5,50');
    const denied = await getAs(t, auditor, '/v1/audit/reports/denied');
    const top = (denied.body.items as { principal: string; attempts: number; datasets: number }[])[0];
    expect(top).toMatchObject({ principal: 'u-33', attempts: 3, datasets: 3 });
    const ppidDenied = await getAs(t, ppid32, '/v1/audit/reports/denied');
    // Within unit 32 only: its staff's denied read, and the refused audit reads of principals of unit 32.
    const principals = (ppidDenied.body.items as { principal: string }[]).map((r) => r.principal);
    expect(principals).toContain('u-32');
    expect(principals).not.toContain('u-33');
  });

  it('verifies the chain over HTTP', async () => {
    const res = await getAs(t, auditor, '/v1/audit/verify');
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    expect(res.body.keyed).toBe(true);
    expect(res.body.checked).toBeGreaterThan(10);
    const ready = await t.request('GET', '/readyz');
    expect(ready.body.checks.audit_key).toEqual({ ok: true, detail: 'keyed: HMAC-SHA-256 with AUDIT_HMAC_KEY' });
  });

  it('decides through the policy engine: auditors see all, a national PPID all but the chain, admins nothing', async () => {
    // An auditor of a regional unit still reads every entry and verifies the chain (auditor.audit.read).
    const regionalAuditor = await tokenFor('aud-33', ['auditor'], '33');
    const all = await getAs(t, regionalAuditor, '/v1/audit/decisions?dataset=voters&effect=allow&limit=1000');
    expect((all.body.items as AuditItem[]).map((i) => i.requestId)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
    expect((await getAs(t, regionalAuditor, '/v1/audit/verify')).status).toBe(200);
    const ppidRI = await tokenFor('ppid-ri', ['ppid'], 'RI');
    const national = await getAs(t, ppidRI, '/v1/audit/decisions?event=disclosure&limit=1000');
    expect(new Set((national.body.items as AuditItem[]).map((i) => i.resource.id))).toEqual(
      new Set(['voters', 'reports', 'rulings']),
    );
    expect((await getAs(t, ppidRI, '/v1/audit/checkpoint')).status).toBe(403);
    const admin = await getAs(t, await tokenFor('admin-1', ['admin'], 'RI'), '/v1/audit/reports/denied');
    expect(admin.status).toBe(403);
    expect((await getAs(t, await tokenFor('both', ['auditor', 'admin'], 'RI'), '/v1/audit/decisions')).status).toBe(
      403,
    );
    // The log names the rule and the policy version that granted the read.
    await getAs(t, ppid32, '/v1/audit/reports/denied', { 'x-request-id': 'ppid-read-rule' });
    const read = await getAs(t, auditor, '/v1/audit/decisions?requestId=ppid-read-rule');
    expect(read.body.items[0]).toMatchObject({
      effect: 'allow',
      ruleId: 'ppid.audit.read-unit',
      policyVersion: t.deps.services.policy.current().version,
    });
  });

  it('follows the rules in force: without the PPID rule a PPID is refused, with it back the unit is readable again', async () => {
    const file = join(policyDir, 'ppid.yaml');
    const original = readFileSync(file, 'utf8');
    const without = original.replace(/ {2}- id: ppid\.audit\.read-unit[\s\S]*?reason: [^\n]*\n/, '');
    expect(without).not.toContain('ppid.audit.read-unit');
    writeFileSync(file, without);
    try {
      expect(await t.deps.services.policy.reload()).toMatchObject({ ok: true, changed: true });
      expect((await getAs(t, ppid32, '/v1/audit/decisions')).status).toBe(403);
    } finally {
      writeFileSync(file, original);
      await t.deps.services.policy.reload();
    }
    expect((await getAs(t, ppid32, '/v1/audit/decisions')).status).toBe(200);
  });
});

describe.each(databaseKinds())('audit reports at their row limit on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    // Reports hold at most 2 rows here: one report is cut, the other is exactly at the limit.
    t = await startApp(kind, { AUDIT_REPORT_MAX_ROWS: '2' });
    const log = t.deps.services.audit;
    // Denied attempts by three principals, 3, 2 and 1 of them.
    for (const [sub, attempts] of [
      ['a-3', 3],
      ['b-2', 2],
      ['c-1', 1],
    ] as const) {
      for (let i = 0; i < attempts; i++) {
        await log.appendDurable(
          entry({
            principal: { sub, kind: 'user', roles: ['staff'], unit: '33' },
            effect: 'deny',
            action: 'read',
            resource: { type: 'Dataset', id: `secret-${i}`, unit: '33' },
          }),
        );
      }
    }
    // Personal-data disclosures of two datasets: two rows.
    for (const id of ['voters', 'reports']) {
      await log.appendDurable(
        entry({
          event: 'disclosure',
          principal: { sub: 'u-32', kind: 'user', roles: ['staff'], unit: '32' },
          resource: { type: 'Dataset', id, classification: 'restricted', unit: '32' },
          fields: { whole: ['nik'], masked: [], omitted: [] },
        }),
      );
    }
  });
  afterAll(() => t.close());

  it('says when a report was cut, in JSON and CSV, and keeps the head of its order', async () => {
    const json = await getAs(t, auditor, '/v1/audit/reports/denied');
    expect(json.status).toBe(200);
    expect(json.body.truncated).toBe(true);
    expect((json.body.items as { principal: string }[]).map((r) => r.principal)).toEqual(['a-3', 'b-2']);
    const csv = await getAs(t, auditor, '/v1/audit/reports/denied', { accept: 'text/csv' });
    expect(csv.headers.get('jaga-report-truncated')).toBe('true');
    expect(csv.text.trim().split('\r\n')).toHaveLength(3);
  });

  it('says a report exactly at the limit is whole', async () => {
    const json = await getAs(t, auditor, '/v1/audit/reports/disclosures');
    expect(json.body.truncated).toBe(false);
    expect(json.body.items).toHaveLength(2);
    const csv = await getAs(t, auditor, '/v1/audit/reports/disclosures', { accept: 'text/csv' });
    expect(csv.headers.get('jaga-report-truncated')).toBe('false');
  });
});
