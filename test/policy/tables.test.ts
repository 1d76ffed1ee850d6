import { describe, expect, it } from 'vitest';
import { formatFailures, parseTables } from '../../src/policy/policy-tests.ts';
import { runPolicyTests } from '../../src/policy/policy-tests.node.ts';
import { DEFAULT_ROLES } from '../../src/policy/roles.ts';
import { coverageGaps } from '../../src/policy/policy-tests.ts';
import { runJaga } from '../helpers/process.ts';

describe('policy tables (policies/tests/*.yaml)', () => {
  it('every row of every table passes against the shipped policies', async () => {
    const { rows, failures } = await runPolicyTests('policies');
    expect(rows.length).toBeGreaterThan(200);
    expect(failures, formatFailures(failures)).toEqual([]);
  });

  it('covers every role, action and subject type, and each role on public/restricted/exempt/unlabelled data inside and outside its unit', async () => {
    const { gaps } = await runPolicyTests('policies');
    expect(gaps).toEqual([]);
  });

  it('ships a policy file for each default role', async () => {
    const { rows } = await runPolicyTests('policies');
    for (const role of DEFAULT_ROLES)
      expect(
        rows.some((r) => r.principal.roles.includes(role)),
        role,
      ).toBe(true);
  });

  it('the guard reports a role, an action or a subject type without rows', () => {
    const rows = parseTables([
      {
        name: 't.yaml',
        text: 'principal: { roles: [staff], unit: "32" }\ncases:\n  - { action: read, resource: Dataset/public@32.01, effect: allow }\n',
      },
    ]);
    const gaps = coverageGaps(['staff', 'ppid'], rows);
    expect(gaps).toContain('no row for role ppid');
    expect(gaps).toContain('no row for action approve');
    expect(gaps).toContain('no row for subject type AuditEntry');
    expect(gaps).toContain('role staff: no row for a exempt resource outside its unit');
    const typo = parseTables([
      {
        name: 'u.yaml',
        text: 'principal: { roles: [staf] }\ncases:\n  - { action: read, resource: Unit@32, effect: deny }\n',
      },
    ]);
    expect(coverageGaps(['staff'], typo)).toContain('u.yaml#0: unknown role staf');
  });

  it('npm run policy:test prints a table of failures and exits 1 when a row fails', async () => {
    const { mkdtempSync, cpSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'jaga-policy-'));
    cpSync('policies', dir, { recursive: true });
    writeFileSync(
      join(dir, 'tests', 'wrong.yaml'),
      'principal: { roles: [public] }\ncases:\n  - { name: wrong on purpose, action: read, resource: Dataset/exempt@33, effect: allow }\n',
    );
    const run = runJaga('policy:test', {}, [dir]);
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('1 failed');
    expect(run.output()).toMatch(
      /wrong\.yaml#0 wrong on purpose\s+public@-\s+read\s+Dataset\/exempt@33\s+-\s+effect deny, expected allow/,
    );
    const ok = runJaga('policy:test', {}, ['policies']);
    expect(await ok.exited).toBe(0);
  });
});
