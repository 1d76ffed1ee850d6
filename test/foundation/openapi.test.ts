import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticReferencePage } from '../../src/http/docs.page.ts';
import { operationsOf } from '../../src/http/openapi.document.ts';
import { startApp, type TestApp } from '../helpers/app.ts';

describe('OpenAPI document', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp('pglite');
  });
  afterAll(() => t.close());

  it('lists every route the app serves, each described', async () => {
    const doc = (await t.request('GET', '/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    const ops = operationsOf(t.app);
    expect(ops.length).toBeGreaterThan(3);
    for (const op of ops) {
      const path = op.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');
      const entry = doc.paths[path]?.[op.method.toLowerCase()];
      expect(entry, `${op.method} ${op.path} is missing from the document`).toBeDefined();
      expect(op.doc, `${op.method} ${op.path} has no describe()`).toBeDefined();
    }
  });

  it('serves the interactive reference at /docs from its own files, never a CDN, under a strict CSP', async () => {
    const r = await t.request('GET', '/docs');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    const sources = [...r.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.length).toBeGreaterThan(2);
    for (const src of sources) expect(src, 'no external asset').toMatch(/^\/(docs\/assets\/|openapi\.json)/);
    expect(r.text).not.toMatch(/<script>(?!<)/); // no inline script: the CSP forbids it
    for (const src of sources.filter((s) => s.startsWith('/docs/assets/'))) {
      const asset = await t.request('GET', src);
      expect(asset.status, src).toBe(200);
      expect(asset.text.length, src).toBeGreaterThan(100);
    }
    expect((await t.request('GET', '/docs/assets/../package.json')).status).toBe(404);
    expect((await t.request('GET', '/docs/assets/index.html')).status).toBe(404);
  });

  it('renders every operation on the server where Swagger UI is not available (the Workers entry)', async () => {
    const doc = (await t.request('GET', '/openapi.json')).body;
    const page = staticReferencePage(doc);
    expect(page).not.toContain('<script');
    for (const item of Object.values(doc.paths) as Record<string, { operationId: string }>[]) {
      for (const op of Object.values(item)) expect(page).toContain(`id="${op.operationId}"`);
    }
    expect(
      staticReferencePage({ ...doc, info: { title: '<img src=x onerror=alert(1)>', version: '1' } }),
    ).not.toContain('<img');
  });
});
