/**
 * A realistic, deterministic mix of checks: every role, units inside and outside, every
 * classification (pending exemptions included), with and without field lists and purposes.
 * Each entry has the Jaga /v1/check body and the equivalent Cerbos CheckResources body.
 */
const ROLES = [
  { roles: ['public'], unit: null, purposes: [] as string[] },
  { roles: ['staff'], unit: '32', purposes: ['pengawasan'] },
  { roles: ['staff'], unit: '32.01', purposes: ['penanganan-pelanggaran'] },
  { roles: ['steward'], unit: '32', purposes: ['pengawasan'] },
  { roles: ['ppid'], unit: '32', purposes: ['uji-konsekuensi'] },
  { roles: ['auditor'], unit: '33', purposes: [] },
  { roles: ['service'], unit: '32', purposes: ['pengawasan'] },
  { roles: ['admin'], unit: 'RI', purposes: ['administrasi'] },
];
const UNITS = ['32.01', '32.01.05', '33.02', '11'];
const LABELS = ['public', 'restricted', 'exempt', null, 'pending'] as const;
const FIELDS = [
  { name: 'category', personalData: 'none', personalDataKind: 'none' },
  { name: 'nik', personalData: 'nik', personalDataKind: 'general' },
  { name: 'diagnosis', personalData: 'health', personalDataKind: 'specific' },
];

export function buildMix(n: number) {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: { jaga: unknown; cerbos: unknown }[] = [];
  for (let i = 0; i < n; i++) {
    const p = ROLES[i % ROLES.length]!;
    const sub = `user-${i % 50}`;
    const label = pick(LABELS);
    const classification = label === 'pending' ? 'exempt' : label;
    const ownerUnit = pick(UNITS);
    const withFields = rnd() < 0.6;
    const action = withFields ? 'read' : pick(['read', 'read', 'read', 'label', 'approve'] as const);
    const purpose = withFields && p.purposes.length && rnd() < 0.8 ? p.purposes[0]! : null;
    const dataset = { id: `ds-${i}`, ownerUnit, classification, labelPending: label === 'pending', labelVersion: 1, steward: rnd() < 0.1 ? sub : 'someone', sourceSystem: 'SIGAPLAPOR' };
    const fields = FIELDS.map((f) => ({ ...f, classification: f.personalDataKind === 'specific' && classification === 'public' ? 'restricted' : classification }));
    out.push({
      jaga: {
        principal: { sub, roles: p.roles, unit: p.unit, purposes: p.purposes },
        action,
        resource: { type: 'Dataset', attributes: withFields ? { ...dataset, fields } : dataset },
        ...(withFields ? { fields: FIELDS.map((f) => f.name), purpose } : {}),
      },
      cerbos: {
        requestId: `r${i}`,
        principal: { id: sub, roles: p.roles, attr: { ...(p.unit ? { unit: p.unit } : {}), purposes: p.purposes } },
        resources: [
          { actions: [action], resource: { kind: 'dataset', id: dataset.id, attr: { ownerUnit, classification, labelPending: dataset.labelPending, steward: dataset.steward } } },
          ...(withFields
            ? fields.map((f) => ({
                actions: ['read'],
                resource: { kind: 'field', id: `${dataset.id}.${f.name}`, attr: { ownerUnit, classification: f.classification, personalDataKind: f.personalDataKind, ...(purpose ? { purpose } : {}) } },
              }))
            : []),
        ],
      },
    });
  }
  return out;
}
