import type { Principal } from '../identity/principal.ts';
import type { DatasetAttributes, PolicyEngine } from '../policy/engine.types.ts';

/**
 * Every records permission decision that is not a field or row decision, in one place, all
 * through the policy engine (policies/*.yaml): seeing the dataset at all, and ingesting into it.
 */
export function canSeeDataset(engine: PolicyEngine, p: Principal, d: DatasetAttributes, purpose?: string | null) {
  // A purpose counts for rules that ask for one (a service principal's agreement names it).
  return engine.decide({
    principal: p,
    action: 'read',
    subject: 'Dataset',
    resource: { ...d },
    purpose: purpose ?? null,
  });
}

/** Ingest: the default policies let stewards of the owning unit (and its subtree) load records. */
export function canIngest(engine: PolicyEngine, p: Principal, d: DatasetAttributes) {
  return engine.decide({ principal: p, action: 'ingest', subject: 'Dataset', resource: { ...d } });
}
