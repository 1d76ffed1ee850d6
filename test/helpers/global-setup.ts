import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null;
  }
}

const script = join(import.meta.dirname, '../../scripts/pg-throwaway.sh');

/**
 * Every integration suite runs on PGlite and on a real PostgreSQL. The server is the one in
 * JAGA_TEST_DATABASE_URL (CI starts it), or a throwaway one started here. Without one, CI fails;
 * a developer run says loudly which suites did not run on PostgreSQL.
 */
export default function setup(project: TestProject) {
  console.log(`tests run on Node ${process.version}`);
  let url = process.env.JAGA_TEST_DATABASE_URL ?? null;
  let dir: string | undefined;
  if (!url && process.env.JAGA_TEST_POSTGRES !== 'off') {
    dir = mkdtempSync(join(tmpdir(), 'jaga-pg-'));
    try {
      url = execFileSync('bash', [script, 'start', dir], { encoding: 'utf8' }).trim();
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      dir = undefined;
      if (process.env.CI)
        throw new Error(`cannot start PostgreSQL for the tests: ${(error as Error).message}`, { cause: error });
      console.warn(
        '\n!!! PostgreSQL is not available: the suites run on PGlite ONLY (set JAGA_TEST_DATABASE_URL) !!!\n',
      );
    }
  }
  if (process.env.CI && !url) throw new Error('CI must test on PostgreSQL: set JAGA_TEST_DATABASE_URL');
  console.log(`databases under test: pglite${url ? ', postgres' : ''}`);
  project.provide('postgresUrl', url);
  return () => {
    if (dir) {
      execFileSync('bash', [script, 'stop', dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
