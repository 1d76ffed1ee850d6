import type { FieldError } from '../shared/errors.ts';
import {
  KIP_GROUND,
  TEST_TIMINGS,
  type ConsequenceTest,
  type DecideProposal,
  type ExemptionDecision,
  type ExemptionInput,
  type ExemptionPeriod,
} from './catalog.schema.ts';

/**
 * What an exemption record must hold to stand before the Information Commission (UU 14/2008
 * art. 17, 19, 20; domain.md §1), as pure functions: each returns every problem at once.
 */

/** The limits the law leaves to the body (configurable). */
export interface ExemptionLimits {
  /** Longest period of a ground-17a (law enforcement) exemption, in years (reported as 30). */
  lawEnforcementMaxYears: number;
  /** Furthest a review date may lie ahead, in months. */
  reviewMaxMonths: number;
}

export const DEFAULT_EXEMPTION_LIMITS: ExemptionLimits = { lawEnforcementMaxYears: 30, reviewMaxMonths: 12 };

/** Shortest text that can state a harm, an interest or a balance (a word or two cannot). */
const MIN_REASONING = 30;
const MIN_SHORT = 10;

/** A statute under 17j: an Undang-Undang (or Perppu) and the article relied on, e.g. `UU 7/2017 pasal 93`. */
const STATUTE = /^(UU|Undang-Undang|Perppu)\b.*\d.*\b(pasal|art\.?|article)\s*\d+/i;

/** The art. 17 letter of a ground (`17a.2` → `a`). */
export const groundLetter = (g: string): string => g.charAt(2);

/** Grounds a–f are never permanent (art. 20). */
const TEMPORARY = new Set(['a', 'b', 'c', 'd', 'e', 'f']);

function addMonths(iso: string, months: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d.toISOString().slice(0, 10);
}

const isIsoDate = (s: string | undefined): s is string =>
  typeof s === 'string' &&
  /^\d{4}-\d{2}-\d{2}$/.test(s) &&
  !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) &&
  new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;

function text(errors: FieldError[], path: string, value: string | undefined, min: number, what: string): void {
  if (value === undefined) errors.push({ path, message: `required: ${what}` });
  else if (value.length < min) errors.push({ path, message: `${what}: at least ${min} characters` });
}

function groundProblems(input: ExemptionInput, errors: FieldError[]): void {
  const grounds = input.grounds ?? [];
  if (grounds.length === 0) {
    errors.push({
      path: 'body.grounds',
      message:
        'an exemption needs one or more grounds: "17a" … "17j" (UU 14/2008 art. 17), a sub-clause may follow ("17a.2")',
    });
  }
  grounds.forEach((g, i) => {
    if (!KIP_GROUND.test(g)) {
      errors.push({
        path: `body.grounds.${i}`,
        message: `"${g.slice(0, 40)}" is not an art. 17 ground: use "17a" … "17j" (another statute is cited under "17j" with statute)`,
      });
    }
  });
  const cites17j = grounds.some((g) => KIP_GROUND.test(g) && groundLetter(g) === 'j');
  if (cites17j && input.statute === undefined) {
    errors.push({
      path: 'body.statute',
      message: 'ground 17j needs the statute and article relied on, e.g. "UU 7/2017 pasal 93"',
    });
  } else if (input.statute !== undefined && !cites17j) {
    errors.push({ path: 'body.statute', message: 'a statute is cited under ground "17j"; add it to grounds' });
  } else if (input.statute !== undefined && !STATUTE.test(input.statute)) {
    errors.push({
      path: 'body.statute',
      message: 'name an Undang-Undang and its article, e.g. "UU 7/2017 pasal 93" (art. 17 letter j)',
    });
  }
}

function testProblems(input: ExemptionInput, today: string, errors: FieldError[]): void {
  const t = input.consequenceTest ?? {};
  const at = 'body.consequenceTest.';
  text(errors, `${at}harm`, t.harm, MIN_REASONING, 'the harm disclosure would cause');
  text(errors, `${at}protectedInterest`, t.protectedInterest, MIN_SHORT, 'the interest the exemption protects');
  text(errors, `${at}publicInterest`, t.publicInterest, MIN_REASONING, 'the public interest in disclosure');
  text(errors, `${at}balance`, t.balance, MIN_REASONING, 'why withholding outweighs the public interest');
  text(errors, `${at}conclusion`, t.conclusion, MIN_SHORT, 'the conclusion of the test');
  if (t.timing === undefined || !(TEST_TIMINGS as readonly string[]).includes(t.timing)) {
    errors.push({ path: `${at}timing`, message: `one of ${TEST_TIMINGS.join(', ')}` });
  }
  if (t.testRecordNo === undefined) errors.push({ path: `${at}testRecordNo`, message: 'the test record’s number' });
  if (!isIsoDate(t.testDate)) errors.push({ path: `${at}testDate`, message: 'the test’s date (YYYY-MM-DD)' });
  else if (t.testDate > today)
    errors.push({ path: `${at}testDate`, message: 'the test cannot be dated in the future' });
  if (!t.participants || t.participants.length === 0) {
    errors.push({ path: `${at}participants`, message: 'who took part in the test (one or more)' });
  }
}

