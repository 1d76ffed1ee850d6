import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { boot, type Booted } from '../../src/boot.ts';
import { loadConfig } from '../../src/config/config.ts';
import { openEmbedded } from '../../src/db/embedded.ts';
import { createLogger } from '../../src/system/logger.ts';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { databaseKinds, freshDatabase } from '../helpers/databases.ts';
import { runJaga } from '../helpers/process.ts';
import { entry } from './helpers.ts';

const KEY = 'audit-hmac-key-audit-hmac-key-0123456789';

describe.each(databaseKinds())('npm run audit:verify on %s', (kind) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** Writes 25 entries, closes the app, and returns the environment that reaches the same database. */
  async function seeded(keyed = true): Promise<{ env: Record<string, string>; booted: Booted }> {
    const dir = mkdtempSync(join(tmpdir(), 'jaga-audit-cli-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = kind === 'pglite' ? await openEmbedded(join(dir, 'data')) : await freshDatabase('postgres');
    const env: Record<string, string> = { ...(keyed ? { AUDIT_HMAC_KEY: KEY } : {}), LOG_LEVEL: 'silent' };
    if (kind === 'pglite') env.JAGA_DATA_DIR = join(dir, 'data');
    else env.DATABASE_URL = (db as { url?: string }).url!;
    const booted = await boot({
      config: loadConfig({ ...env, JWT_SECRET: TEST_JWT_SECRET }),
      db,
      logger: createLogger('silent'),
    });
    for (let i = 0; i < 25; i++) await booted.deps.services.audit.append(entry({ requestId: `r${i}` }));
    await booted.deps.lifecycle.shutdown();
    return { env, booted };
  }

  it('prints ok with the count and exits 0 on an intact chain; exits 1 at the exact broken entry', async () => {
    const { env, booted } = await seeded();
    const dir = mkdtempSync(join(tmpdir(), 'jaga-cp-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const [head] = await booted.deps.db.sql<{ seq: string; hash: string }[]>`select seq, hash from audit_head`;
    writeFileSync(join(dir, 'cp.json'), JSON.stringify({ seq: Number(head!.seq), hash: head!.hash }));
    await booted.deps.db.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`delete from audit_entry where seq = 25`;
      await tx`update audit_entry set reason = 'rewritten' where seq = 12`;
    });
    if (kind === 'pglite')
      await booted.close(); // the embedded database serves one process at a time
    else cleanups.push(() => booted.close());
    const broken = runJaga('audit:verify', env, ['--checkpoint', join(dir, 'cp.json')]);
    expect(await broken.exited).toBe(1);
    expect(broken.output()).toMatch(/audit chain BROKEN at entry 12 \([0-9a-f-]{36}\): hash/);
    expect(broken.output()).toMatch(/checkpoint 25 MISMATCH: missing/);
    // The same first break in order and with more segments than the default (AUDIT_VERIFY_PARALLELISM=2).
    const line = /audit chain BROKEN at entry 12 [^\n]*\n/.exec(broken.output())![0];
    for (const n of ['1', '3']) {
      const again = runJaga('audit:verify', env, ['--parallel', n]);
      expect(await again.exited).toBe(1);
      expect(again.output()).toContain(line);
    }
    const bad = runJaga('audit:verify', env, ['--parallel', '0']);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/--parallel expects a positive whole number/);
  }, 120_000); // a file-backed PGlite is slow to create on a shared machine

  it('exits 0 with a plain final line on an intact chain', async () => {
    const { env, booted } = await seeded();
    if (kind === 'pglite') await booted.close();
    else cleanups.push(() => booted.close());
    const ok = runJaga('audit:verify', env);
    expect(await ok.exited).toBe(0);
    expect(ok.output()).toMatch(/^audit chain ok: 25 entries verified in [\d.]+ s \([\d,]+ entries\/s\)\n$/);
  }, 90_000);

  it('says on its final line that a chain without AUDIT_HMAC_KEY is unkeyed', async () => {
    const { env, booted } = await seeded(false);
    if (kind === 'pglite') await booted.close();
    else cleanups.push(() => booted.close());
    const ok = runJaga('audit:verify', env);
    expect(await ok.exited).toBe(0);
    expect(ok.output()).toMatch(
      /^audit chain ok: 25 entries verified in [\d.]+ s \([\d,]+ entries\/s\); UNKEYED: AUDIT_HMAC_KEY is not set: the audit chain is plain SHA-256, so anyone with write access to the database can rewrite it consistently\n$/,
    );
  }, 90_000);
});
