import type { Engine } from './engine.ts';
import type { Decision, DecisionInput, FieldAttributes, FieldDecision } from './engine.types.ts';
import type { PolicyService } from './policy.service.ts';
import { withCitations, type ExemptionIndex } from './citations.ts';

/**
 * The register of processing purposes (UU 27/2022 art. 20 and 31) as decisions see it: a purpose
 * discloses personal or exempt data only when it is registered, and registered for that dataset
 * and category. An unregistered purpose counts as no purpose (the engine then withholds what needs
 * one), and the reason says why. Held in memory (src/purposes/purposes.cache.ts): no database
 * round trip per check.
 */
export interface RegisteredPurpose {
  id: string;
  lawfulBasis: string;
  /** Empty: any dataset. */
  datasets: readonly string[];
  /** Empty: any personal-data category. */
  categories: readonly string[];
}

export interface PurposeRegister {
  get(id: string): RegisteredPurpose | undefined;
}

/** Why `purpose` may not be used for a dataset (and a field's category), or null when it may. */
export function unregisteredReason(
  register: PurposeRegister | null,
  purpose: string,
  datasetId: unknown,
  category?: unknown,
): string | null {
  const registered = register?.get(purpose);
  if (!registered) return `purpose "${purpose}" is not in the register of processing purposes (UU 27/2022 art. 31)`;
  if (registered.datasets.length && !registered.datasets.includes(String(datasetId))) {
    return `purpose "${purpose}" is not registered for dataset ${String(datasetId)}`;
  }
  if (
    registered.categories.length &&
    typeof category === 'string' &&
    category !== 'none' &&
    !registered.categories.includes(category)
  ) {
    return `purpose "${purpose}" is not registered for ${category} data`;
  }
  return null;
}

/** The dataset a decision is about. */
const datasetOf = (input: DecisionInput): unknown =>
  input.subject === 'Dataset' ? input.resource?.id : input.resource?.datasetId;

/** An omission for want of a purpose, told as the register's refusal. */
function told(d: FieldDecision, why: string): FieldDecision {
  return d.outcome === 'omitted' && d.needs === 'purpose' ? { ...d, reason: `withheld: ${why}` } : d;
}

/**
 * The engine with the register applied: each decision uses the declared purpose only where the
 * register allows it, and null elsewhere. `register` is read at each call (it is swapped on change).
 */
export function withPurposeRegister(engine: Engine, register: () => PurposeRegister | null): Engine {
  function decideFields(
    principal: Parameters<Engine['decideFields']>[0],
    fields: FieldAttributes[],
    purpose: string | null,
  ) {
    if (!purpose) return engine.decideFields(principal, fields, purpose);
    const reg = register();
    const why = fields.map((f) => unregisteredReason(reg, purpose, f.datasetId, f.personalData));
    if (why.every((w) => w === null)) return engine.decideFields(principal, fields, purpose);
    const withPurpose = engine.decideFields(
      principal,
      fields.filter((_, i) => why[i] === null),
      purpose,
    );
    const without = engine.decideFields(
      principal,
      fields.filter((_, i) => why[i] !== null),
      null,
    );
    let a = 0;
    let b = 0;
    return fields.map((_, i) => (why[i] === null ? withPurpose[a++]! : told(without[b++]!, why[i]!)));
  }

  function decide(input: DecisionInput, run: (i: DecisionInput) => Decision): Decision {
    if (!input.purpose) return run(input);
    const reg = register();
    const resource = input.resource ?? {};
    const why = unregisteredReason(
      reg,
      input.purpose,
      datasetOf(input),
      input.subject === 'Field' ? resource.personalData : undefined,
    );
    const registered = reg?.get(input.purpose);
    if (why) {
      const d = run({ ...input, purpose: null });
      return d.allow && !d.fields.denied.length ? d : { ...d, reason: `${d.reason}; ${why}` };
    }
    // Registered for the dataset, but perhaps not for every category of the fields asked for.
    const described = Array.isArray(resource.fields) ? (resource.fields as Record<string, unknown>[]) : [];
    const outside = (input.fields ?? []).filter((name) => {
      const f = described.find((x) => x.name === name);
      return f && registered && unregisteredReason(reg, input.purpose!, datasetOf(input), f.personalData) !== null;
    });
    const d = run(input);
    if (!outside.length) return d;
    const without = run({ ...input, purpose: null });
    const fields = { allowed: [...d.fields.allowed], masked: [...d.fields.masked], denied: [...d.fields.denied] };
    const masks = { ...d.masks };
    for (const name of outside) {
      for (const k of ['allowed', 'masked', 'denied'] as const) fields[k] = fields[k].filter((n) => n !== name);
      delete masks[name];
      if (without.fields.allowed.includes(name)) fields.allowed.push(name);
      else if (without.fields.masked.includes(name)) {
        fields.masked.push(name);
        if (without.masks[name]) masks[name] = without.masks[name];
      } else fields.denied.push(name);
    }
    return { ...d, fields, masks };
  }

  return {
    ...engine,
    decide: (input) => decide(input, (i) => engine.decide(i)),
    explain(input) {
      let considered: ReturnType<Engine['explain']>['considered'] = [];
      const decision = decide(input, (i) => {
        const e = engine.explain(i);
        considered = e.considered;
        return e.decision;
      });
      return { decision, considered };
    },
    plan: (principal, action, subject, purpose) =>
      engine.plan(principal, action, subject, purpose && register()?.get(purpose) ? purpose : null),
    decideFields,
  };
}

/** The lawful basis a disclosure rests on, for its audit entry (null: no registered purpose). */
export function lawfulBasisOf(register: PurposeRegister | null, purpose: string | null | undefined): string | null {
  return purpose ? (register?.get(purpose)?.lawfulBasis ?? null) : null;
}

/**
 * The policy service whose engines apply the register and cite the law (each engine wrapped once). Everything that
 * decides takes this one (src/wiring.ts), so no decision path can skip the register.
 */
export function governedByPurposes(
  policy: PolicyService,
  register: () => PurposeRegister | null,
  exemptions: () => ExemptionIndex | null = () => null,
): PolicyService {
  // One governed engine per (engine, register, exemptions): a new one whenever any of the three is
  // replaced, so a decision remembered per engine (decision.service.ts) is never used across a
  // policy reload or a change of the register or the exemptions.
  const wrapped = new WeakMap<Engine, { reg: PurposeRegister | null; ex: ExemptionIndex | null; governed: Engine }>();
  return {
    current() {
      const engine = policy.current();
      const reg = register();
      const ex = exemptions();
      let w = wrapped.get(engine);
      if (!w || w.reg !== reg || w.ex !== ex) {
        // Citations outermost: the reason of any withheld field names its exemption or the PDP rule.
        w = {
          reg,
          ex,
          // The wrappers still read the register live, as before: a request holding an older
          // engine decides on the newest register (only ever newer than the engine's key).
          governed: withCitations(withPurposeRegister(engine, register), exemptions),
        };
        wrapped.set(engine, w);
      }
      return w.governed;
    },
    reload: () => policy.reload(),
    status: () => policy.status(),
  };
}
