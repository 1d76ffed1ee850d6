import * as v from 'valibot';
import { parseDocument } from 'yaml';
import { SUBJECT_ATTRIBUTES, type SubjectType } from './engine.types.ts';
import { checkConditions } from './conditions.ts';
import { PolicyFileSchema, type RuleInput } from './policy.schema.ts';

/** One policy file's content; the loader never touches a file system (a Worker build can pass bundled text). */
export interface PolicySource {
  name: string;
  text: string;
}

export interface LoadedRule extends RuleInput {
  role: string;
  file: string;
}

export interface PolicySet {
  /** A hash of every file's name and content: recorded with each decision. */
  version: string;
  roles: string[];
  rules: LoadedRule[];
  files: string[];
}

export interface PolicyProblem {
  file: string;
  ruleId: string | null;
  path: string;
  message: string;
}

/** Refused policy set: every problem names the file, the rule id and what is wrong. */
export class PolicyLoadError extends Error {
  readonly problems: PolicyProblem[];
  constructor(problems: PolicyProblem[]) {
    super(
      'Invalid policy set:\n' +
        problems
          .map((p) => `  ${p.file}${p.ruleId ? ` rule ${p.ruleId}` : ''}${p.path ? ` at ${p.path}` : ''}: ${p.message}`)
          .join('\n'),
    );
    this.name = 'PolicyLoadError';
    this.problems = problems;
  }
}

const asList = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

/**
 * Parses and validates a policy set (YAML, one file per role). All problems are collected,
 * then the set is refused as a whole: a half-loaded policy set would be a silent change.
 */
export async function loadPolicies(sources: PolicySource[]): Promise<PolicySet> {
  const problems: PolicyProblem[] = [];
  const rules: LoadedRule[] = [];
  const roles = new Map<string, string>();
  const ids = new Map<string, string>();
  const sorted = [...sources].sort((a, b) => a.name.localeCompare(b.name));
  if (sorted.length === 0)
    problems.push({ file: '(policy folder)', ruleId: null, path: '', message: 'no policy files' });

  for (const { name, text } of sorted) {
    const doc = parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length) {
      for (const e of doc.errors)
        problems.push({ file: name, ruleId: null, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
      continue;
    }
    const raw: unknown = doc.toJS();
    const parsed = v.safeParse(PolicyFileSchema, raw);
    if (!parsed.success) {
      for (const issue of parsed.issues) {
        const path = issue.path ?? [];
        const idx = path[1]?.key;
        const ruleRaw = typeof idx === 'number' ? (raw as { rules?: unknown[] }).rules?.[idx] : undefined;
        const ruleId =
          ruleRaw && typeof (ruleRaw as { id?: unknown }).id === 'string' ? (ruleRaw as { id: string }).id : null;
        problems.push({ file: name, ruleId, path: v.getDotPath(issue) ?? '', message: issue.message });
      }
      continue;
    }
    const file = parsed.output;
    // One file per role, named after it: a typo in either is caught here, not in production.
    const base = name.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
    if (base !== file.role) {
      problems.push({
        file: name,
        ruleId: null,
        path: 'role',
        message: `role "${file.role}" does not match the file name (expected "${base}")`,
      });
    }
    const other = roles.get(file.role);
    if (other)
      problems.push({
        file: name,
        ruleId: null,
        path: 'role',
        message: `role ${file.role} is already defined in ${other}`,
      });
    roles.set(file.role, name);
    file.rules.forEach((rule, i) => {
      const at = (p: string) => `rules.${i}.${p}`;
      const seen = ids.get(rule.id);
      if (seen)
        problems.push({ file: name, ruleId: rule.id, path: at('id'), message: `duplicate rule id (also in ${seen})` });
      ids.set(rule.id, name);
      const subjects = asList(rule.subject);
      if (rule.conditions) {
        for (const m of checkConditions(rule.conditions, subjects)) {
          problems.push({
            file: name,
            ruleId: rule.id,
            path: at(m.slice(0, m.indexOf(':'))),
            message: m.slice(m.indexOf(':') + 2),
          });
        }
      }
      for (const f of rule.fields ?? []) {
        for (const s of subjects) {
          if (s === 'Record' || s === 'all') continue;
          if (!(SUBJECT_ATTRIBUTES[s as SubjectType] as readonly string[]).includes(f)) {
            problems.push({
              file: name,
              ruleId: rule.id,
              path: at('fields'),
              message: `unknown field "${f}" for ${s}`,
            });
          }
        }
      }
      if (rule.mask && (rule.inverted || !subjects.every((s) => s === 'Field' || s === 'Record'))) {
        problems.push({
          file: name,
          ruleId: rule.id,
          path: at('mask'),
          message: 'a mask applies only to allow rules on Field or Record',
        });
      }
      rules.push({ ...rule, role: file.role, file: name });
    });
  }
  if (problems.length) throw new PolicyLoadError(problems);
  return {
    version: await hashSources(sorted),
    roles: [...roles.keys()].sort(),
    rules,
    files: sorted.map((s) => s.name),
  };
}

async function hashSources(sources: PolicySource[]): Promise<string> {
  const data = new TextEncoder().encode(sources.map((s) => `${s.name}\u0000${s.text}\u0000`).join(''));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  return [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
