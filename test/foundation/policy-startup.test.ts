import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, runScript } from '../helpers/process.ts';

describe('start-up with an invalid policy set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jaga-policies-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'refuses to start (exit 1) and names the file and the problem, rather than denying everything silently',
    { timeout: 90_000 },
    async () => {
      cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
      writeFileSync(
        join(dir, 'policies', 'staff.yaml'),
        'role: staff\nrules:\n  - id: staff.bad\n    action: fly\n    subject: Dataset\n    reason: x\n',
      );
      const p = runScript('src/entry/node.ts', {
        PORT: String(await freePort()),
        JAGA_DATA_DIR: join(dir, 'data'),
        POLICY_DIR: join(dir, 'policies'),
      });
      expect(await p.exited).toBe(1);
      expect(p.output()).toMatch(/staff\.yaml/);
      expect(p.output()).toMatch(/not valid/);
    },
  );
});
