import { csvLine } from '../shared/csv.ts';

/** What the registers are served as, by Accept (src/http/negotiate.ts); JSON unless asked otherwise. */
export const REGISTER_OFFERS: Readonly<Record<string, 'json' | 'csv'>> = {
  'application/json': 'json',
  'text/csv': 'csv',
};

/**
 * A register as a CSV stream: the first page is read before the answer starts (so a failure is
 * still a problem+json), the rest one page at a time as the client reads; never the whole list
 * in memory.
 */
export async function csvStream<T>(
  header: string[],
  row: (item: T) => unknown[],
  next: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
): Promise<ReadableStream<Uint8Array>> {
  const encoder = new TextEncoder();
  let page: { items: T[]; nextCursor: string | null } | null = await next(undefined);
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(csvLine(header)));
      }
      if (page === null) {
        controller.close();
        return;
      }
      const current: { items: T[]; nextCursor: string | null } = page;
      if (current.items.length) controller.enqueue(encoder.encode(current.items.map((i) => csvLine(row(i))).join('')));
      page = current.nextCursor ? await next(current.nextCursor) : null;
    },
  });
}
