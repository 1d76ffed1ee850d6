import { createHmac, randomUUID } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import postgres from 'postgres';

// The floor of a logged decision on this stack (issue 15): what any server that answers a check
// only after its log entry is durable must do, and nothing of Jaga's. Hono on node parses the
// same JSON body, "decides" by a constant, builds one row of the audit table's shape with one
// HMAC, and answers once the row is committed. Rows are group-committed: one multi-row INSERT
// in flight on one connection, the next batch gathering behind it. The table is a copy of
// `audit_entry` with its indexes (FLOOR_INDEXES=0: its primary key only), so the database does
// the same work per row as for Jaga's entries, minus the chain head and the partitioning.
// Env: PORT, DATABASE_URL (migrated by Jaga, for audit_entry's shape), FLOOR_INDEXES.
const sql = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
const TABLE = process.env.FLOOR_INDEXES === '0' ? 'bench_floor_bare' : 'bench_floor';
await sql.unsafe(
  `create table if not exists ${TABLE} (like audit_entry including defaults including constraints ${
    TABLE === 'bench_floor' ? 'including indexes' : ''
  })`,
);
if (TABLE === 'bench_floor_bare') await sql.unsafe(`alter table ${TABLE} add primary key (seq, at)`).catch(() => {});

const KEY = 'bench-floor-hmac-key';
const cell = (v: string | null) => (v === null ? 'NULL' : `"${v.replace(/["\\]/g, '\\$&')}"`);
const list = (xs: readonly string[]) => `{${xs.map(cell).join(',')}}`;
const COLUMNS = [
  'id',
  'decided_at',
  'event',
  'principal_sub',
  'principal_kind',
  'principal_roles',
  'principal_unit',
  'action',
  'resource_type',
  'resource_id',
  'dataset_id',
  'resource_unit',
  'classification',
  'label_version',
  'effect',
  'rule_id',
  'reason',
  'policy_version',
  'fields_whole',
  'fields_masked',
  'fields_omitted',
  'purpose',
  'request_id',
  'details',
  'prev_hash',
  'hash',
] as const;
const TYPES: Record<string, string> = {
  id: 'uuid',
  decided_at: 'timestamptz',
  principal_roles: 'text[]',
  label_version: 'int4',
  fields_whole: 'text[]',
  fields_masked: 'text[]',
  fields_omitted: 'text[]',
  details: 'jsonb',
};
const INSERT = `insert into ${TABLE} (seq, at, ${COLUMNS.join(', ')})
  select $${COLUMNS.length + 1}::int8 + t.ord, now(), ${COLUMNS.map((c) => `${c}::${TYPES[c] ?? 'text'}`).join(', ')}
  from unnest(${COLUMNS.map((_, i) => `$${i + 1}::text[]`).join(', ')}) with ordinality as t(${COLUMNS.join(', ')}, ord)`;

type Row = Record<(typeof COLUMNS)[number], string | null>;
let queue: { row: Row; done: () => void; fail: (e: unknown) => void }[] = [];
let flushing = false;
let seq = 0;
let prev = '0'.repeat(64);

async function flush(): Promise<void> {
  if (flushing) return;
  flushing = true;
  while (queue.length) {
    const batch = queue;
    queue = [];
    const params = COLUMNS.map((c) => `{${batch.map((p) => cell(p.row[c])).join(',')}}`);
    try {
      await sql.unsafe(INSERT, [...params, String(seq)], { prepare: true });
      seq += batch.length;
      for (const p of batch) p.done();
    } catch (e) {
      for (const p of batch) p.fail(e);
    }
  }
  flushing = false;
}

interface Body {
  principal?: { sub?: string; roles?: string[]; unit?: string };
  action?: string;
  resource?: { type?: string; id?: string };
  fields?: string[];
  purpose?: string;
}

const app = new Hono();
app.post('/v1/check', async (c) => {
  const b = (await c.req.json()) as Body;
  const id = randomUUID();
  const allow = b.action === 'read';
  const tail = JSON.stringify([id, b.principal?.sub, b.action, b.resource?.id, allow]);
  const hash = createHmac('sha256', KEY).update(prev).update(tail).digest('hex');
  const row: Row = {
    id,
    decided_at: new Date().toISOString(),
    event: 'decision',
    principal_sub: b.principal?.sub ?? null,
    principal_kind: 'user',
    principal_roles: list(b.principal?.roles ?? []),
    principal_unit: b.principal?.unit ?? null,
    action: b.action ?? 'read',
    resource_type: b.resource?.type ?? 'Dataset',
    resource_id: b.resource?.id ?? null,
    dataset_id: b.resource?.id ?? null,
    resource_unit: '32',
    classification: 'restricted',
    label_version: '1',
    effect: allow ? 'allow' : 'deny',
    rule_id: 'floor',
    reason: allow ? 'allowed by floor' : 'no rule grants this',
    policy_version: 'floor',
    fields_whole: list(b.fields ?? []),
    fields_masked: '{}',
    fields_omitted: '{}',
    purpose: b.purpose ?? null,
    request_id: id,
    details: '{}',
    prev_hash: prev,
    hash,
  };
  prev = hash;
  await new Promise<void>((done, fail) => {
    queue.push({ row, done, fail });
    void flush();
  });
  return c.json({ allow, decisionId: id });
});
app.get('/healthz', (c) => c.text('ok'));
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' }, () => console.log('listening'));
// A normal exit on SIGTERM, so that `--cpu-prof` writes its profile.
process.on('SIGTERM', () => void sql.end({ timeout: 1 }).finally(() => process.exit(0)));
