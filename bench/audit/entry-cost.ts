// `node bench/audit/entry-cost.ts`: figures, not a test. The server's CPU per audit entry in
// process, by step, for batches of 100 check entries: validating the entry (toEntryRow), its
// canonical JSON (canonicalTail), chaining and hashing (unkeyed), and the insert's column arrays
// (the statement is built, not sent). Six rounds; the first warms up.
import { toEntryRow, type ChainedRow, type EntryRow } from '../../src/audit/audit.entry.ts';
import { canonicalTail, linkHash } from '../../src/audit/audit.hash.ts';
import { insertEntriesGuarded } from '../../src/audit/audit.repo.ts';
const input = (i: number) => ({
  event: 'decision' as const,
  principal: { sub: `user-${i % 50}`, kind: 'user', roles: ['staff'], unit: '32.01' },
  action: 'read',
  resource: { type: 'Dataset', id: `ds-${i % 512}`, classification: 'restricted', labelVersion: 1 },
  effect: 'allow' as const,
  ruleId: 'staff.read',
  reason: 'staff may read restricted data of their unit',
  policyVersion: 'sha256:0123',
  fields: { whole: ['a', 'b'], masked: ['nik'], omitted: [] },
  purpose: 'pengawasan',
  requestId: crypto.randomUUID(),
  traceId: null,
});
const inputs = Array.from({ length: 100 }, (_, i) => input(i));
const q = { unsafe: () => ({}) } as never;
const N = 300;
const t = { entry: 0, tail: 0, chain: 0, insert: 0 };
for (let r = 0; r < 6; r++) {
  Object.assign(t, { entry: 0, tail: 0, chain: 0, insert: 0 });
  for (let k = 0; k < N; k++) {
    let a = performance.now();
    const rows: EntryRow[] = inputs.map((e) => toEntryRow(e));
    let b = performance.now();
    t.entry += b - a;
    a = b;
    const tails = rows.map(canonicalTail);
    b = performance.now();
    t.tail += b - a;
    a = b;
    const at = new Date();
    const atText = at.toISOString();
    let prev = 'a'.repeat(64);
    const chained: ChainedRow[] = rows.map((row, i) => {
      const hash = linkHash(undefined, prev, i + 1, row.id, atText, tails[i]!);
      const full = { ...row, seq: i + 1, at, prevHash: prev, hash };
      prev = hash;
      return full;
    });
    b = performance.now();
    t.chain += b - a;
    a = b;
    void insertEntriesGuarded(q, chained, { seq: 0, hash: 'x', at });
    b = performance.now();
    t.insert += b - a;
  }
  const per = (ms: number) => ((ms * 1000) / (N * 100)).toFixed(2);
  console.log(
    `entry ${per(t.entry)}  tail ${per(t.tail)}  chain+hash ${per(t.chain)}  insert params ${per(t.insert)} µs/entry`,
  );
}
