import { parse as parseCsv } from 'csv-parse';
import { Readable } from 'node:stream';
import { DomainError } from '../shared/errors.ts';

/** One record as it came off the wire, with the line it starts on (1-based). */
export interface RawRecord {
  line: number;
  /** An object for JSON/NDJSON; for CSV, the header's names mapped to the cell texts. */
  value: unknown;
  /** CSV cells are text; JSON values carry their own types. */
  fromText: boolean;
}

export type UploadFormat = 'json' | 'ndjson' | 'csv';

/** The upload format from a Content-Type header, or null when it is not one we take. */
export function uploadFormat(contentType: string | undefined): UploadFormat | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return 'json';
  if (type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl') return 'ndjson';
  if (type === 'text/csv') return 'csv';
  return null;
}

/** Largest single record we buffer while splitting (a record, not the whole body). */
const MAX_RECORD_CHARS = 1 << 20;

async function* textChunks(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of body) yield decoder.decode(chunk, { stream: true });
    const rest = decoder.decode();
    if (rest) yield rest;
  } catch (error) {
    if (error instanceof TypeError) throw new DomainError('MALFORMED_BODY', 'The body is not valid UTF-8.');
    throw error;
  }
}

function parseJsonAt(text: string, line: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new DomainError('MALFORMED_BODY', `line ${line}: not valid JSON (${(error as Error).message}).`, {
      errors: [{ path: `line ${line}`, message: 'not valid JSON' }],
    });
  }
}

/** NDJSON: one JSON value per line; blank lines are skipped. Holds one line at a time. */
export async function* splitNdjson(body: AsyncIterable<Uint8Array>): AsyncGenerator<RawRecord> {
  let pending = '';
  let line = 0;
  for await (const text of textChunks(body)) {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      line++;
      const one = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (one) yield { line, value: parseJsonAt(one, line), fromText: false };
    }
    if (pending.length > MAX_RECORD_CHARS)
      throw new DomainError(
        'MALFORMED_BODY',
        `line ${line + 1}: a record is longer than ${MAX_RECORD_CHARS} characters.`,
      );
  }
  line++;
  if (pending.trim()) yield { line, value: parseJsonAt(pending.trim(), line), fromText: false };
}

/**
 * A JSON array, split into its elements without holding the array: a small state machine
 * tracks nesting depth and strings, and each top-level element's text is parsed on its own.
 */
export async function* splitJsonArray(body: AsyncIterable<Uint8Array>): AsyncGenerator<RawRecord> {
  let state: 'before' | 'between' | 'element' | 'after' = 'before';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let line = 1;
  let startLine = 1;
  let buf = '';
  const bad = (what: string) =>
    new DomainError('MALFORMED_BODY', `line ${line}: ${what}.`, { errors: [{ path: `line ${line}`, message: what }] });

  for await (const text of textChunks(body)) {
    let start = -1; // where the current element's text starts in this chunk
    if (state === 'element') start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 10) line++;
      if (state === 'element') {
        if (inString) {
          if (escaped) escaped = false;
          else if (ch === 92) escaped = true;
          else if (ch === 34) inString = false;
          continue;
        }
        if (ch === 34) inString = true;
        else if (ch === 123 || ch === 91) depth++;
        else if (ch === 125 || ch === 93 || ch === 44) {
          if (depth > 0 && ch !== 44) {
            depth--;
            continue;
          }
          if (depth > 0) continue;
          // A top-level ',' or the closing ']' ends the element.
          buf += text.slice(start, i);
          yield { line: startLine, value: parseJsonAt(buf, startLine), fromText: false };
          buf = '';
          start = -1;
          state = ch === 44 ? 'between' : 'after';
        }
        continue;
      }
      if (ch === 32 || ch === 9 || ch === 10 || ch === 13 || ch === 0xfeff) continue;
      if (state === 'before') {
        if (ch !== 91) throw bad('the body must be a JSON array of records');
        state = 'between';
        continue;
      }
      if (state === 'between') {
        if (ch === 93 && buf === '') {
          state = 'after';
          continue;
        }
        state = 'element';
        startLine = line;
        depth = 0;
        start = i;
        i--; // re-read this character as part of the element
        continue;
      }
      throw bad('unexpected text after the closing ]');
    }
    if (state === 'element' && start >= 0) {
      buf += text.slice(start);
      if (buf.length > MAX_RECORD_CHARS) throw bad(`a record is longer than ${MAX_RECORD_CHARS} characters`);
    }
  }
  if ((state as string) !== 'after') throw bad('the JSON array is not closed');
}

/** CSV with a header row (csv-parse, streamed). Each record maps header names to cell texts. */
export async function* splitCsv(body: AsyncIterable<Uint8Array>): AsyncGenerator<RawRecord | { header: string[] }> {
  const parser = parseCsv({ bom: true, skip_empty_lines: true, info: true, max_record_size: MAX_RECORD_CHARS });
  const source = Readable.from(body);
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);
  let header: string[] | null = null;
  try {
    for await (const row of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!header) {
        header = row.record.map((h) => h.trim());
        yield { header };
        continue;
      }
      const value: Record<string, string> = {};
      header.forEach((name, i) => (value[name] = row.record[i] ?? ''));
      yield { line: row.info.lines, value, fromText: true };
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    const e = error as { code?: string; lines?: number; message: string };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new DomainError('MALFORMED_BODY', `CSV: ${e.message}`, {
        errors: [{ path: `line ${e.lines ?? '?'}`, message: e.message }],
      });
    }
    throw error;
  } finally {
    source.destroy();
  }
}
