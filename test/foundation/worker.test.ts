import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.ts';
import { readMigrationFiles } from '../../src/db/migration-files.ts';
import { databaseKinds, freshDatabase } from '../helpers/databases.ts';
import { GroupCommitLog } from '../../src/audit/audit.writer.ts';
import { entry, tokenFor } from '../audit/helpers.ts';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { freePort, ROOT } from '../helpers/process.ts';

// The same app under workerd (wrangler's local runtime, from npm), offline.
describe('the Workers entry point', () => {
  it(
    'serves /healthz, the error model and, with PostgreSQL through Hyperdrive, decisions from the bundled policies',
    { timeout: 120_000 },
    async () => {
      const port = await freePort();
      // Hyperdrive's local connection string points at a migrated throwaway database when there is one.
      const db = databaseKinds().includes('postgres') ? await freshDatabase('postgres') : undefined;
      if (db) {
        await migrate(db.sql, readMigrationFiles());
        // More entries than one export page (1000), so the export below reads pages after its handler returned.
        const log = new GroupCommitLog(db.sql, { queueMax: 5000, flushMax: 500 });
        await Promise.all(Array.from({ length: 1200 }, (_, i) => log.appendDurable(entry({ requestId: `seed-${i}` }))));
        await log.close(5000);
      }
      const child = spawn(
        process.execPath,
        [
          join(ROOT, 'node_modules/wrangler/bin/wrangler.js'),
          'dev',
          '--ip',
          '127.0.0.1',
          '--port',
          String(port),
          '--inspector-port',
          String(await freePort()),
          '--var',
          `JWT_SECRET:${TEST_JWT_SECRET}`,
          // The cron trigger through /__scheduled; no catch-up timer, so only the trigger folds the log.
          '--test-scheduled',
          '--var',
          'AUDIT_ROLLUP_INTERVAL_MS:0',
        ],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            // Offline: no metrics, no fetch of the Request.cf object from Cloudflare.
            WRANGLER_SEND_METRICS: 'false',
            CLOUDFLARE_CF_FETCH_ENABLED: 'false',
            CI: 'true',
            ...(db
              ? { CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: db.url!.replace('jaga@', 'jaga:local@') }
              : {}),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      try {
        const deadline = Date.now() + 90_000;
        let res: Response | undefined;
        while (Date.now() < deadline && !res) {
          try {
            res = await fetch(`http://127.0.0.1:${port}/healthz`);
          } catch {
            await new Promise((r) => setTimeout(r, 250));
          }
        }
        expect(res, out).toBeDefined();
        expect(res!.status).toBe(200);
        expect(await res!.json()).toEqual({ status: 'ok' });
        const missing = await fetch(`http://127.0.0.1:${port}/nope`);
        expect(missing.status).toBe(404);
        expect(missing.headers.get('content-type')).toBe('application/problem+json');
        expect(((await missing.json()) as { code: string }).code).toBe('ROUTE_NOT_FOUND');
        // The console runs on the Workers entry too (htmx is not bundled there: the pages work without it).
        const signIn = await fetch(`http://127.0.0.1:${port}/console/sign-in`);
        expect(signIn.status).toBe(200);
        expect(await signIn.text()).toContain('<html lang="id">');
        if (db) {
          const register = await fetch(`http://127.0.0.1:${port}/console/registers/public`);
          expect(register.status).toBe(200);
          const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
          const readiness = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
          expect(readiness.checks.database?.ok, JSON.stringify(readiness)).toBe(true);
          expect(readiness.checks.policies?.ok, JSON.stringify(readiness)).toBe(true);
          const check = await fetch(`http://127.0.0.1:${port}/v1/check`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              action: 'read',
              resource: {
                type: 'Dataset',
                attributes: {
                  id: 'd',
                  ownerUnit: '32',
                  classification: 'public',
                  labelPending: false,
                  labelVersion: 1,
                  steward: null,
                  sourceSystem: null,
                },
              },
            }),
          });
          const decision = (await check.json()) as { allow: boolean; policyVersion: string };
          expect(check.status, JSON.stringify(decision)).toBe(200);
          expect(decision.allow).toBe(true);
          expect(decision.policyVersion).toMatch(/^[0-9a-f]{8,}$/);

          // Concurrent requests and a batch, each on its own client, every decision in the log.
          const ask = {
            action: 'read',
            resource: {
              type: 'Dataset',
              attributes: {
                id: 'd',
                ownerUnit: '32',
                classification: 'public',
                labelPending: false,
                labelVersion: 1,
                steward: null,
                sourceSystem: null,
              },
            },
          };
          const post = (path: string, body: unknown) =>
            fetch(`http://127.0.0.1:${port}${path}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(body),
            });
          const answers = await Promise.all([
            ...Array.from({ length: 6 }, () => post('/v1/check', ask)),
            post('/v1/check/batch', { checks: [ask, ask, ask] }),
          ]);
          const ids: string[] = [];
          for (const a of answers) {
            const body = (await a.json()) as { decisionId?: string; results?: { decisionId: string }[] };
            expect(a.status, JSON.stringify(body)).toBe(200);
            ids.push(...(body.results ? body.results.map((d) => d.decisionId) : [body.decisionId!]));
          }
          expect(ids).toHaveLength(9);
          const logged = await db.sql<
            { n: string }[]
          >`select count(*) as n from audit_entry where id = any(${ids}::uuid[])`;
          expect(Number(logged[0]!.n)).toBe(9);
          // A streamed export reads its pages after the handler returned: still on the request's own client.
          const auditor = await tokenFor('aud', ['auditor']);
          const exported = await fetch(`http://127.0.0.1:${port}/v1/audit/decisions`, {
            headers: { authorization: `Bearer ${auditor}`, accept: 'application/x-ndjson' },
          });
          const lines = (await exported.text()).split('\n').filter(Boolean);
          expect(exported.status, lines.join('\n')).toBe(200);
          const exportedIds = lines.map((l) => (JSON.parse(l) as { id: string }).id);
          expect(exportedIds.length).toBeGreaterThan(1209);
          for (const id of ids) expect(exportedIds).toContain(id);
          // Built once per isolate: the policy set was parsed and compiled for the first request only.
          expect(out.match(/policies loaded/g) ?? [], out).toHaveLength(1);
          // The cron trigger runs the rollup catch-up (no timer runs it on Workers): the mark reaches the head.
          const lag = async () =>
            Number(
              (await db.sql<{ lag: string }[]>`select h.seq - m.seq as lag from audit_head h, audit_rollup_mark m`)[0]!
                .lag,
            );
          expect(await lag()).toBeGreaterThan(1200);
          // A field declared range-filterable: its index is built by the trigger too (no background timer).
          await db.sql`insert into datasets (id, title, owner_unit) values ('cron-ranged', 'Cron ranged', 'RI')`;
          await db.sql`insert into fields (dataset_id, name, position, type, filter) values ('cron-ranged', 'amount', 1, 'integer', 'range')`;
          const cron = await fetch(`http://127.0.0.1:${port}/__scheduled?cron=*+*+*+*+*`);
          expect(cron.status, out).toBe(200);
          expect(await lag(), out).toBe(0);
          const built = await db.sql`
            select 1 from record_range_indexes i join pg_indexes x on x.indexname = i.index_name
            where i.dataset_id = 'cron-ranged' and i.field = 'amount' and i.status = 'ready'`;
          expect(built, out).toHaveLength(1);
          // The handler's log line reaches wrangler's output a moment after the trigger's answer.
          for (const until = Date.now() + 10_000; !out.includes('audit rollup catch-up') && Date.now() < until;)
            await new Promise((r) => setTimeout(r, 100));
          expect(out).toContain('audit rollup catch-up');
        }
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
        await db?.close();
      }
    },
  );
  it(
    'under wrangler dev --env local with no database there: database routes answer 503 problem+json, not a hang',
    { timeout: 90_000 },
    async () => {
      // [env.local] in wrangler.toml: no Hyperdrive emulation, DATABASE_URL straight from the Worker;
      // pointed here at a port where nothing listens.
      const port = await freePort();
      const child = spawn(
        process.execPath,
        [
          join(ROOT, 'node_modules/wrangler/bin/wrangler.js'),
          'dev',
          '--env',
          'local',
          '--ip',
          '127.0.0.1',
          '--port',
          String(port),
          '--inspector-port',
          String(await freePort()),
          '--var',
          `JWT_SECRET:${TEST_JWT_SECRET}`,
          '--var',
          `DATABASE_URL:postgres://jaga:local@127.0.0.1:${await freePort()}/jaga`,
          '--var',
          'DATABASE_DEADLINE_MS:2000',
        ],
        {
          cwd: ROOT,
          env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', CI: 'true' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      try {
        const deadline = Date.now() + 60_000;
        let up = false;
        while (Date.now() < deadline && !up) {
          up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
            (r) => r.ok,
            () => false,
          );
          if (!up) await new Promise((r) => setTimeout(r, 250));
        }
        expect(up, out).toBe(true);
        for (const path of ['/v1/datasets', '/v1/registers/public', '/readyz']) {
          const started = Date.now();
          const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10_000) });
          expect(res.status, `${path}: ${out}`).toBe(503);
          if (path !== '/readyz') {
            expect(res.headers.get('content-type')).toBe('application/problem+json');
            expect(((await res.json()) as { code: string }).code).toBe('DATABASE_UNAVAILABLE');
          }
          expect(Date.now() - started).toBeLessThan(4000);
        }
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  );
});
