import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { boot } from '../../src/boot.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { Database } from '../../src/db/database.ts';
import { openEmbedded } from '../../src/db/embedded.ts';
import type { Principal } from '../../src/identity/principal.ts';
import { createLogger } from '../../src/system/logger.ts';
import { databaseKinds, freshDatabase } from '../helpers/databases.ts';
import { runJaga } from '../helpers/process.ts';
import { reportsDataset } from './records-app.ts';

const steward: Principal = { sub: 'steward-32', kind: 'user', roles: ['steward'], unit: '32', purposes: [] };

describe.each(databaseKinds())('npm run import on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'jaga-import-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The database the CLI will use, and the environment that points it there. */
  async function open(): Promise<{ db: Database; env: Record<string, string> }> {
    if (kind === 'pglite')
      return { db: await openEmbedded(join(dir, 'data')), env: { JAGA_DATA_DIR: join(dir, 'data') } };
    const db = await freshDatabase('postgres');
    return { db, env: { DATABASE_URL: db.url! } };
  }

  it(
    'streams a CSV file through the ingest service, and refuses a bad one storing nothing',
    { timeout: 120_000 },
    async () => {
      const { db, env } = await open();
      const config = loadConfig({ LOG_LEVEL: 'silent' });
      const app = await boot({ config, db, logger: createLogger('silent') });
      await app.deps.services.catalog.createDataset(steward, reportsDataset('cli-ds') as never, {});
      await app.deps.services.catalog.labelDataset(
        steward,
        'cli-ds',
        { classification: 'restricted' } as never,
        undefined,
        {},
      );
      // The embedded database is one process's at a time: let go of it while the CLI runs.
      if (kind === 'pglite') await app.close();

      const lines = ['report_no,received_on,amount,reporter_nik,_unit'];
      for (let i = 0; i < 2500; i++)
        lines.push(`LP-${i},2024-02-0${(i % 9) + 1},${i},32010145069000${String(i % 100).padStart(2, '0')},32.01`);
      const good = join(dir, 'good.csv');
      writeFileSync(good, lines.join('\n') + '\n');
      const bad = join(dir, 'bad.csv');
      writeFileSync(bad, lines.slice(0, 10).join('\n') + '\nLP-x,2024-13-01,1,1,32.01\n');

      const ok = runJaga('import', { ...env, LOG_LEVEL: 'silent' }, ['--dataset', 'cli-ds', good]);
      expect(await ok.exited, ok.output()).toBe(0);
      expect(ok.output()).toMatch(/imported 2500 records into cli-ds in [\d.]+ s \(\d+ rows\/s\)/);

      const refused = runJaga('import', { ...env, LOG_LEVEL: 'silent' }, ['--dataset', 'cli-ds', bad]);
      expect(await refused.exited).toBe(1);
      expect(refused.output()).toContain('RECORDS_INVALID');
      expect(refused.output()).toContain('line 11: received_on: expected a date YYYY-MM-DD');

      // The import's audit entry names the operator: a --sub the log cannot hold is refused before any row is read.
      const badSub = runJaga('import', { ...env, LOG_LEVEL: 'silent' }, [
        '--dataset',
        'cli-ds',
        '--sub',
        'ops admin',
        good,
      ]);
      expect(await badSub.exited).toBe(2);
      expect(badSub.output()).toContain('--sub must be a name');

      const check = kind === 'pglite' ? await openEmbedded(join(dir, 'data')) : db;
      const [row] = await check.sql`select count(*)::int as n from records where dataset_id = 'cli-ds'`;
      expect(row!.n).toBe(2500);
      if (kind === 'pglite') await check.close();
      else await app.close();
    },
  );
});
