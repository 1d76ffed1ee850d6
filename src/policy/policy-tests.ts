import * as v from 'valibot';
import { parse } from 'yaml';
import { isWithin, parentUnit } from '../shared/unit-code.ts';
import type { Principal } from '../identity/principal.ts';
import type { Engine } from './engine.ts';
import { ACTIONS, MASK_KINDS, SUBJECT_TYPES, type Action, type SubjectType } from './engine.types.ts';
import type { PolicySource } from './loader.ts';
import { withPurposeRegister, type PurposeRegister } from './purpose-register.ts';

/**
 * Policy tests: tables of principal × resource × action (× fields × purpose) → expected effect
 * and field outcomes, in `policies/tests/*.yaml`. Run by `npm run policy:test` and by vitest.
 *
 * A resource is written out (`{ type, attributes }`) or in short form
 * `Type/classification[/personalDataKind]@unit`, e.g. `Field/restricted/general@32.01` (or
 * `declassified`: specific personal data opened under UU 14/2008 art. 18(2));
 * classification is public, restricted, exempt, pending (exempt with a proposal pending) or
 * unlabelled.
 */
const PrincipalSpec = v.strictObject({
  sub: v.optional(v.nullable(v.string())),
  kind: v.optional(v.picklist(['user', 'service', 'anonymous'])),
  roles: v.array(v.string()),
  unit: v.optional(v.nullable(v.string())),
  purposes: v.optional(v.array(v.string())),
});
const ResourceSpec = v.union([
  v.pipe(v.string(), v.regex(/^[A-Za-z]+(\/[a-z]+){0,2}(@[A-Z0-9.]+)?$/, 'expected Type/classification[/kind]@unit')),
  v.strictObject({ type: v.picklist(SUBJECT_TYPES), attributes: v.record(v.string(), v.unknown()) }),
]);
const FieldsSpec = v.strictObject({
  allowed: v.optional(v.array(v.string())),
  masked: v.optional(v.array(v.string())),
  denied: v.optional(v.array(v.string())),
});
const CaseSpec = v.strictObject({
  name: v.optional(v.string()),
  principal: v.optional(v.union([v.string(), PrincipalSpec])),
  action: v.union([v.picklist(ACTIONS), v.array(v.picklist(ACTIONS))]),
  resource: v.union([ResourceSpec, v.array(ResourceSpec)]),
  fields: v.optional(v.array(v.string())),
  purpose: v.optional(v.nullable(v.string())),
  effect: v.picklist(['allow', 'deny']),
  outcome: v.optional(v.picklist(['whole', 'masked', 'omitted'])),
  mask: v.optional(v.picklist(MASK_KINDS)),
  ruleId: v.optional(v.nullable(v.string())),
  expectFields: v.optional(FieldsSpec),
});
/** A purpose as the register of processing purposes holds it (purpose-register.ts). */
const RegisteredSpec = v.strictObject({
  id: v.string(),
  lawfulBasis: v.optional(v.string()),
  datasets: v.optional(v.array(v.string())),
  categories: v.optional(v.array(v.string())),
});
export const TableSchema = v.strictObject({
  description: v.optional(v.string()),
  /**
   * The register of processing purposes the table's cases are decided with; without one, the
   * engine alone (every held purpose counts as registered).
   */
  register: v.optional(v.array(RegisteredSpec)),
  principals: v.optional(v.record(v.string(), PrincipalSpec)),
  principal: v.optional(v.union([v.string(), PrincipalSpec])),
  cases: v.array(CaseSpec),
});

export interface TestRow {
  file: string;
  index: number;
  name: string;
  principal: Principal;
  action: Action;
  subject: SubjectType;
  resource: Record<string, unknown>;
  resourceLabel: string;
  fields?: string[];
  purpose: string | null;
  expected: v.InferOutput<typeof CaseSpec>;
  /** The table's register of processing purposes, when it declares one. */
  register?: PurposeRegister;
}

export interface TestFailure {
  row: TestRow;
  problems: string[];
}

const toPrincipal = (s: v.InferOutput<typeof PrincipalSpec>): Principal => ({
  sub: s.sub ?? null,
  kind: s.kind ?? (s.roles.includes('public') && s.roles.length === 1 ? 'anonymous' : 'user'),
  roles: s.roles,
  unit: s.unit ?? null,
  purposes: s.purposes ?? [],
});

