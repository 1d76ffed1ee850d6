import type { Meter } from '@opentelemetry/api';
import type { Logger } from '../system/logger.ts';
import { createEngine, type Engine } from './engine.ts';
import { loadPolicies, PolicyLoadError, type PolicyProblem, type PolicySource } from './loader.ts';

export type PolicySourceReader = () => Promise<PolicySource[]>;

export type ReloadResult =
  | { ok: true; version: string; changed: boolean; roles: string[]; rules: number }
  | { ok: false; version: string | null; problems: PolicyProblem[] };

export interface PolicyStatus {
  version: string | null;
  loadedAt: string | null;
  lastReload: { at: string; ok: boolean; problems?: PolicyProblem[] } | null;
}

export interface PolicyService {
  /** The engine in force: one snapshot; callers keep it for a whole request or batch. */
  current(): Engine;
  /** Reads and validates the set again; an invalid set is refused and the last good one stays. */
  reload(): Promise<ReloadResult>;
  status(): PolicyStatus;
}

/** An empty policy set denies everything: what is in force before any set was loaded. */
const DENY_ALL = createEngine({ version: 'none', roles: [], rules: [], files: [] });

/**
 * Holds the policy set in force and swaps it atomically on reload. Reload failures are logged,
 * counted (`jaga.policy.reload.failures`) and reported by the `policies` readiness check.
 */
export function createPolicyService(options: {
  read: PolicySourceReader | null;
  logger: Logger;
  meter?: Meter;
  cacheMax?: number;
}): PolicyService {
  const { read, logger } = options;
  const failures = options.meter?.createCounter('jaga.policy.reload.failures', {
    description: 'Refused policy reloads',
  });
  const reloads = options.meter?.createCounter('jaga.policy.reloads', { description: 'Policy reloads, by outcome' });
  let engine: Engine = DENY_ALL;
  let loadedAt: string | null = null;
  let lastReload: PolicyStatus['lastReload'] = null;
  // Reloads are serialised: two SIGHUPs in a row never race.
  let queue: Promise<unknown> = Promise.resolve();

  async function reloadNow(): Promise<ReloadResult> {
    const at = new Date().toISOString();
    const previous = engine.set.version === 'none' ? null : engine.set.version;
    try {
      if (!read)
        throw new PolicyLoadError([
          { file: '(none)', ruleId: null, path: '', message: 'no policy source is configured' },
        ]);
      const set = await loadPolicies(await read());
      const changed = set.version !== previous;
      if (changed) {
        engine = createEngine(set, options.cacheMax ? { cacheMax: options.cacheMax } : {});
        loadedAt = at;
      }
      lastReload = { at, ok: true };
      reloads?.add(1, { outcome: 'ok' });
      logger.info('policies loaded', { version: set.version, changed, roles: set.roles, rules: set.rules.length });
      return { ok: true, version: set.version, changed, roles: set.roles, rules: set.rules.length };
    } catch (error) {
      const problems: PolicyProblem[] =
        error instanceof PolicyLoadError
          ? error.problems
          : [{ file: '(policy folder)', ruleId: null, path: '', message: (error as Error).message }];
      lastReload = { at, ok: false, problems };
      failures?.add(1);
      reloads?.add(1, { outcome: 'refused' });
      logger.error('policy reload refused; the last good set stays in force', { version: previous, problems });
      return { ok: false, version: previous, problems };
    }
  }

  return {
    current: () => engine,
    reload() {
      const next = queue.then(reloadNow, reloadNow);
      queue = next;
      return next;
    },
    status: () => ({ version: engine.set.version === 'none' ? null : engine.set.version, loadedAt, lastReload }),
  };
}

/** The readiness check: policies loaded, and the last reload (if any) accepted. */
export function policyReadiness(service: PolicyService) {
  return () => {
    const s = service.status();
    if (!s.version) return { ok: false, detail: describeProblems(s.lastReload?.problems) ?? 'no policy set loaded' };
    if (s.lastReload && !s.lastReload.ok) {
      return {
        ok: false,
        detail: `reload refused, ${s.version} stays in force: ${describeProblems(s.lastReload.problems)}`,
      };
    }
    return { ok: true, detail: `version ${s.version}` };
  };
}

export function describeProblems(problems: PolicyProblem[] | undefined): string | undefined {
  if (!problems?.length) return undefined;
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return `${first.file}${first.ruleId ? ` rule ${first.ruleId}` : ''}: ${first.message}${more}`;
}
