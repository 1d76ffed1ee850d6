import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine } from './engine.ts';
import { loadPolicies } from './loader.ts';
import { policyFilesIn } from './policy-files.ts';
import { coverageGaps, parseTables, runRows, type TestFailure, type TestRow } from './policy-tests.ts';

/** Loads `dir` and `dir/tests`, runs every table; used by the CLI and the test suite. */
export async function runPolicyTests(
  dir: string,
): Promise<{ rows: TestRow[]; failures: TestFailure[]; gaps: string[]; version: string }> {
  const set = await loadPolicies(await policyFilesIn(dir)());
  const testDir = join(dir, 'tests');
  const names = (await readdir(testDir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  const tables = await Promise.all(
    names.map(async (name) => ({ name, text: await readFile(join(testDir, name), 'utf8') })),
  );
  const rows = parseTables(tables);
  return {
    rows,
    failures: runRows(createEngine(set), rows),
    gaps: coverageGaps(set.roles, rows),
    version: set.version,
  };
}
