import type { Attributes, Meter } from '@opentelemetry/api';
import type { AuditEntryInput, AuditLog } from './audit.port.ts';

// Attribute values come from closed lists, so a series per value stays bounded whatever callers send.
const CLASSIFICATIONS = new Set(['public', 'restricted', 'exempt']);
const classificationOf = (c: string | null | undefined) =>
  c == null ? 'unlabelled' : CLASSIFICATIONS.has(c) ? c : 'other';

const attributeCache = new Map<string, Attributes>();
function attributes(key: string, build: () => Attributes): Attributes {
  let a = attributeCache.get(key);
  if (!a) attributeCache.set(key, (a = Object.freeze(build())));
  return a;
}

/**
 * The audit log, counting what it records: access decisions by effect (`jaga.decisions`: checks,
 * batches, plans, AuthZEN, records reads) and disclosures by classification (`jaga.disclosures`).
 * Every decision and disclosure passes through the log, so counting here misses none; an entry is
 * counted once accepted. Wired only when a metric reader exists (src/wiring.ts): otherwise the log
 * is used bare and a check records nothing.
 */
export function meteredAuditLog(log: AuditLog, meter: Meter): AuditLog {
  const decisions = meter.createCounter('jaga.decisions', { description: 'Decisions recorded, by effect' });
  const disclosures = meter.createCounter('jaga.disclosures', {
    description: 'Disclosures (data that left Jaga) recorded, by the classification of what was read',
  });
  // A records read is logged as a disclosure when data left (allowed) and as a decision when refused:
  // both are access decisions.
  const count = (entry: AuditEntryInput) => {
    if (entry.event !== 'decision' && entry.event !== 'disclosure') return;
    decisions.add(
      1,
      attributes(`d ${entry.effect}`, () => ({ effect: entry.effect })),
    );
    if (entry.event === 'disclosure' && entry.effect === 'allow') {
      const classification = classificationOf(entry.resource.classification);
      disclosures.add(
        1,
        attributes(`x ${classification}`, () => ({ classification })),
      );
    }
  };
  const counted = <T>(entry: AuditEntryInput, p: Promise<T>): Promise<T> =>
    p.then((r) => {
      count(entry);
      return r;
    });
  const metered: AuditLog = {
    append: (entry) => counted(entry, log.append(entry)),
    appendDurable: (entry) => counted(entry, log.appendDurable(entry)),
    appendWithin: (tx, entry) => counted(entry, log.appendWithin(tx, entry)),
  };
  if (log.appendAll) {
    const appendAll = log.appendAll.bind(log);
    metered.appendAll = async (entries, durable) => {
      const ids = await appendAll(entries, durable);
      for (const e of entries) count(e);
      return ids;
    };
  }
  return metered;
}