/** Expands the short form of a resource into its attributes. */
export function shortResource(spec: string): { type: SubjectType; attributes: Record<string, unknown> } {
  const [path, unit = 'RI'] = spec.split('@') as [string, string?];
  const [type, label = 'unlabelled', kind = 'none'] = path.split('/') as [string, string?, string?];
  if (!(SUBJECT_TYPES as readonly string[]).includes(type)) throw new Error(`unknown subject type ${type}`);
  const classification = label === 'unlabelled' ? null : label === 'pending' ? 'exempt' : label;
  if (![null, 'public', 'restricted', 'exempt'].includes(classification))
    throw new Error(`unknown classification ${label}`);
  // `declassified`: specific personal data a PPID opened under UU 14/2008 art. 18(2).
  if (!['none', 'general', 'specific', 'declassified'].includes(kind))
    throw new Error(`unknown personal-data kind ${kind}`);
  const datasetId = `ds-${label}-${unit.replaceAll('.', '-').toLowerCase()}`;
  const base = { datasetId, ownerUnit: unit, classification };
  const byType: Record<SubjectType, Record<string, unknown>> = {
    Dataset: {
      id: datasetId,
      ownerUnit: unit,
      classification,
      labelPending: label === 'pending',
      labelVersion: 1,
      steward: 'another-steward',
      sourceSystem: null,
    },
    Field: {
      ...base,
      name: `f-${kind}`,
      personalData:
        kind === 'none' ? 'none' : kind === 'general' ? 'nik' : kind === 'specific' ? 'health' : 'criminal_record',
      personalDataKind: kind === 'declassified' ? 'specific' : kind,
      ...(kind === 'declassified' ? { declassified: true } : {}),
    },
    Record: { ...base, unit },
    Label: { ...base, labelPending: label === 'pending', steward: 'another-steward', proposedBy: null },
    AuditEntry: { unit, datasetId },
    Policy: {},
    Unit: { code: unit, parent: parentUnit(unit) },
  };
  return { type: type as SubjectType, attributes: byType[type as SubjectType] };
}

/** Parses table files into rows (one row per action × resource of each case). */
export function parseTables(files: PolicySource[]): TestRow[] {
  const rows: TestRow[] = [];
  for (const file of files) {
    const parsed = v.safeParse(TableSchema, parse(file.text));
    if (!parsed.success) {
      throw new Error(`${file.name}: ${parsed.issues.map((i) => `${v.getDotPath(i) ?? ''}: ${i.message}`).join('; ')}`);
    }
    const table = parsed.output;
    const named = table.principals ?? {};
    const registered = new Map(
      (table.register ?? []).map((r) => [
        r.id,
        {
          id: r.id,
          lawfulBasis: r.lawfulBasis ?? 'public_task',
          datasets: r.datasets ?? [],
          categories: r.categories ?? [],
        },
      ]),
    );
    const register: PurposeRegister | undefined = table.register ? { get: (id) => registered.get(id) } : undefined;
    const principalOf = (p: string | v.InferOutput<typeof PrincipalSpec> | undefined, at: string): Principal => {
      const spec = typeof p === 'string' ? named[p] : p;
      if (!spec)
        throw new Error(`${file.name} ${at}: no principal ${p === undefined ? '(none given)' : JSON.stringify(p)}`);
      return toPrincipal(spec);
    };
    table.cases.forEach((c, index) => {
      const principal = principalOf(c.principal ?? table.principal, `case ${index}`);
      for (const action of Array.isArray(c.action) ? c.action : [c.action]) {
        for (const r of Array.isArray(c.resource) ? c.resource : [c.resource]) {
          const res = typeof r === 'string' ? shortResource(r) : r;
          rows.push({
            file: file.name,
            index,
            name: c.name ?? '',
            principal,
            action,
            subject: res.type,
            resource: res.attributes,
            resourceLabel: typeof r === 'string' ? r : `${r.type}:${JSON.stringify(r.attributes)}`,
            ...(c.fields ? { fields: c.fields } : {}),
            purpose: c.purpose ?? null,
            expected: c,
            ...(register ? { register } : {}),
          });
        }
      }
    });
  }
  return rows;
}

