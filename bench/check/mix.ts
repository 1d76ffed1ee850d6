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

export interface BenchDataset {
  id: string;
  ownerUnit: string;
  classification: string | null;
  pending: boolean;
  steward: string;
}

export function buildMix(n: number) {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: { jaga: unknown; byId: unknown; dataset: BenchDataset; cerbos: unknown }[] = [];
  for (let i = 0; i < n; i++) {
    const p = ROLES[i % ROLES.length]!;
    const sub = `user-${i % 50}`;
    const label = pick(LABELS);
    const classification = label === 'pending' ? 'exempt' : label;
    const ownerUnit = pick(UNITS);
    const withFields = rnd() < 0.6;
    const action = withFields ? 'read' : pick(['read', 'read', 'read', 'label', 'approve'] as const);
    const purpose = withFields && p.purposes.length && rnd() < 0.8 ? p.purposes[0]! : null;
    const dataset = {
      id: `ds-${i}`,
      ownerUnit,
      classification,
      labelPending: label === 'pending',
      labelVersion: 1,
      steward: rnd() < 0.1 ? sub : 'someone',
      sourceSystem: 'SIGAPLAPOR',
    };
    const fields = FIELDS.map((f) => ({
      ...f,
      classification: f.personalDataKind === 'specific' && classification === 'public' ? 'restricted' : classification,
    }));
    out.push({
      jaga: {
        principal: { sub, roles: p.roles, unit: p.unit, purposes: p.purposes },
        action,
        resource: { type: 'Dataset', attributes: withFields ? { ...dataset, fields } : dataset },
        ...(withFields ? { fields: FIELDS.map((f) => f.name), purpose } : {}),
      },
      // The shape services use: the dataset by id, Jaga supplying its labels (seeded by seedCatalog).
      byId: {
        principal: { sub, roles: p.roles, unit: p.unit, purposes: p.purposes },
        action,
        resource: { type: 'Dataset', id: dataset.id },
        ...(withFields ? { fields: FIELDS.map((f) => f.name), purpose } : {}),
      },
      dataset: { ...dataset, pending: label === 'pending' },
      cerbos: {
        requestId: `r${i}`,
        principal: { id: sub, roles: p.roles, attr: { ...(p.unit ? { unit: p.unit } : {}), purposes: p.purposes } },
        resources: [
          {
            actions: [action],
            resource: {
              kind: 'dataset',
              id: dataset.id,
              attr: { ownerUnit, classification, labelPending: dataset.labelPending, steward: dataset.steward },
            },
          },
          ...(withFields
            ? fields.map((f) => ({
                actions: ['read'],
                resource: {
                  kind: 'field',
                  id: `${dataset.id}.${f.name}`,
                  attr: {
                    ownerUnit,
                    classification: f.classification,
                    personalDataKind: f.personalDataKind,
                    ...(purpose ? { purpose } : {}),
                  },
                },
              }))
            : []),
        ],
      },
    });
  }
  return out;
}

/** The mix's datasets (three fields each, as FIELDS) in the catalog, for checks by id. */
export async function seedCatalog(sql: import('postgres').Sql, datasets: BenchDataset[]): Promise<void> {
  await sql`insert into units (code, name, parent) values ('32.01', 'Kab. Bogor', '32'), ('32.01.05', 'Kec. Cibinong', '32.01'), ('33.02', 'Kab. Banyumas', '33')
    on conflict do nothing`;
  const grounds = sql.json(['17a']);
  const test = sql.json({ harm: 'bench', publicInterest: 'bench' });
  await sql.begin(async (tx) => {
    for (const d of datasets) {
      const approved = d.pending ? null : d.classification;
      await tx`insert into datasets (id, title, owner_unit, steward, source_system, classification, label_version,
          label_grounds, label_consequence_test, label_review_by,
          pending_classification, pending_grounds, pending_consequence_test, pending_review_by, pending_proposed_by, pending_proposed_at)
        values (${d.id}, ${'bench ' + d.id}, ${d.ownerUnit}, ${d.steward}, 'SIGAPLAPOR', ${approved}, 1,
          ${approved === 'exempt' ? grounds : null}, ${approved === 'exempt' ? test : null}, ${approved === 'exempt' ? '2099-12-31' : null},
          ${d.pending ? 'exempt' : null}, ${d.pending ? grounds : null}, ${d.pending ? test : null}, ${d.pending ? '2099-12-31' : null},
          ${d.pending ? 'bench' : null}, ${d.pending ? new Date() : null})`;
      await tx`insert into fields ${tx(
        FIELDS.map((f, i) => ({
          dataset_id: d.id,
          name: f.name,
          position: i + 1,
          type: 'string',
          personal_data: f.personalData,
          classification: f.personalDataKind === 'specific' && d.classification === 'public' ? 'restricted' : null,
        })),
      )}`;
    }
  });
}
