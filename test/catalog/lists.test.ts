import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogAccess } from '../../src/catalog/catalog.access.ts';
import { listDatasets, planSql } from '../../src/catalog/catalog.repo.ts';
import { datasetAttributes } from '../../src/catalog/catalog.view.ts';
import { ANONYMOUS, type Principal } from '../../src/identity/principal.ts';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { EXEMPTION, datasetBody, decision, principals, startCatalogApp, tokenFor } from './catalog-app.ts';

const staff32: Principal = { sub: 'staff-32', kind: 'user', roles: ['staff'], unit: '32', purposes: [] };

describe.each(databaseKinds())('catalog lists on %s', (kind) => {
  let t: TestApp;
  let who: Awaited<ReturnType<typeof principals>>;
  const INVISIBLE = 60;

  beforeAll(async () => {
    t = await startCatalogApp(kind);
    who = await principals();
    await t.request('POST', '/v1/units', { token: who.admin, json: { code: '32.01', name: 'Kabupaten Bogor' } });
    const create = async (id: string, unit: string, label: unknown, extra: Record<string, unknown> = {}) => {
      const steward = unit.startsWith('33') ? who.steward33 : who.steward32;
      expect(
        (await t.request('POST', '/v1/datasets', { token: steward, json: datasetBody(id, unit, extra) })).status,
      ).toBe(201);
      if (label) await t.request('PUT', `/v1/datasets/${id}/label`, { token: steward, json: label });
    };
    // Visible to staff of 32: public anywhere, labelled within 32.
    await create('a-public-33', '33', { classification: 'public' });
    await create('b-restricted-32', '32', { classification: 'restricted' });
    await create('c-restricted-3201', '32.01', { classification: 'restricted' }, { sourceSystem: 'SIWASLU' });
    await create('d-public-32', '32', { classification: 'public' });
    await create('e-exempt-32', '32', EXEMPTION);
    await t.request('POST', '/v1/datasets/e-exempt-32/label/approve', { token: who.ppid32, json: decision() });
    // Not visible to staff of 32: unlabelled within 32.
    await create('f-unlabelled-32', '32', null);
    // Many invisible rows, inserted directly: unlabelled or restricted in another province.
    const rows = Array.from({ length: INVISIBLE }, (_, i) => ({
      id: `z-hidden-${String(i).padStart(3, '0')}`,
      title: 'hidden',
      owner_unit: i % 2 ? '33' : '34',
      classification: i % 3 ? null : 'restricted',
    }));
    await t.db.sql`insert into datasets ${t.db.sql(rows, 'id', 'title', 'owner_unit', 'classification')}`;
  });
  afterAll(() => t.close());

  const visibleToStaff32 = ['a-public-33', 'b-restricted-32', 'c-restricted-3201', 'd-public-32', 'e-exempt-32'];

  async function allPages(token: string | undefined, query = '', limit = 2) {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q = `?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await t.request('GET', `/v1/datasets${q}`, token ? { token } : {});
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(limit);
      ids.push(...r.body.items.map((d: any) => d.id));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    return ids;
  }

  it('reads only visible rows from the database, honouring LIMIT (the filter is in the SQL)', async () => {
    const access = catalogAccess(t.deps.services.policy.current());
    const scope = access.readScope(staff32);
    expect(scope.kind).toBe('conditional');
    let after: string | undefined;
    const seen: string[] = [];
    for (;;) {
      const rows = await listDatasets(t.db.sql, scope, { limit: 2, ...(after ? { after } : {}) });
      // Every row the query returned is visible: nothing is fetched to be dropped afterwards.
      expect(rows.length).toBeLessThanOrEqual(3);
      for (const r of rows) expect(access.canRead(staff32, datasetAttributes(r)).allow, r.id).toBe(true);
      const page = rows.slice(0, 2);
      seen.push(...page.map((r) => r.id));
      if (rows.length <= 2) break;
      after = page.at(-1)!.id;
    }
    expect(seen).toEqual(visibleToStaff32);
    const total = (await t.db.sql`select count(*)::int as n from datasets`)[0]!.n as number;
    expect(total).toBe(visibleToStaff32.length + 1 + INVISIBLE);
  });

  it('translates the read scope into a parameterised WHERE clause', async () => {
    const scope = catalogAccess(t.deps.services.policy.current()).readScope(staff32);
    const q = t.db.sql`select id from datasets d where ${planSql(t.db.sql, scope)}`;
    const { string, types } = await q.describe();
    expect(string).toMatch(/d\.effective_classification = \$\d/);
    expect(string).toMatch(/d\.owner_unit like \$\d/);
    expect(string).not.toContain("'32'");
    expect(types.length).toBeGreaterThan(2);
  });

  it('pages through exactly the visible datasets over HTTP', async () => {
    expect(await allPages(who.staff32)).toEqual(visibleToStaff32);
    expect(await allPages(undefined)).toEqual(['a-public-33', 'd-public-32']);
    const staff35 = await tokenFor({ sub: 'staff-35', roles: ['staff'], unit: '35' });
    expect(await allPages(staff35, '', 3)).toEqual(['a-public-33', 'd-public-32']);
    // Staff of 33 also see the labelled (restricted) rows of 33, and no unlabelled ones.
    const staff33 = await allPages(who.staff33, '', 7);
    const restricted33 = Array.from({ length: INVISIBLE }, (_, i) => i)
      .filter((i) => i % 2 === 1 && i % 3 === 0)
      .map((i) => `z-hidden-${String(i).padStart(3, '0')}`);
    expect(staff33).toEqual(['a-public-33', 'd-public-32', ...restricted33]);
    const steward = await allPages(who.steward32, '', 4);
    expect(steward).toEqual([...visibleToStaff32, 'f-unlabelled-32']);
    const admin = await allPages(who.admin, '', 50);
    expect(admin.length).toBe(visibleToStaff32.length + 1 + INVISIBLE);
  });

  it('filters by classification, unit subtree, unlabelled, source system and overdue review', async () => {
    expect(await allPages(who.staff32, '&classification=restricted')).toEqual(['b-restricted-32', 'c-restricted-3201']);
    expect(await allPages(who.staff32, '&unit=32.01')).toEqual(['c-restricted-3201']);
    expect(await allPages(who.staff32, '&unit=32')).toEqual([
      'b-restricted-32',
      'c-restricted-3201',
      'd-public-32',
      'e-exempt-32',
    ]);
    expect(await allPages(who.staff32, '&unlabelled=true')).toEqual([]);
    const unl = await t.request('GET', '/v1/datasets?unlabelled=true', { token: who.steward32 });
    expect(unl.body.items.map((d: any) => [d.id, d.classification, d.labelStatus])).toEqual([
      ['f-unlabelled-32', null, 'unlabelled'],
    ]);
    expect(await allPages(who.staff32, '&sourceSystem=SIWASLU')).toEqual(['c-restricted-3201']);
    expect(await allPages(who.ppid32, '&reviewOverdue=true')).toEqual([]);
    await t.db.sql`update datasets set label_review_by = '2000-01-01' where id = 'e-exempt-32'`;
    expect(await allPages(who.ppid32, '&reviewOverdue=true')).toEqual(['e-exempt-32']);
    await t.db.sql`update datasets set label_review_by = ${EXEMPTION.reviewBy} where id = 'e-exempt-32'`;
  });

  it('refuses unknown filters and malformed cursors', async () => {
    expect((await t.request('GET', '/v1/datasets?owner=32', { token: who.staff32 })).status).toBe(400);
    expect((await t.request('GET', '/v1/datasets?cursor=!!', { token: who.staff32 })).status).toBe(400);
    expect((await t.request('GET', '/v1/datasets?limit=0', { token: who.staff32 })).status).toBe(400);
    expect((await t.request('GET', '/v1/datasets?limit=500', { token: who.staff32 })).status).toBe(400);
  });

  it('gives the anonymous public nothing but public datasets', async () => {
    const rows = await listDatasets(t.db.sql, catalogAccess(t.deps.services.policy.current()).readScope(ANONYMOUS), {
      limit: 100,
    });
    expect(rows.map((r) => r.effective_classification)).toEqual(['public', 'public']);
  });
});
