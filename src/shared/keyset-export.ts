/**
 * One way to stream an export read in keyset pages (records, audit entries): each page is read
 * after the previous page's last key and rendered to text as its rows arrive, the next page is
 * read while the current one is sent, and the stream ends cleanly (errored, never hanging) when a
 * page fails.
 */

/** How a page ended: its row count, the key after which the next page starts, whether more follow. */
export interface PageEnd<Key> {
  rows: number;
  last: Key;
  more: boolean;
}

/** Takes one row's text; the exporter batches and encodes it. */
export type Emit = (text: string) => void;

/** How an export ended, for the caller's record: read to the end, abandoned by the client, or failed. */
export type ExportEnd = 'complete' | 'abandoned' | 'failed';

export interface KeysetSource<Key> {
  /** Text before the first row (a CSV header). */
  head?: string;
  /** A page already read (so a failing query could still answer with a problem), rendered on the first pull. */
  first?: { end: PageEnd<Key>; render: (emit: Emit) => void };
  /** Where to start when there is no `first` page. */
  start: Key;
  /** Reads the page after `after` and emits each row as it is decoded; resolves when the page ends. */
  next: (after: Key, emit: Emit) => Promise<PageEnd<Key>>;
  /** Called once, however the export ends, with the rows handed to the response and the last key sent. */
  onEnd?: (end: ExportEnd, rows: number, last: Key) => void;
  onError?: (error: unknown) => void;
}

/** Rows become bytes in slices of this many rows: a page as one string would be a large object on the heap. */
const RENDER_SLICE = 200;

/** Collects rows' text and hands it on encoded, one slice at a time. */
function slicer(push: (chunk: Uint8Array) => void) {
  const encoder = new TextEncoder();
  let out = '';
  let n = 0;
  return {
    emit: (text: string) => {
      out += text;
      if (++n % RENDER_SLICE === 0) {
        push(encoder.encode(out));
        out = '';
      }
    },
    end() {
      if (out) push(encoder.encode(out));
      out = '';
    },
  };
}

/** A page read and rendered ahead, held as encoded chunks until the stream asks for it. */
interface RenderedPage<Key> extends PageEnd<Key> {
  chunks: Uint8Array[];
}

export function keysetExport<Key>(source: KeysetSource<Key>): ReadableStream<Uint8Array> {
  const readAhead = (after: Key): Promise<RenderedPage<Key>> => {
    const chunks: Uint8Array[] = [];
    const slices = slicer((chunk) => chunks.push(chunk));
    const page = source.next(after, slices.emit).then((end) => (slices.end(), { ...end, chunks }));
    page.catch(() => {}); // awaited by the next pull; a cancelled stream must not leave it unhandled
    return page;
  };
  let head = source.head;
  let first = source.first;
  let ahead: Promise<RenderedPage<Key>> | null = first ? null : readAhead(source.start);
  let last = first ? first.end.last : source.start;
  let done = false;
  let sent = 0;
  let ended = false;
  const end = (how: ExportEnd) => {
    if (ended) return;
    ended = true;
    source.onEnd?.(how, sent, last);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (head !== undefined) {
            controller.enqueue(new TextEncoder().encode(head));
            head = undefined;
          }
          if (first) {
            const page = first;
            first = undefined;
            done = !page.end.more;
            ahead = done ? null : readAhead(page.end.last); // read while this page is rendered and sent
            const slices = slicer((chunk) => controller.enqueue(chunk));
            page.render(slices.emit);
            slices.end();
            sent += page.end.rows;
          } else if (ahead) {
            const page = await ahead;
            done = !page.more;
            last = page.last;
            ahead = done ? null : readAhead(last);
            for (const chunk of page.chunks) controller.enqueue(chunk);
            sent += page.rows;
          } else done = true;
          if (done) {
            end('complete');
            controller.close();
          }
        } catch (error) {
          source.onError?.(error);
          end('failed');
          controller.error(error);
        }
      },
      cancel() {
        end('abandoned'); // the client went away mid-export
      },
    },
    { highWaterMark: 1 },
  );
}