function periodProblems(input: ExemptionInput, today: string, limits: ExemptionLimits, errors: FieldError[]): void {
  const p = input.period;
  const at = 'body.period';
  if (!p) {
    errors.push({ path: at, message: 'the exemption period: { until } or { untilEvent } or { indefinite: true }' });
    return;
  }
  const given = (['until', 'untilEvent', 'indefinite'] as const).filter((k) => p[k] !== undefined);
  if (given.length !== 1) {
    errors.push({ path: at, message: 'exactly one of until, untilEvent, indefinite' });
    return;
  }
  const letters = new Set((input.grounds ?? []).filter((g) => KIP_GROUND.test(g)).map(groundLetter));
  if (p.indefinite !== undefined) {
    if (p.indefinite !== true) errors.push({ path: `${at}.indefinite`, message: 'indefinite is true when given' });
    const temporary = [...letters].filter((l) => TEMPORARY.has(l));
    if (temporary.length) {
      errors.push({
        path: `${at}.indefinite`,
        message: `exemptions under 17${temporary.join(', 17')} are not permanent (UU 14/2008 art. 20): give until or untilEvent`,
      });
    }
  }
  if (p.until !== undefined) {
    if (!isIsoDate(p.until)) errors.push({ path: `${at}.until`, message: 'an ISO date (YYYY-MM-DD)' });
    else if (p.until <= today) errors.push({ path: `${at}.until`, message: 'must be in the future' });
    else if (letters.has('a') && p.until > addMonths(today, 12 * limits.lawEnforcementMaxYears)) {
      errors.push({
        path: `${at}.until`,
        message: `a ground-17a exemption lasts at most ${limits.lawEnforcementMaxYears} years (until ${addMonths(today, 12 * limits.lawEnforcementMaxYears)})`,
      });
    }
  }
  if (p.untilEvent !== undefined && p.untilEvent.length < MIN_SHORT) {
    errors.push({ path: `${at}.untilEvent`, message: `the event that ends it: at least ${MIN_SHORT} characters` });
  }
}

/** Every problem of an exemption proposal (dataset or field); empty when it may be proposed. */
export function exemptionProblems(input: ExemptionInput, today: string, limits: ExemptionLimits): FieldError[] {
  const errors: FieldError[] = [];
  groundProblems(input, errors);
  testProblems(input, today, errors);
  periodProblems(input, today, limits, errors);
  if (!input.reviewBy) {
    errors.push({ path: 'body.reviewBy', message: 'an exemption needs a review date (ISO date)' });
  } else if (input.reviewBy <= today) {
    errors.push({ path: 'body.reviewBy', message: 'the review date must be in the future' });
  } else if (input.reviewBy > addMonths(today, limits.reviewMaxMonths)) {
    errors.push({
      path: 'body.reviewBy',
      message: `review at most ${limits.reviewMaxMonths} months ahead (by ${addMonths(today, limits.reviewMaxMonths)})`,
    });
  }
  return errors;
}

/** The stored record of a proposal that passed exemptionProblems. */
export function completeExemption(input: ExemptionInput): {
  grounds: string[];
  statute: string | null;
  consequenceTest: ConsequenceTest;
  period: ExemptionPeriod;
  liftConditions: string[];
  reviewBy: string;
} {
  const t = input.consequenceTest ?? {};
  const p = input.period ?? {};
  const period: ExemptionPeriod =
    p.until !== undefined
      ? { until: p.until }
      : p.untilEvent !== undefined
        ? { untilEvent: p.untilEvent }
        : { indefinite: true };
  return {
    grounds: input.grounds ?? [],
    statute: input.statute ?? null,
    consequenceTest: {
      harm: t.harm ?? '',
      protectedInterest: t.protectedInterest ?? '',
      publicInterest: t.publicInterest ?? '',
      balance: t.balance ?? '',
      conclusion: t.conclusion ?? '',
      timing: t.timing as ConsequenceTest['timing'],
      testRecordNo: t.testRecordNo ?? '',
      testDate: t.testDate ?? '',
      participants: t.participants ?? [],
    },
    period,
    liftConditions: input.liftConditions ?? [],
    reviewBy: input.reviewBy ?? '',
  };
}

/** The approval's decision, or every missing part of it. */
export function decisionOf(
  input: DecideProposal,
  today: string,
): { decision: ExemptionDecision } | { errors: FieldError[] } {
  const d = input.decision;
  const errors: FieldError[] = [];
  const at = 'body.decision.';
  if (!d) {
    errors.push({
      path: 'body.decision',
      message:
        'an approval records the decision: { ref, date, place, agreedBy: { name, position } } (the head of the body or the PPID’s superior agrees)',
    });
    return { errors };
  }
  if (d.ref === undefined) errors.push({ path: `${at}ref`, message: 'the decision’s reference (decree number)' });
  if (!isIsoDate(d.date)) errors.push({ path: `${at}date`, message: 'the decision’s date (YYYY-MM-DD)' });
  else if (d.date > today) errors.push({ path: `${at}date`, message: 'the decision cannot be dated in the future' });
  if (d.place === undefined) errors.push({ path: `${at}place`, message: 'where the decision was made' });
  if (d.agreedBy?.name === undefined) errors.push({ path: `${at}agreedBy.name`, message: 'who agreed (name)' });
  if (d.agreedBy?.position === undefined)
    errors.push({ path: `${at}agreedBy.position`, message: 'who agreed (position)' });
  if (errors.length) return { errors };
  return {
    decision: {
      ref: d.ref ?? '',
      date: d.date ?? '',
      place: d.place ?? '',
      agreedBy: { name: d.agreedBy?.name ?? '', position: d.agreedBy?.position ?? '' },
    },
  };
}
