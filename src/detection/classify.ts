import { isEmail, isLandline, isMobile } from './contact.ts';
import { isBankAccount, isBpjs, isPassport } from './documents.ts';
import { hintFor, type Hint } from './hints.ts';
import { isFemaleNik, isKk, isNik } from './identity-numbers.ts';
import { isNip } from './nip.ts';
import { findSpans, mayHoldSpans } from './spans.ts';
import {
  isAddressLike,
  isAmount,
  isChildBirthDate,
  isCriminalValue,
  isHealthValue,
  isNameLike,
  isReligionValue,
  isSexValue,
  parseBirthDate,
} from './specific.ts';
import { isLegacyNpwp, isNpwp16 } from './tax.ts';
import { valueConfidence, verdict, type DetectorName, type Verdict } from './verdict.ts';

/**
 * One field's verdict from its name and a sample of its values: every detector runs over the
 * sample, the column-name hint raises the detectors it agrees with and unlocks the ones that
 * need context (passport, BPJS, bank accounts, bare NPWP); the most confident verdict wins,
 * specific data first on a tie. Pure: `now` is the scan time (children's birth dates, NIP dates).
 */
export interface FieldSample {
  name: string;
  type: string;
  values: readonly unknown[];
}

const SPECIFIC = new Set(['health', 'biometric', 'genetic', 'criminal_record', 'child', 'financial', 'other_specific']);

/** A value as text, or null for nothing (null, empty, objects). */
function textOf(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() === '' ? null : v;
  if (typeof v === 'number' && Number.isFinite(v)) return Number.isInteger(v) ? v.toFixed(0) : String(v);
  if (typeof v === 'boolean') return String(v);
  return null;
}

type Counter = Record<
  | 'nik'
  | 'femaleNik'
  | 'kk'
  | 'npwp'
  | 'nip'
  | 'mobile'
  | 'landline'
  | 'email'
  | 'passport'
  | 'bpjs'
  | 'bank'
  | 'health'
  | 'criminal'
  | 'sex'
  | 'religion'
  | 'name'
  | 'address'
  | 'birthdate'
  | 'child'
  | 'amount'
  | 'spans'
  | 'spanNik'
  | 'spanPhone'
  | 'spanEmail',
  number
>;

function count(values: readonly string[], hint: Hint | null, now: Date): Counter {
  const c: Counter = {
    nik: 0,
    femaleNik: 0,
    kk: 0,
    npwp: 0,
    nip: 0,
    mobile: 0,
    landline: 0,
    email: 0,
    passport: 0,
    bpjs: 0,
    bank: 0,
    health: 0,
    criminal: 0,
    sex: 0,
    religion: 0,
    name: 0,
    address: 0,
    birthdate: 0,
    child: 0,
    amount: 0,
    spans: 0,
    spanNik: 0,
    spanPhone: 0,
    spanEmail: 0,
  };
  const h = hint?.detector;
  for (const v of values) {
    const wholeId = countIdentifiers(v, h, now, c);
    if (wholeId) continue;
    if (isHealthValue(v)) c.health++;
    if (isCriminalValue(v)) c.criminal++;
    if (isSexValue(v)) c.sex++;
    else if (isReligionValue(v)) c.religion++;
    if (isNameLike(v)) c.name++;
    if (isAddressLike(v)) c.address++;
    if (parseBirthDate(v, now)) {
      c.birthdate++;
      if (isChildBirthDate(v, now)) c.child++;
    }
    if (isAmount(v)) c.amount++;
    if (v.length > 15 && mayHoldSpans(v)) {
      const spans = findSpans(v);
      if (spans.length > 0) {
        c.spans++;
        for (const s of spans) {
          if (s.category === 'nik') c.spanNik++;
          else if (s.category === 'phone') c.spanPhone++;
          else c.spanEmail++;
        }
      }
    }
  }
  return c;
}

/** The whole-value identifier checks; true when the value is one (nothing else to look for). */
function countIdentifiers(v: string, h: DetectorName | undefined, now: Date, c: Counter): boolean {
  const first = v.charCodeAt(0);
  const digitLed = (first >= 48 && first <= 57) || first === 43 || first === 40; // digit, +, (
  let hit = false;
  if (digitLed) {
    if (isNik(v)) {
      c.nik++;
      if (isFemaleNik(v)) c.femaleNik++;
      hit = true;
    }
    if (isKk(v)) {
      c.kk++;
      hit = true;
    }
    if (isLegacyNpwp(v, h === 'npwp') || (h === 'npwp' && isNpwp16(v))) {
      c.npwp++;
      hit = true;
    }
    if (isNip(v, now)) {
      c.nip++;
      hit = true;
    }
    if (isMobile(v)) {
      c.mobile++;
      hit = true;
    } else if (isLandline(v, h === 'phone')) {
      c.landline++;
      hit = true;
    }
    if (h === 'bpjs' && isBpjs(v)) {
      c.bpjs++;
      hit = true;
    }
    if (h === 'bank_account' && isBankAccount(v)) {
      c.bank++;
      hit = true;
    }
  } else {
    if (v.includes('@') && isEmail(v)) {
      c.email++;
      hit = true;
    }
    if (h === 'passport' && isPassport(v)) {
      c.passport++;
      hit = true;
    }
  }
  return hit;
}

