import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app.ts';
import { connect } from 'node:net';
import { createNodeServer } from '../../src/http/node-server.ts';
import { createLogger } from '../../src/system/logger.ts';
import { freePort, runScript, waitForHttp } from '../helpers/process.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { entry, tokenFor } from './helpers.ts';

const auditor = await tokenFor('aud-stream', ['auditor']);
const ppid32 = await tokenFor('ppid-32', ['ppid'], '32');
const staff = await tokenFor('staff-1', ['staff'], '32');

/** An open stream: its text so far, read on demand. */
class Follower {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  readonly response: Response;
  text = '';
  done = false;
  constructor(response: Response) {
    this.response = response;
    this.#reader = response.body!.getReader();
  }
  /** Reads one chunk (or the end), failing after `ms`. */
  async readChunk(ms = 5000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      this.#reader.read(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no chunk within ${ms} ms`)), ms))),
    ]).finally(() => clearTimeout(timer));
    if (r.done) this.done = true;
    else this.text += this.#decoder.decode(r.value, { stream: true });
  }
  /** Reads until `until(text)` holds or the stream ends. */
  async readUntil(until: (text: string) => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!until(this.text) && !this.done) await this.readChunk(Math.max(1, deadline - Date.now()));
  }
  items(): { seq: number; event: string; requestId: string | null; resource: { unit: string | null } }[] {
    return this.text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l));
  }
  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

async function follow(t: TestApp, path: string, token: string, headers: Record<string, string> = {}) {
  return new Follower(await t.app.request(path, { headers: { authorization: `Bearer ${token}`, ...headers } }));
}

async function seqsOf(t: TestApp, requestIdPrefix: string): Promise<number[]> {
  const seqs: number[] = [];
  let cursor = '';
  for (;;) {
    const r = await t.request('GET', `/v1/audit/decisions?event=decision&limit=1000${cursor}`, { token: auditor });
    for (const item of r.body.items as { seq: number; requestId: string | null }[])
      if (item.requestId?.startsWith(requestIdPrefix)) seqs.push(item.seq);
    if (!r.body.nextCursor) return seqs;
    cursor = `&cursor=${r.body.nextCursor}`;
  }
}

