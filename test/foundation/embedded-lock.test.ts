import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirLockedError, LOCK_FILE, type LockHolder } from '../../src/db/data-dir-lock.ts';
import { mintToken } from '../../src/identity/mint.ts';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { freePort, runScript, waitForHttp, type Started, runJaga } from '../helpers/process.ts';
import { reportsDataset } from '../records/records-app.ts';

// PGlite is single-process (issue 14, observation 13): the data folder is locked by whoever has it
// open, and the CLIs of the README's session reach a running server through its operator channel.

const root = mkdtempSync(join(tmpdir(), 'jaga-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  const dir = join(root, `d${++n}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};
const writeLock = (dir: string, h: LockHolder) => writeFileSync(join(dir, LOCK_FILE), JSON.stringify(h));

/** GET on a unix socket: the status and the problem code, if any. */
function getOnSocket(
  socketPath: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(body) as { code?: string }).code }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the embedded data folder lock', () => {
  it('refuses a second holder, naming it; lets go on release', async () => {
    const dir = freshDir();
    const lock = await acquireDataDirLock(dir, 'npm run import');
    const refused = await acquireDataDirLock(dir, 'server').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DataDirLockedError);
    expect((refused as Error).message).toContain(
      `is in use by \`npm run import\` (pid ${process.pid}, since ${lock.holder().since})`,
    );
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const again = await acquireDataDirLock(dir, 'server');
    expect(again.replaced).toBeNull();
    again.release();
  });

  it('takes over a lock whose holder is gone (dead pid, reused pid, earlier boot), never a live one or one from another host', async () => {
    const probe = await acquireDataDirLock(freshDir(), 'probe');
    const me = probe.holder(); // this live process, as a lock records it
    probe.release();
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const stale: [string, LockHolder][] = [
      ['dead pid', { ...me, pid: dead, token: 'dead' }],
      ['reused pid', { ...me, startTime: '1', token: 'reused' }],
      ['earlier boot', { ...me, bootId: 'an-earlier-boot', token: 'boot' }],
    ];
    for (const [what, holder] of stale) {
      const dir = freshDir();
      writeLock(dir, holder);
      const lock = await acquireDataDirLock(dir, 'server');
      expect(lock.replaced?.token, what).toBe(holder.token);
      lock.release();
    }
    const live = freshDir();
    writeLock(live, { ...me, token: 'live' });
    await expect(acquireDataDirLock(live, 'server')).rejects.toThrow(`in use by \`probe\` (pid ${process.pid}`);
    const foreign = freshDir();
    writeLock(foreign, { ...me, host: 'elsewhere', pid: dead, token: 'foreign' });
    await expect(acquireDataDirLock(foreign, 'server')).rejects.toThrow(
      /locked by `probe` \(pid \d+ on host elsewhere.*delete .*jaga\.lock/,
    );
    expect(JSON.parse(readFileSync(join(foreign, LOCK_FILE), 'utf8')).token).toBe('foreign');
  });

  it('takes over a stale lock only by winning its election: never while another process is taking it over', async () => {
    const dir = freshDir();
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    writeLock(dir, {
      pid: gone,
      host: hostname(),
      startTime: null,
      bootId: null,
      token: 'gone',
      command: 'server',
      since: 'then',
    });
    // Another process has won the takeover of this stale lock and is between its checks.
    writeFileSync(join(dir, `${LOCK_FILE}.takeover-gone`), '{}');
    await expect(acquireDataDirLock(dir, 'server')).rejects.toThrow(/a takeover of a stale lock did not finish/);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).token).toBe('gone');
  });

  it('six processes taking over one stale lock at once: exactly one wins', { timeout: 60_000 }, async () => {
    const dir = freshDir();
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    writeLock(dir, {
      pid: gone,
      host: hostname(),
      startTime: null,
      bootId: null,
      token: 'gone',
      command: 'server',
      since: 'then',
    });
    const startAt = Date.now() + 2000;
    const contenders = Array.from({ length: 6 }, () =>
      runScript('test/helpers/lock-contender.ts', {}, [dir, String(startAt), '2000']),
    );
    await Promise.all(contenders.map((c) => c.exited));
    const outcomes = contenders.map((c) => c.output().trim());
    // The winner removed the stale lock, or took the free name just after another contender removed it.
    expect(
      outcomes.filter((o) => o.startsWith('won ')),
      outcomes.join('\n'),
    ).toHaveLength(1);
    expect(
      outcomes.filter((o) => o === 'refused DataDirLockedError'),
      outcomes.join('\n'),
    ).toHaveLength(5);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it(
    'refuses the CLIs, touching nothing, while a process that is not a server holds the folder',
    { timeout: 60_000 },
    async () => {
      const dir = freshDir();
      const dataDir = join(dir, 'data');
      const lock = await acquireDataDirLock((mkdirSync(dataDir), dataDir), 'a test holder');
      writeFileSync(join(dir, 'one.csv'), 'report_no\nLP-1\n');
      const env = { JAGA_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
      try {
        const runs = [
          runJaga('import', env, ['--dataset', 'ds', join(dir, 'one.csv')]),
          runJaga('migrate', env),
          runJaga('audit:verify', env),
        ];
        const codes = await Promise.all(runs.map((r) => r.exited));
        for (const [i, r] of runs.entries()) {
          expect(codes[i], r.output()).not.toBe(0);
          expect(r.output()).toContain(`is in use by \`a test holder\` (pid ${process.pid}`);
          expect(r.output()).toContain('PGlite serves one process at a time');
        }
        expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(false);
      } finally {
        lock.release();
      }
    },
  );
});

describe('npm start on the embedded database, with the README session’s CLIs', () => {
  const KEY = 'audit-hmac-key-audit-hmac-key-0123456789';

  function start(dataDir: string, port: number): Started {
    return runScript('src/entry/node.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      JAGA_DATA_DIR: dataDir,
      JWT_SECRET: TEST_JWT_SECRET,
      AUDIT_HMAC_KEY: KEY,
    });
  }
  const token = (sub: string, roles: string[], unit: string) =>
    mintToken({ secret: TEST_JWT_SECRET, claims: { sub, roles, unit, purposes: [], kind: 'user' }, ttlSeconds: 600 });
  const cli = (command: string, dataDir: string, args: string[] = []) =>
    runJaga(
      command,
      { JAGA_DATA_DIR: dataDir, AUDIT_HMAC_KEY: KEY, JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent' },
      args,
    );

  async function counts(base: string): Promise<{
    records: number;
    ingests: { principal: { sub: string }; rowCount: number }[];
    verify: { ok: boolean };
  }> {
    const steward = await token('siti', ['steward'], '32');
    const auditor = await token('rina', ['auditor'], 'RI');
    const records = await fetch(`${base}/v1/datasets/lock-ds/records`, {
      headers: { authorization: `Bearer ${steward}`, accept: 'application/x-ndjson' },
    });
    expect(records.status).toBe(200);
    const lines = (await records.text()).split('\n').filter(Boolean).length;
    const entries = await fetch(`${base}/v1/audit/decisions?dataset=lock-ds&event=catalog_change&action=ingest`, {
      headers: { authorization: `Bearer ${auditor}` },
    });
    const verify = await fetch(`${base}/v1/audit/verify`, { headers: { authorization: `Bearer ${auditor}` } });
    return {
      records: lines,
      ingests: ((await entries.json()) as { items: never[] }).items,
      verify: (await verify.json()) as { ok: boolean },
    };
  }

  it(
    'runs import, migrate, policy:test and audit:verify through the running server; refuses a second server; nothing lost across a restart',
    { timeout: 240_000 },
    async () => {
      const dir = freshDir();
      const dataDir = join(dir, 'data');
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const first = start(dataDir, port);
      try {
        await waitForHttp(`${base}/readyz`, first);
        const steward = await token('siti', ['steward'], '32');
        const json = { authorization: `Bearer ${steward}`, 'content-type': 'application/json' };
        expect(
          (
            await fetch(`${base}/v1/datasets`, {
              method: 'POST',
              headers: json,
              body: JSON.stringify(reportsDataset('lock-ds')),
            })
          ).status,
        ).toBe(201);
        expect(
          (
            await fetch(`${base}/v1/datasets/lock-ds/label`, {
              method: 'PUT',
              headers: json,
              body: JSON.stringify({ classification: 'restricted' }),
            })
          ).status,
        ).toBe(200);

        const lines = ['report_no,received_on,amount,reporter_nik,_unit'];
        for (let i = 0; i < 2500; i++)
          lines.push(`LP-${i},2024-02-0${(i % 9) + 1},${i},32010145069000${String(i % 100).padStart(2, '0')},32.01`);
        writeFileSync(join(dir, 'good.csv'), lines.join('\n') + '\n');
        writeFileSync(join(dir, 'bad.csv'), lines.slice(0, 10).join('\n') + '\nLP-x,2024-13-01,1,1,32.01\n');

        const imported = cli('import', dataDir, [
          '--dataset',
          'lock-ds',
          '--sub',
          'operator-ani',
          join(dir, 'good.csv'),
        ]);
        expect(await imported.exited, imported.output()).toBe(0);
        expect(imported.output()).toMatch(/imported 2500 records into lock-ds in [\d.]+ s/);
        expect(imported.output()).toContain('through the running Jaga server');
        const refused = cli('import', dataDir, ['--dataset', 'lock-ds', join(dir, 'bad.csv')]);
        expect(await refused.exited).toBe(1);
        expect(refused.output()).toContain('RECORDS_INVALID');
        expect(refused.output()).toContain('line 11: received_on: expected a date YYYY-MM-DD');

        const migrated = cli('migrate', dataDir);
        expect(await migrated.exited, migrated.output()).toBe(0);
        expect(migrated.output()).toMatch(/migrations are current: applied by a running Jaga server \(pid \d+/);
        const policies = cli('policy:test', dataDir);
        expect(await policies.exited, policies.output()).toBe(0);

        const auditor = await token('rina', ['auditor'], 'RI');
        const checkpoint = await fetch(`${base}/v1/audit/checkpoint`, {
          headers: { authorization: `Bearer ${auditor}` },
        });
        writeFileSync(join(dir, 'checkpoint.json'), await checkpoint.text());
        const verified = cli('audit:verify', dataDir, ['--checkpoint', join(dir, 'checkpoint.json')]);
        expect(await verified.exited, verified.output()).toBe(0);
        expect(verified.output()).toMatch(
          /audit chain ok: \d+ entries verified in [\d.]+ s .*; checkpoint \d+ matches/,
        );
        expect(verified.output()).toContain('walked by the running Jaga server');

        // The channel is the data folder's operator's only: a 0700 folder, and the token of the 0600 lock.
        const lock = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as LockHolder;
        expect(statSync(join(dataDir, LOCK_FILE)).mode & 0o777).toBe(0o600);
        expect(statSync(dirname(lock.socket!)).mode & 0o777).toBe(0o700);
        expect(await getOnSocket(lock.socket!, '/operator/status')).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
        expect(await getOnSocket(lock.socket!, '/operator/status', { authorization: `Bearer ${lock.token}x` })).toEqual(
          { status: 401, code: 'UNAUTHENTICATED' },
        );
        expect(
          (await getOnSocket(lock.socket!, '/operator/status', { authorization: `Bearer ${lock.token}` })).status,
        ).toBe(200);

        // The server sees what the CLI imported, at once.
        const live = await counts(base);
        expect(live.records).toBe(2500);

        const second = start(dataDir, await freePort());
        expect(await second.exited).toBe(1);
        expect(second.output()).toContain(
          `The embedded database in ${dataDir} is in use by a running Jaga server (pid ${first.child.pid}`,
        );
      } finally {
        first.child.kill('SIGTERM');
      }
      expect(await first.exited, first.output()).toBe(0);
      expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);

      const again = start(dataDir, port);
      try {
        await waitForHttp(`${base}/readyz`, again);
        const after = await counts(base);
        expect(after.records).toBe(2500);
        expect(after.ingests.map((e) => [e.principal.sub, e.rowCount])).toEqual([['operator-ani', 2500]]);
        expect(after.verify.ok).toBe(true);
      } finally {
        again.child.kill('SIGTERM');
      }
      expect(await again.exited, again.output()).toBe(0);
    },
  );

  it(
    'after kill -9 of the server, the next start takes over its stale lock and finds its data',
    { timeout: 120_000 },
    async () => {
      const dataDir = join(freshDir(), 'data');
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const killed = start(dataDir, port);
      await waitForHttp(`${base}/readyz`, killed);
      const steward = await token('siti', ['steward'], '32');
      const created = await fetch(`${base}/v1/datasets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${steward}`, 'content-type': 'application/json' },
        body: JSON.stringify(reportsDataset('kept-ds')),
      });
      expect(created.status).toBe(201);
      killed.child.kill('SIGKILL');
      await killed.exited;
      expect(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).pid).toBe(killed.child.pid);

      const next = start(dataDir, port);
      try {
        await waitForHttp(`${base}/readyz`, next);
        expect(next.output()).toContain('"msg":"took over the lock of a process that is gone"');
        expect(next.output()).toContain(`"pid":${killed.child.pid}`);
        const kept = await fetch(`${base}/v1/datasets/kept-ds`, { headers: { authorization: `Bearer ${steward}` } });
        expect(kept.status).toBe(200);
      } finally {
        next.child.kill('SIGTERM');
      }
      expect(await next.exited, next.output()).toBe(0);
    },
  );
});
