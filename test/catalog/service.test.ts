import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntryInput, AuditLog } from '../../src/audit/audit.port.ts';
import { createCatalogService, type CatalogService } from '../../src/catalog/catalog.service.ts';
import { sqlOf, type TransactionSql } from '../../src/db/database.ts';
import type { Principal } from '../../src/identity/principal.ts';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { EXEMPTION, datasetBody, decision, startCatalogApp } from './catalog-app.ts';

const steward: Principal = { sub: 'steward-32', kind: 'user', roles: ['steward'], unit: '32', purposes: [] };
const ppid: Principal = { sub: 'ppid-32', kind: 'user', roles: ['ppid'], unit: '32', purposes: [] };

/** Records what the catalog hands to the audit log, and whether it came inside a transaction. */
function recordingAudit() {
  const within: { tx: TransactionSql; entry: AuditEntryInput }[] = [];
  const appended: AuditEntryInput[] = [];
  const log: AuditLog = {
    append: async (entry) => (appended.push(entry), { id: crypto.randomUUID() }),
    appendDurable: async (entry) => (appended.push(entry), { id: crypto.randomUUID() }),
    appendWithin: async (tx, entry) => {
      // Proves the entry is written on the change's own transaction.
      await sqlOf(tx)`select 1`;
      within.push({ tx: sqlOf(tx), entry });
      return { id: crypto.randomUUID() };
    },
  };
  return { log, within, appended };
}

describe.each(databaseKinds())('catalog service interfaces on %s', (kind) => {
  let t: TestApp;
  let catalog: CatalogService;
  let audit: ReturnType<typeof recordingAudit>;
  beforeAll(async () => {
    t = await startCatalogApp(kind);
    audit = recordingAudit();
    catalog = createCatalogService({ sql: t.db.sql, audit: audit.log, policy: t.deps.services.policy });
  });
  afterAll(() => t.close());

  it('hands every label change to the audit log inside the same transaction', async () => {
    await catalog.createDataset(steward, datasetBody('svc-audit') as any, { requestId: 'req-1' });
    await catalog.labelDataset(steward, 'svc-audit', { classification: 'restricted' }, undefined, {
      requestId: 'req-2',
    });
    await catalog.labelDataset(steward, 'svc-audit', EXEMPTION as any, undefined, {});
    await catalog.approve(ppid, 'svc-audit', decision() as any, undefined, {});
    const entries = audit.within.map((w) => w.entry);
    expect(entries.map((e) => [e.event, e.action, e.resource.classification, e.resource.labelVersion])).toEqual([
      ['catalog_change', 'create', null, 0],
      ['label_change', 'label', 'restricted', 1],
      ['label_change', 'label', 'exempt', 2],
      ['label_change', 'approve', 'exempt', 3],
    ]);
    expect(entries[1]).toMatchObject({
      principal: { sub: 'steward-32', roles: ['steward'], unit: '32' },
      requestId: 'req-2',
      effect: 'allow',
    });
    expect(entries[3]!.details).toMatchObject({ labelEvent: 'approval', from: 'restricted', to: 'exempt' });

    // A refused change appends no label_change, but a deny decision.
    const before = audit.within.length;
    await expect(catalog.approve(ppid, 'svc-audit', {}, undefined, {})).rejects.toMatchObject({
      code: 'NO_PENDING_PROPOSAL',
    });
    await expect(
      catalog.labelDataset(steward, 'svc-audit', { classification: 'public', justification: 'x' }, undefined, {}),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(audit.within.length).toBe(before);
    expect(audit.appended.at(-1)).toMatchObject({
      event: 'decision',
      effect: 'deny',
      action: 'label',
      resource: { type: 'Dataset', id: 'svc-audit' },
    });
  });

  it('gives other capabilities dataset and field attributes, and resolves resources by id', async () => {
    await catalog.createDataset(steward, datasetBody('svc-attrs') as any, {});
    expect(await catalog.getDatasetAttributes('svc-attrs')).toEqual({
      id: 'svc-attrs',
      ownerUnit: '32',
      classification: null,
      labelPending: false,
      labelVersion: 0,
      steward: 'steward-32',
      sourceSystem: 'SIGAPLAPOR',
    });
    await catalog.labelDataset(steward, 'svc-attrs', { classification: 'public' }, undefined, {});
    await catalog.labelDataset(steward, 'svc-attrs', EXEMPTION as any, undefined, {});
    const read = await catalog.getFieldsForRead('svc-attrs');
    expect(read!.dataset).toMatchObject({ classification: 'exempt', labelPending: true, labelVersion: 2 });
    expect(read!.fields.find((f) => f.name === 'reported_party_status')).toEqual({
      datasetId: 'svc-attrs',
      ownerUnit: '32',
      name: 'reported_party_status',
      classification: 'exempt',
      personalData: 'criminal_record',
      personalDataKind: 'specific',
      type: 'string',
    });
    expect(await catalog.getDatasetAttributes('nope')).toBeNull();
    expect(await catalog.getFieldsForRead('nope')).toBeNull();

    const ds = await catalog.resolver.resolve('Dataset', 'svc-attrs');
    expect(ds).toMatchObject({ id: 'svc-attrs', classification: 'exempt', fields: expect.any(Array) });
    expect(await catalog.resolver.resolve('Field', 'svc-attrs/summary')).toMatchObject({
      name: 'summary',
      type: 'string',
      classification: 'exempt',
    });
    expect(await catalog.resolver.resolve('Field', 'svc-attrs/none')).toBeNull();
    expect(await catalog.resolver.resolve('Dataset', 'nope')).toBeNull();
    expect(await catalog.resolver.resolve('Record', 'svc-attrs')).toBeNull();

    // Inside a transaction, on its handle (PGlite has a single connection).
    const inTx = await t.db.sql.begin((tx) => catalog.getDatasetAttributes('svc-attrs', tx));
    expect(inTx?.id).toBe('svc-attrs');
  });
});
