import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../scripts/build.ts';
import { databaseKinds, freshDatabase } from '../helpers/databases.ts';
import { freePort, runScript, waitForHttp } from '../helpers/process.ts';

// What `npm start` runs: src/entry/node.ts bundled by scripts/build.ts (migrations, PGlite and
// policies must all be found from the bundle's place).
const ENTRY = 'dist/node/jaga.mjs';

describe('the Node entry point, bundled as npm start runs it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jaga-entry-'));
  beforeAll(() => bundle('src/entry/node.ts', ENTRY), 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves on the embedded database, shuts down with exit 0 on SIGTERM, and keeps its data', async () => {
    const dataDir = join(dir, 'data');
    for (const round of [1, 2]) {
      const port = await freePort();
      const p = runScript(ENTRY, { PORT: String(port), HOST: '127.0.0.1', JAGA_DATA_DIR: dataDir });
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, p);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
      p.child.kill('SIGTERM');
      expect(await p.exited, p.output()).toBe(0);
      expect(p.output()).toContain('"msg":"stopped"');
      // The second start finds the migrations already applied in the same folder.
      if (round === 2) expect(p.output()).not.toContain('applied migration');
    }
  });

  it.runIf(databaseKinds().includes('postgres'))(
    'starts two instances at once against one PostgreSQL; migrations run once',
    async () => {
      const db = await freshDatabase('postgres');
      const ports = [await freePort(), await freePort()];
      const procs = ports.map((port) =>
        runScript(ENTRY, { PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: db.url! }),
      );
      try {
        await Promise.all(procs.map((p, i) => waitForHttp(`http://127.0.0.1:${ports[i]}/readyz`, p)));
        const sql = postgres(db.url!, { max: 1 });
        const rows = await sql`select name, count(*)::int as n from schema_migrations group by name`;
        await sql.end();
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((r) => r.n === 1)).toBe(true);
        const applied = procs.map((p) => (p.output().match(/applied migration/g) ?? []).length);
        expect(applied.reduce((a, b) => a + b, 0)).toBe(rows.length);
      } finally {
        for (const p of procs) p.child.kill('SIGTERM');
        await Promise.all(procs.map((p) => p.exited));
        await db.close();
      }
    },
  );
});
