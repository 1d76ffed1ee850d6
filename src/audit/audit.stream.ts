import type { ChainedRow } from './audit.entry.ts';
import { toItem } from './audit.format.ts';

export type StreamFormat = 'ndjson' | 'sse';

/** What the decision-log stream is served as, by Accept: NDJSON unless Server-Sent Events are asked for. */
export const STREAM_OFFERS: Readonly<Record<string, StreamFormat>> = {
  'application/x-ndjson': 'ndjson',
  'text/event-stream': 'sse',
};

export const STREAM_CONTENT_TYPES: Record<StreamFormat, string> = {
  ndjson: 'application/x-ndjson',
  sse: 'text/event-stream; charset=utf-8',
};

/** Timing of a follow: how often an idle stream looks for new entries, when it sends a heartbeat, when it ends. */
export interface StreamTiming {
  pollMs: number;
  heartbeatMs: number;
  /** A stream ends after this long (the client resumes from its last seq, and its token and rights are checked again). */
  maxMs: number;
}

/** Entries per keyset page: what one pull reads and holds. */
export const STREAM_PAGE = 500;

export interface FollowSource extends StreamTiming {
  /** Entries after `seq`, at most `limit`, in chain order, within the caller's scope. */
  read(afterSeq: number, limit: number): Promise<ChainedRow[]>;
  after: number;
  format: StreamFormat;
  /** Aborted when the server begins to shut down: the stream ends at once. */
  stopping: AbortSignal;
  /** Once, however the stream ends, with the entries sent and the last seq sent. */
  onEnd?(how: 'stopped' | 'expired' | 'abandoned' | 'failed', sent: number, last: number): void;
  /** After each page read (tests and telemetry: how far ahead of the client the stream has read). */
  onPage?(rows: number): void;
}

function render(rows: ChainedRow[], format: StreamFormat): string {
  let out = '';
  for (const r of rows) {
    const json = JSON.stringify(toItem(r));
    out += format === 'sse' ? `id: ${r.seq}\ndata: ${json}\n\n` : json + '\n';
  }
  return out;
}

/**
 * Follows the audit log from `after`: each pull reads the next keyset page (seq > the last sent)
 * and hands it on whole, so at most one page is read ahead of what the client has taken (a slow
 * reader slows the reads; nothing piles up). When no entry is new, the pull waits `pollMs` and
 * looks again, sending a heartbeat (an empty NDJSON line, an SSE comment) once `heartbeatMs` pass
 * without output. Between reads no connection is held: each page is one query on the pool.
 * The stream ends (closed, not errored) on server shutdown, after `maxMs`, and on a failed read
 * (the client resumes from the last seq it got); a client that goes away cancels it, and any wait
 * ends at once.
 */
export function followLog(source: FollowSource): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const started = performance.now();
  let last = source.after;
  let sent = 0;
  let lastOutput = performance.now();
  let ended = false;
  /** Ends the current wait early (cancel, shutdown). */
  let wake: (() => void) | null = null;
  const onStop = () => wake?.();
  source.stopping.addEventListener('abort', onStop, { once: true });

  const end = (how: Parameters<NonNullable<FollowSource['onEnd']>>[0]) => {
    if (ended) return;
    ended = true;
    source.stopping.removeEventListener('abort', onStop);
    wake?.();
    source.onEnd?.(how, sent, last);
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      // Shutdown or cancel may have come while a read was in flight, when there was no wait to end.
      if (ended || source.stopping.aborted) return resolve();
      const timer = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
    });

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        // EventSource reconnects after this long (ms), sending the last id it saw as Last-Event-ID.
        if (source.format === 'sse') controller.enqueue(encoder.encode(`retry: ${Math.max(1000, source.pollMs)}\n\n`));
      },
      async pull(controller) {
        try {
          for (;;) {
            if (ended) return;
            if (source.stopping.aborted) return close(controller, 'stopped');
            const now = performance.now();
            if (now - started >= source.maxMs) return close(controller, 'expired');
            const rows = await source.read(last, STREAM_PAGE);
            if (ended) return;
            source.onPage?.(rows.length);
            if (rows.length) {
              controller.enqueue(encoder.encode(render(rows, source.format)));
              last = rows.at(-1)!.seq;
              sent += rows.length;
              lastOutput = performance.now();
              return; // the next page is read when the client has taken this one
            }
            if (performance.now() - lastOutput >= source.heartbeatMs) {
              controller.enqueue(encoder.encode(source.format === 'sse' ? ': heartbeat\n\n' : '\n'));
              lastOutput = performance.now();
              return;
            }
            const untilHeartbeat = source.heartbeatMs - (performance.now() - lastOutput);
            const untilEnd = source.maxMs - (performance.now() - started);
            await sleep(Math.max(1, Math.min(source.pollMs, untilHeartbeat, untilEnd)));
          }
        } catch {
          // A read failed (the database went away): end cleanly; the client resumes from `last`.
          close(controller, 'failed');
        }
      },
      cancel() {
        end('abandoned');
      },
    },
    // Nothing is read ahead of a pending read: one page at a time, when the client asks.
    { highWaterMark: 0 },
  );

  function close(controller: ReadableStreamDefaultController<Uint8Array>, how: 'stopped' | 'expired' | 'failed') {
    end(how);
    controller.close();
  }
}