/** The least share of sampled values a value detector must match to be said at all. */
const MIN_SHARE = 0.3;

export function classifyField(sample: FieldSample, now: Date): Verdict {
  const hint = hintFor(sample.name);
  const values: string[] = [];
  for (const raw of sample.values) {
    const t = textOf(raw);
    if (t !== null) values.push(t);
  }
  const n = values.length;
  const c = count(values, hint, now);
  const hd = hint?.detector;
  const hintWord = hint?.word ?? null;
  const candidates: Verdict[] = [];
  const byValue = (category: string, detector: DetectorName, matched: number, agreeing: boolean) => {
    if (n === 0 || matched / n < MIN_SHARE) return;
    candidates.push(
      verdict(category, detector, matched, n, valueConfidence(matched, n, agreeing), agreeing ? hintWord : null),
    );
  };
  /** Hint-led: the hint alone is fair evidence; a matching value shape makes it strong. */
  const byHint = (detector: DetectorName, category: string, matched: number) => {
    if (hd !== detector) return;
    const share = n === 0 ? 0 : matched / n;
    const confidence = share >= 0.5 ? 0.6 + 0.35 * share : 0.6;
    candidates.push(verdict(category, detector, matched, n, confidence, hintWord));
  };

  // NIK and KK share a structure: a KK hint (and no woman's date) makes it a KK, an NPWP hint an NPWP.
  if (hd === 'kk' && c.femaleNik === 0) byValue('kk', 'kk', c.kk, true);
  else if (hd === 'npwp') byValue('npwp', 'npwp', c.npwp, true);
  else byValue('nik', 'nik', c.nik, hd === 'nik');
  if (hd !== 'npwp') byValue('npwp', 'npwp', c.npwp, false);
  byValue('nip', 'nip', c.nip, hd === 'nip');
  byValue('phone', 'phone', c.mobile + c.landline, hd === 'phone');
  byValue('email', 'email', c.email, hd === 'email');
  if (hd === 'passport') byValue('passport', 'passport', c.passport, true);
  if (hd === 'bpjs') byValue('bpjs', 'bpjs', c.bpjs, true);
  if (hd === 'bank_account') byValue('financial', 'bank_account', c.bank, true);
  byValue('other_general', 'sex', c.sex, hd === 'sex');
  byValue('other_general', 'religion', c.religion, hd === 'religion');
  byValue('health', 'health', c.health, hd === 'health');
  byValue('criminal_record', 'criminal_record', c.criminal, hd === 'criminal_record');

  byHint('name_hint', 'name', c.name);
  byHint('birthplace', 'other_general', c.name);
  byHint('address', 'address', c.address);
  byHint('financial', 'financial', c.amount);
  byHint('biometric', 'biometric', 0);
  byHint('genetic', 'genetic', 0);
  if (hd === 'health' && c.health / Math.max(n, 1) < MIN_SHARE) byHint('health', 'health', c.health);
  if (hd === 'criminal_record' && c.criminal / Math.max(n, 1) < MIN_SHARE)
    byHint('criminal_record', 'criminal_record', c.criminal);
  if (hd === 'birthdate' || (n > 0 && c.birthdate / n >= 0.9 && sample.type !== 'datetime' && hd !== undefined)) {
    // Any child's birth date makes the field children's data (specific).
    if (c.child > 0) candidates.push(verdict('child', 'child', c.child, n, hd === 'birthdate' ? 0.95 : 0.8, hintWord));
    else byHint('birthdate', 'birthdate', c.birthdate);
  }

  // Identifiers inside free text, only where no whole-value verdict is strong.
  const strong = candidates.some((x) => x.confidence >= 0.5);
  if (!strong && c.spans > 0) {
    const category =
      c.spanNik >= c.spanPhone && c.spanNik >= c.spanEmail ? 'nik' : c.spanPhone >= c.spanEmail ? 'phone' : 'email';
    const v = verdict(category, 'text_spans', c.spans, n, 0.9, null);
    v.spans = true;
    candidates.push(v);
  }

  let best: Verdict | null = null;
  for (const x of candidates) {
    if (
      best === null ||
      x.confidence > best.confidence ||
      (x.confidence === best.confidence && SPECIFIC.has(x.category) && !SPECIFIC.has(best.category))
    )
      best = x;
  }
  return (
    best ?? { category: 'none', confidence: n === 0 ? 0 : 0.9, evidence: { detector: 'none', matched: 0, sampled: n } }
  );
}
