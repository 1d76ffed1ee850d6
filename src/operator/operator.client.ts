import { request, type IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { CheckpointInput, VerifyResult } from '../audit/audit.verify.ts';
import type { Config } from '../config/config.ts';
import { DataDirLockedError, describeHolder, liveHolder, type LockHolder } from '../db/data-dir-lock.ts';
import type { FieldError, Problem } from '../http/problem.ts';
import type { OperatorStatus, VerifyLine } from './operator.schema.ts';

/** A refusal from the server, as its problem+json said it. */
export class OperatorError extends Error {
  override name = 'OperatorError';
  readonly code: string;
  readonly errors: FieldError[];
  constructor(problem: Partial<Problem>, status: number) {
    super(problem.detail ?? `the server answered ${status}`);
    this.code = problem.code ?? `HTTP_${status}`;
    this.errors = problem.errors ?? [];
  }
}

export interface OperatorClient {
  /** The server, as its lock names it. */
  holder: LockHolder;
  status(): Promise<OperatorStatus>;
  importRecords(o: {
    dataset: string;
    format: string;
    sub: string;
    unit?: string | undefined;
    body: Readable;
  }): Promise<{ inserted: number }>;
  verify(o: {
    checkpoint?: CheckpointInput | undefined;
    fromCheckpoint: boolean;
    onProgress?: (checked: number, total: number) => void;
  }): Promise<VerifyResult>;
}

const CONNECT_TIMEOUT_MS = 5_000;
/** No byte either way for this long ends a request (an upload or a chain walk streams throughout). */
const IDLE_TIMEOUT_MS = 120_000;
/** How long to wait for a server that holds the folder but is still starting. */
const STARTING_WAIT_MS = 20_000;

/**
 * For a CLI about to use the embedded database: the running server to go through, or null to open
 * the folder itself (DATABASE_URL is set, or nobody holds the folder, or its holder is gone).
 * Throws DataDirLockedError when another CLI holds the folder, or a server that never opens its
 * operator socket.
 */
export async function runningServer(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  waitMs = STARTING_WAIT_MS,
): Promise<OperatorClient | null> {
  if (config.databaseUrl) return null;
  const dir = resolve(config.dataDir);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const holder = liveHolder(dir);
    if (!holder) return null;
    const who = describeHolder(holder);
    if (holder.host !== hostname()) {
      throw new DataDirLockedError(
        dir,
        holder,
        `The embedded database in ${dir} is locked by ${who}; a CLI can only reach a server on this host. If no process on ${holder.host} uses the folder, delete ${dir}/jaga.lock.`,
      );
    }
    if (holder.socket) return operatorClient(holder);
    if (holder.command !== 'server') {
      throw new DataDirLockedError(
        dir,
        holder,
        `The embedded database in ${dir} is in use by ${who}; PGlite serves one process at a time: wait for it to finish.`,
      );
    }
    if (Date.now() > deadline) {
      throw new DataDirLockedError(
        dir,
        holder,
        `The embedded database in ${dir} is held by ${who}, which has not opened its operator socket after ${Math.round(waitMs / 1000)} s; try again once it serves.`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function operatorClient(holder: LockHolder): OperatorClient {
  const socketPath = holder.socket;
  if (!socketPath) throw new Error('this server has no operator socket');
  const where = `the running Jaga server (pid ${holder.pid}) on its operator socket ${socketPath}`;

  function send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: Readable | string,
  ): Promise<IncomingMessage> {
    return new Promise((resolvePromise, reject) => {
      // A fresh connection per request (agent: false): a CLI makes one or two.
      const req = request({
        socketPath,
        method,
        path,
        agent: false,
        headers: { ...headers, authorization: `Bearer ${holder.token}` },
      });
      const connectTimer = setTimeout(
        () => req.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`)),
        CONNECT_TIMEOUT_MS,
      );
      req.once('socket', (socket) => {
        if (socket.connecting) socket.once('connect', () => clearTimeout(connectTimer));
        else clearTimeout(connectTimer);
        socket.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no answer for ${IDLE_TIMEOUT_MS / 1000} s`)));
      });
      req.once('response', (res) => {
        clearTimeout(connectTimer);
        resolvePromise(res);
      });
      // Not once: an upload the server refused early may fail again (EPIPE) after the answer came.
      req.on('error', (error) => {
        clearTimeout(connectTimer);
        reject(new Error(`could not reach ${where}: ${error.message}`, { cause: error }));
      });
      if (body === undefined) req.end();
      else if (typeof body === 'string') req.end(body);
      else {
        body.once('error', (error) => req.destroy(error));
        body.pipe(req);
      }
    });
  }

  async function text(res: IncomingMessage): Promise<string> {
    let out = '';
    res.setEncoding('utf8');
    for await (const chunk of res) out += chunk as string;
    return out;
  }

  /** The JSON answer of a 2xx; an OperatorError from problem+json otherwise. */
  async function json<T>(res: IncomingMessage): Promise<T> {
    const body = await text(res);
    const status = res.statusCode ?? 0;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new Error(`${where} answered ${status} with a body that is not JSON`);
    }
    if (status >= 200 && status < 300) return parsed as T;
    throw new OperatorError(parsed as Partial<Problem>, status);
  }

  return {
    holder,
    async status() {
      return json<OperatorStatus>(await send('GET', '/operator/status', {}));
    },
    async importRecords(o) {
      const q = new URLSearchParams({
        format: o.format,
        sub: o.sub,
        ...(o.unit === undefined ? {} : { unit: o.unit }),
      });
      const res = await send(
        'POST',
        `/operator/datasets/${encodeURIComponent(o.dataset)}/records?${q}`,
        { 'content-type': 'application/octet-stream' },
        o.body,
      );
      return json<{ inserted: number }>(res);
    },
    async verify(o) {
      const body = JSON.stringify({
        ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}),
        fromCheckpoint: o.fromCheckpoint,
      });
      const res = await send('POST', '/operator/audit/verify', { 'content-type': 'application/json' }, body);
      if (res.statusCode !== 200) return json<never>(res);
      let buffered = '';
      res.setEncoding('utf8');
      for await (const chunk of res) {
        buffered += chunk as string;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = JSON.parse(buffered.slice(0, nl)) as VerifyLine;
          buffered = buffered.slice(nl + 1);
          if ('progress' in line) o.onProgress?.(line.progress.checked, line.progress.total);
          else if ('result' in line) return line.result;
          else throw new OperatorError(line.error, line.error.status);
        }
      }
      throw new Error(`${where} ended the verification without a result`);
    },
  };
}
