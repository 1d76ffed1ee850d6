import { isEmail, isMobile } from './contact.ts';
import { isNik } from './identity-numbers.ts';

/**
 * Identifiers inside free text (`keterangan`, `uraian`): each candidate is validated by the same
 * structure checks as a whole value, and reported as a span so a mask can redact just it.
 */
export interface Span {
  start: number;
  end: number;
  category: 'nik' | 'phone' | 'email';
}

// Candidates: 16 digits possibly grouped by spaces, dots or dashes; phone numbers; e-mail addresses.
// Every alternative starts only where a run of its characters starts (the look-behinds) and every
// repetition is bounded, so a long value costs linear time (an unbounded local part made a 50 000-
// character run of letters cost seconds: each position started a scan to the run's end).
const CANDIDATE =
  /(?<![\w@.])(?:\d[\s.-]?){15}\d(?!\w)|(?<![\w+])(?:\+62|62|0)[\s-]?8[\d\s-]{7,15}\d(?!\w)|(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}/g;

export function findSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const m of text.matchAll(CANDIDATE)) {
    const s = m[0];
    const start = m.index;
    let category: Span['category'] | null = null;
    if (s.includes('@')) category = isEmail(s) ? 'email' : null;
    else if (isNik(s)) category = 'nik';
    else if (isMobile(s)) category = 'phone';
    if (category) spans.push({ start, end: start + s.length, category });
  }
  return spans;
}

/** Quick test: may `text` hold a span at all (digits in a run, or an @)? */
export function mayHoldSpans(text: string): boolean {
  return text.includes('@') || /\d{4}/.test(text);
}

/** The text with every span replaced by a marker naming its category (never part of the value). */
export function redactSpans(text: string): string {
  const spans = findSpans(text);
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + `[${s.category}]`;
    at = s.end;
  }
  return out + text.slice(at);
}