describe.each(databaseKinds())('decision-log stream on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(kind, {
      AUDIT_STREAM_POLL_MS: '20',
      AUDIT_STREAM_HEARTBEAT_MS: '150',
      AUDIT_CHECKS: 'queued',
    });
  });
  afterAll(() => t.close());

  it('resumes from a seq: exactly the entries after it, in order, then new ones as they commit', async () => {
    for (let i = 0; i < 10; i++)
      await t.deps.services.audit.appendDurable(
        entry({ requestId: `resume-${i}`, resource: { type: 'Dataset', id: 'ds-r', unit: '32' } }),
      );
    const seqs = await seqsOf(t, 'resume-');
    expect(seqs).toHaveLength(10);
    const from = seqs[3]!;
    const f = await follow(t, `/v1/audit/stream?after=${from}&event=decision`, auditor);
    expect(f.response.status).toBe(200);
    expect(f.response.headers.get('content-type')).toBe('application/x-ndjson');
    await f.readUntil((text) => text.includes('"resume-9"'));
    expect(f.items().map((i) => i.seq)).toEqual(seqs.slice(4));

    // Followed live: an entry committed after the stream caught up arrives without a new request.
    await t.deps.services.audit.appendDurable(entry({ requestId: 'resume-live' }));
    await f.readUntil((text) => text.includes('"resume-live"'));
    const live = f.items().at(-1)!;
    expect(live.requestId).toBe('resume-live');
    expect(live.seq).toBeGreaterThan(seqs[9]!);
    // Idle: a heartbeat (an empty line) within the heartbeat interval keeps proxies from timing out.
    const before = f.text.length;
    await f.readUntil((text) => text.length > before, 2000);
    expect(f.text.slice(before)).toBe('\n');
    await f.cancel();
  });

  it('without `after` sends only what is new', async () => {
    await t.deps.services.audit.appendDurable(entry({ requestId: 'old-one' }));
    const f = await follow(t, '/v1/audit/stream?event=decision', auditor);
    await t.deps.services.audit.appendDurable(entry({ requestId: 'new-one' }));
    await f.readUntil((text) => text.includes('"new-one"'));
    expect(f.items().map((i) => i.requestId)).toEqual(['new-one']);
    await f.cancel();
  });

  it('as Server-Sent Events: id is the seq, and Last-Event-ID resumes after it', async () => {
    for (let i = 0; i < 3; i++) await t.deps.services.audit.appendDurable(entry({ requestId: `sse-${i}` }));
    const seqs = await seqsOf(t, 'sse-');
    const f = await follow(t, `/v1/audit/stream?after=${seqs[0]! - 1}&event=decision`, auditor, {
      accept: 'text/event-stream',
    });
    expect(f.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await f.readUntil((text) => text.includes('"sse-2"'));
    const ids = [...f.text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids.slice(0, 3)).toEqual(seqs);
    expect(f.text).toMatch(/^retry: \d+$/m);
    await f.cancel();

    // A reconnecting EventSource sends the last id it saw; the URL's `after` is older.
    const resumed = await follow(t, `/v1/audit/stream?after=0&event=decision`, auditor, {
      accept: 'text/event-stream',
      'last-event-id': String(seqs[1]),
    });
    await resumed.readUntil((text) => text.includes('"sse-2"'));
    const resumedIds = [...resumed.text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(resumedIds[0]).toBe(seqs[2]);
    await resumed.cancel();

    const bad = await t.request('GET', '/v1/audit/stream', {
      token: auditor,
      headers: { accept: 'text/event-stream', 'last-event-id': 'x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
  });

  it('is for auditors, and a PPID within their unit only; the read is logged', async () => {
    expect((await t.request('GET', '/v1/audit/stream')).status).toBe(401);
    const refused = await t.request('GET', '/v1/audit/stream', { token: staff });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    expect(
      (await t.request('GET', '/v1/audit/stream', { token: auditor, headers: { accept: 'application/json' } })).status,
    ).toBe(406);

    await t.deps.services.audit.appendDurable(
      entry({
        requestId: 'unit-33',
        principal: { sub: 'x', kind: 'user', roles: ['staff'], unit: '33' },
        resource: { type: 'Dataset', id: 'd33', unit: '33' },
      }),
    );
    await t.deps.services.audit.appendDurable(
      entry({
        requestId: 'unit-32',
        principal: { sub: 'y', kind: 'user', roles: ['staff'], unit: '32.01' },
        resource: { type: 'Dataset', id: 'd32', unit: '32.01' },
      }),
    );
    const f = await follow(t, '/v1/audit/stream?after=0&event=decision', ppid32);
    await f.readUntil((text) => text.includes('"unit-32"'));
    const ids = f.items().map((i) => i.requestId);
    expect(ids).toContain('unit-32');
    expect(ids).not.toContain('unit-33');
    await f.cancel();

    const log = await t.request('GET', '/v1/audit/decisions?event=audit_read&principal=ppid-32', { token: auditor });
    expect(log.body.items.some((i: { resource: { id: string } }) => i.resource.id === 'stream')).toBe(true);
  });

  it('reads a page only when the client takes the last one: a slow reader holds memory to a page or two', async () => {
    const n = 1600; // more than three pages
    await Promise.all(
      Array.from({ length: n }, (_, i) => t.deps.services.audit.append(entry({ requestId: `bulk-${i}` }))),
    );
    await t.deps.services.audit.appendDurable(entry({ requestId: 'bulk-end' }));
    const before = t.deps.services.auditReads.streamStats();
    const f = await follow(t, '/v1/audit/stream?after=0&event=decision', auditor);
    await f.readChunk();
    await new Promise((r) => setTimeout(r, 300)); // the client does not read
    const stats = t.deps.services.auditReads.streamStats();
    expect(stats.open).toBe(before.open + 1);
    expect(stats.entriesRead - before.entriesRead).toBeLessThanOrEqual(1000);
    await f.readUntil((text) => text.includes('"bulk-end"'), 20_000);
    expect(f.items().filter((i) => i.requestId?.startsWith('bulk-'))).toHaveLength(n + 1);
    // The client goes away: the stream ends and its wait is cleared.
    await f.cancel();
    expect(t.deps.services.auditReads.streamStats().open).toBe(before.open);
  });

  it('over a real socket, a client that stops reading stops the reads: memory bounded by socket buffers and a page', async () => {
    const n = 30_000; // ~18 MB of NDJSON: more than the loopback socket buffers hold
    const before = t.deps.services.auditReads.streamStats();
    // Durable chunks: each waits for its commit, so a slow writer never finds the queue full.
    for (let i = 0; i < n; i += 2000)
      await Promise.all(
        Array.from({ length: Math.min(2000, n - i) }, (_, j) =>
          t.deps.services.audit.appendDurable(entry({ requestId: `sock-${i + j}` })),
        ),
      );
    await t.deps.services.audit.appendDurable(entry({ requestId: 'sock-end' }));
    const server = createNodeServer(t.app.fetch, { hostname: '127.0.0.1', logger: createLogger('silent') });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const socket = connect(port, '127.0.0.1');
    try {
      await new Promise<void>((r) => socket.once('connect', r));
      socket.write(
        `GET /v1/audit/stream?after=0&event=decision HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${auditor}\r\n\r\n`,
      );
      await new Promise<void>((r) => socket.once('data', () => r()));
      socket.pause(); // the client stops reading
      await new Promise((r) => setTimeout(r, 1500));
      const paused = t.deps.services.auditReads.streamStats().entriesRead - before.entriesRead;
      // Measured here: 5 500 entries read (what the loopback socket buffers took, plus a page).
      expect(paused).toBeGreaterThan(0);
      expect(paused).toBeLessThan(n / 2); // bounded by what the buffers hold, far from everything
      await new Promise((r) => setTimeout(r, 500));
      expect(t.deps.services.auditReads.streamStats().entriesRead - before.entriesRead).toBe(paused); // and stays there
      // Reading again, the rest arrives.
      let tail = '';
      socket.on('data', (d: Buffer) => (tail = (tail + d.toString('latin1')).slice(-200)));
      socket.resume();
      const until = Date.now() + 30_000;
      while (!tail.includes('sock-end') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(tail).toContain('sock-end');
    } finally {
      socket.destroy();
      await new Promise((r) => server.close(r));
    }
  }, 90_000);

  it('ends cleanly when the server begins to shut down', async () => {
    const other = await startApp(kind, { AUDIT_STREAM_POLL_MS: '5000', AUDIT_STREAM_HEARTBEAT_MS: '60000' });
    try {
      const f = await follow(other, '/v1/audit/stream', auditor);
      const pending = f.readUntil(() => false, 3000); // waiting in its idle poll
      const began = Date.now();
      other.deps.lifecycle.drain();
      await pending;
      expect(f.done).toBe(true);
      expect(Date.now() - began).toBeLessThan(1000);
      expect(other.deps.services.auditReads.streamStats().open).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('ends after AUDIT_STREAM_MAX_MS, so a long follower re-authenticates when it resumes', async () => {
    const other = await startApp(kind, { AUDIT_STREAM_POLL_MS: '20', AUDIT_STREAM_MAX_MS: '200' });
    try {
      const f = await follow(other, '/v1/audit/stream', auditor);
      await f.readUntil(() => false, 3000);
      expect(f.done).toBe(true);
    } finally {
      await other.close();
    }
  });
});

describe('a started server with a stream open', () => {
  it('ends the stream on SIGTERM and exits 0 at once, not after SHUTDOWN_TIMEOUT_MS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jaga-stream-'));
    const port = await freePort();
    const p = runScript('src/entry/node.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      JAGA_DATA_DIR: join(dir, 'data'),
      JWT_SECRET: TEST_JWT_SECRET,
      SHUTDOWN_TIMEOUT_MS: '8000',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, p);
      const res = await fetch(`http://127.0.0.1:${port}/v1/audit/stream?after=0`, {
        headers: { authorization: `Bearer ${auditor}` },
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      await reader.read(); // the first page: the stream is open and idle after it
      const began = Date.now();
      p.child.kill('SIGTERM');
      for (;;) if ((await reader.read()).done) break; // ends cleanly, no socket error
      expect(await p.exited, p.output()).toBe(0);
      expect(Date.now() - began).toBeLessThan(5000);
    } finally {
      p.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
