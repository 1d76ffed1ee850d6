import { Worker } from 'node:worker_threads';
import type { Piece, PieceWalkers, StartPieceWalkers, Walked } from './audit.verify.ts';

// Node with PostgreSQL only: the composition of the Node entry (boot.ts) and the CLI pass this to
// the verifier. The Workers bundle never imports it (no threads there), nor does the embedded
// PGlite use it (one connection, in this process).

export interface VerifyWorkerData {
  url: string;
  connectTimeoutS: number;
  statementTimeoutMs: number;
  hmacKey: string | undefined;
}
export type ToVerifyWorker = { type: 'walk'; piece: Piece } | { type: 'stop' } | { type: 'close' };
export type FromVerifyWorker =
  { type: 'page'; checked: number } | { type: 'done'; walked: Walked } | { type: 'error'; message: string };

export interface VerifyWorkerOptions {
  /** The database the app uses (its URL carries the TLS settings, as for the app's own pool). */
  url: string;
  connectTimeoutS: number;
  /** Bounds each page a worker reads. */
  statementTimeoutMs?: number;
  /**
   * Longest silence of a worker walking a piece (its start-up included): past it the worker is
   * ended and its piece counts as not verified. Longer than a page's statement timeout and a
   * connect, so a slow but live worker reports its own error first.
   */
  stallMs?: number;
  /** The worker's module (default: beside this one, from the sources or the bundle). */
  script?: URL;
  /** Sees each worker as it starts. */
  onStart?: (worker: Worker) => void;
}

const STATEMENT_TIMEOUT_MS = 30_000;
const CLOSE_WAIT_MS = 5000;

/**
 * The worker's module: run from the TypeScript sources (tests, the CLI) it is the .ts file beside
 * this one; from the bundle (dist/node/jaga.mjs, scripts/build.ts) it is the bundled worker beside it.
 */
export function verifyWorkerScript(moduleUrl: string = import.meta.url): URL {
  return moduleUrl.endsWith('.ts')
    ? new URL('./audit.verify-worker.ts', moduleUrl)
    : new URL('./audit-verify-worker.mjs', moduleUrl);
}

/**
 * Walks each piece of a parallel verification in a worker thread with its own connection: the
 * main thread only hands out pieces and adds up the counts. Workers start when first needed (at
 * most one per piece walked at once) and end with the walk. A worker that fails, exits or stays
 * silent past `stallMs` is ended and its piece rejected: never counted intact.
 */
export function verifyInWorkers(o: VerifyWorkerOptions): StartPieceWalkers {
  const statementTimeoutMs = o.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS;
  const stallMs = o.stallMs ?? statementTimeoutMs * 2 + o.connectTimeoutS * 1000;
  return (hmacKey): PieceWalkers => {
    const idle: Worker[] = [];
    const all = new Set<Worker>();
    const start = () => {
      const data: VerifyWorkerData = { url: o.url, connectTimeoutS: o.connectTimeoutS, statementTimeoutMs, hmacKey };
      const worker = new Worker(o.script ?? verifyWorkerScript(), { workerData: data });
      all.add(worker);
      // An idle worker that fails is dropped; one walking a piece also fails that piece (below).
      worker.on('error', () => {});
      worker.on('exit', () => {
        all.delete(worker);
        if (idle.includes(worker)) idle.splice(idle.indexOf(worker), 1);
      });
      o.onStart?.(worker);
      return worker;
    };
    return {
      walk(piece, on) {
        const worker = idle.pop() ?? start();
        return new Promise<Walked>((resolve, reject) => {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const cleanup = () => {
            clearTimeout(timer);
            worker.off('message', onMessage);
            worker.off('error', onError);
            worker.off('exit', onExit);
          };
          const fail = (error: Error) => {
            cleanup();
            void worker.terminate();
            reject(error);
          };
          const arm = () => {
            clearTimeout(timer);
            timer = setTimeout(
              () =>
                fail(
                  new Error(`the verification worker walking from entry ${piece.from} was silent for ${stallMs} ms`),
                ),
              stallMs,
            );
          };
          const onMessage = (m: FromVerifyWorker) => {
            if (m.type === 'page') {
              arm();
              on.onPage(m.checked);
              // An earlier piece broke meanwhile: this one's figures are not needed.
              if (on.stopBefore() < piece.from) worker.postMessage({ type: 'stop' } satisfies ToVerifyWorker);
            } else {
              cleanup();
              idle.push(worker); // still sound: its walk ended (an error is the database's)
              if (m.type === 'done') resolve(m.walked);
              else reject(new Error(m.message));
            }
          };
          const onError = (error: Error) => fail(error);
          const onExit = (code: number) =>
            fail(new Error(`the verification worker walking from entry ${piece.from} exited (code ${code})`));
          worker.on('message', onMessage);
          worker.on('error', onError);
          worker.on('exit', onExit);
          arm();
          worker.postMessage({ type: 'walk', piece } satisfies ToVerifyWorker);
        });
      },
      async close() {
        await Promise.all(
          [...all].map(async (worker) => {
            const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
            worker.postMessage({ type: 'close' } satisfies ToVerifyWorker);
            const timer = setTimeout(() => void worker.terminate(), CLOSE_WAIT_MS);
            await exited;
            clearTimeout(timer);
          }),
        );
      },
    };
  };
}