/** Runs the rows against an engine; returns the failures. */
export function runRows(engine: Engine, rows: TestRow[]): TestFailure[] {
  const failures: TestFailure[] = [];
  const governed = new Map<PurposeRegister, Engine>();
  for (const row of rows) {
    let decider = engine;
    if (row.register) {
      const reg = row.register;
      decider = governed.get(reg) ?? withPurposeRegister(engine, () => reg);
      governed.set(reg, decider);
    }
    const d = decider.decide({
      principal: row.principal,
      action: row.action,
      subject: row.subject,
      resource: row.resource,
      ...(row.fields ? { fields: row.fields } : {}),
      purpose: row.purpose,
    });
    const e = row.expected;
    const problems: string[] = [];
    const effect = d.allow ? 'allow' : 'deny';
    if (effect !== e.effect)
      problems.push(`effect ${effect}, expected ${e.effect} (${d.ruleId ?? 'no rule'}: ${d.reason})`);
    if (e.ruleId !== undefined && d.ruleId !== e.ruleId) problems.push(`rule ${d.ruleId}, expected ${e.ruleId}`);
    if (e.outcome) {
      const outcome = d.fields.masked.length ? 'masked' : d.fields.allowed.length ? 'whole' : 'omitted';
      if (row.subject !== 'Field') problems.push('outcome is only for Field resources');
      else if (outcome !== e.outcome) problems.push(`outcome ${outcome}, expected ${e.outcome} (${d.reason})`);
    }
    if (e.mask) {
      const mask = Object.values(d.masks)[0];
      if (mask !== e.mask) problems.push(`mask ${mask ?? 'none'}, expected ${e.mask}`);
    }
    if (e.expectFields) {
      for (const k of ['allowed', 'masked', 'denied'] as const) {
        const want = e.expectFields[k];
        if (want && [...want].sort().join(',') !== [...d.fields[k]].sort().join(',')) {
          problems.push(`fields.${k} [${d.fields[k].join(', ')}], expected [${want.join(', ')}]`);
        }
      }
    }
    if (problems.length) failures.push({ row, problems });
  }
  return failures;
}

/** What the tables must cover; a missing combination is a gap in the tests. */
export function coverageGaps(roles: readonly string[], rows: TestRow[]): string[] {
  const gaps: string[] = [];
  for (const a of ACTIONS) if (!rows.some((r) => r.action === a)) gaps.push(`no row for action ${a}`);
  for (const s of SUBJECT_TYPES) if (!rows.some((r) => r.subject === s)) gaps.push(`no row for subject type ${s}`);
  const known = new Set(roles);
  for (const r of rows) {
    for (const role of r.principal.roles) if (!known.has(role)) gaps.push(`${r.file}#${r.index}: unknown role ${role}`);
  }
  for (const role of roles) {
    const mine = rows.filter((r) => r.principal.roles.length === 1 && r.principal.roles[0] === role);
    if (mine.length === 0) {
      gaps.push(`no row for role ${role}`);
      continue;
    }
    for (const c of ['public', 'restricted', 'exempt', null]) {
      for (const inside of [true, false]) {
        // The anonymous public has no unit: "inside" does not apply.
        if (inside && mine.every((r) => r.principal.unit === null)) continue;
        const found = mine.some(
          (r) =>
            (r.subject === 'Dataset' || r.subject === 'Record' || r.subject === 'Field') &&
            (r.resource.classification ?? null) === c &&
            isWithin(String(r.resource.unit ?? r.resource.ownerUnit ?? ''), r.principal.unit) === inside,
        );
        if (!found)
          gaps.push(
            `role ${role}: no row for a ${c ?? 'unlabelled'} resource ${inside ? 'inside' : 'outside'} its unit`,
          );
      }
    }
  }
  return gaps;
}

/** A readable table of failures for the terminal. */
export function formatFailures(failures: TestFailure[]): string {
  const head = ['file#case', 'principal', 'action', 'resource', 'purpose', 'problem'];
  const lines = failures.flatMap((f) =>
    f.problems.map((p) => [
      `${f.row.file}#${f.row.index}${f.row.name ? ` ${f.row.name}` : ''}`,
      `${f.row.principal.roles.join('+')}@${f.row.principal.unit ?? '-'}`,
      f.row.action,
      f.row.resourceLabel.length > 40 ? f.row.resourceLabel.slice(0, 37) + '...' : f.row.resourceLabel,
      f.row.purpose ?? '-',
      p,
    ]),
  );
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...lines.map((l) => l[i]!.length))));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}
