import type { Engine } from './engine.ts';
import type { Decision, DecisionInput, FieldAttributes, FieldDecision } from './engine.types.ts';
import type { Principal } from '../identity/principal.ts';

/**
 * Refusals cite the law (UU 14/2008 art. 17; Perki 1/2021: every withheld part states its
 * reason): what is withheld because of an exemption names the exemption record (DIK number) and
 * its grounds; personal data withheld from the public cites art. 17 letter h and UU 27/2022. The
 * exemptions in force are held in memory with the catalog (no database round trip per check).
 */
export interface ExemptionCitation {
  /** null while the exemption is proposed and pending a PPID's decision. */
  dikNo: string | null;
  grounds: readonly string[];
  statute: string | null;
}

export interface ExemptionIndex {
  /** The exemption of a field (its own) or of the whole dataset (field undefined). */
  of(datasetId: string, field?: string): ExemptionCitation | undefined;
}

/** An exemption in words: `exempt information DIK/32/2026/4 (UU 14/2008 art. 17: 17a.1, 17j (UU 7/2017 pasal 93))`. */
export function citeExemption(c: ExemptionCitation): string {
  const grounds = c.grounds.join(', ');
  const statute = c.statute ? ` (${c.statute})` : '';
  return c.dikNo
    ? `exempt information ${c.dikNo} (UU 14/2008 art. 17: ${grounds}${statute})`
    : `exemption proposed under UU 14/2008 art. 17 (${grounds}${statute}), pending the PPID's decision`;
}

/** Personal data the public may not have: exempt as personal secrets, processed under UU PDP. */
export function citePersonalData(kind: string): string {
  return `personal data (${kind === 'specific' ? 'specific, UU 27/2022 art. 4(2)' : 'UU 27/2022 art. 4(3)'}) is exempt from public disclosure under UU 14/2008 art. 17 letter h`;
}

/** The citation for a withheld field, or null when no exemption or personal-data rule explains it. */
export function fieldCitation(
  index: ExemptionIndex | null,
  principal: Principal,
  field: Pick<FieldAttributes, 'datasetId' | 'name' | 'classification' | 'personalDataKind'>,
): string | null {
  if (field.classification === 'exempt') {
    const c = index?.of(field.datasetId, field.name) ?? index?.of(field.datasetId);
    if (c) return citeExemption(c);
  }
  if (principal.kind === 'anonymous' && field.personalDataKind !== 'none')
    return citePersonalData(field.personalDataKind);
  return null;
}

function cited(d: FieldDecision, citation: string | null): FieldDecision {
  return d.outcome === 'omitted' && citation ? { ...d, reason: `${citation}; ${d.reason}` } : d;
}

/** The engine whose refusals cite the exemption or the personal-data rule that withholds. */
export function withCitations(engine: Engine, index: () => ExemptionIndex | null): Engine {
  function decide(input: DecisionInput, d: Decision): Decision {
    const r = input.resource ?? {};
    let citation: string | null = null;
    if (input.subject === 'Field' && input.action === 'read' && typeof r.datasetId === 'string') {
      citation = fieldCitation(index(), input.principal, {
        datasetId: r.datasetId,
        name: String(r.name),
        classification: (r.classification ?? null) as FieldAttributes['classification'],
        personalDataKind: (r.personalDataKind ?? 'specific') as FieldAttributes['personalDataKind'],
      });
    } else if (r.classification === 'exempt') {
      const id = input.subject === 'Dataset' ? r.id : r.datasetId;
      const c = typeof id === 'string' ? index()?.of(id) : undefined;
      if (c) citation = citeExemption(c);
    }
    const refused = !d.allow || (input.subject === 'Field' && d.fields.denied.length > 0);
    return refused && citation ? { ...d, reason: `${citation}; ${d.reason}` } : d;
  }
  return {
    ...engine,
    decide: (input) => decide(input, engine.decide(input)),
    explain(input) {
      const e = engine.explain(input);
      return { ...e, decision: decide(input, e.decision) };
    },
    decideFields(principal, fields, purpose) {
      const ix = index();
      return engine
        .decideFields(principal, fields, purpose)
        .map((d, i) => cited(d, fieldCitation(ix, principal, fields[i]!)));
    },
  };
}
