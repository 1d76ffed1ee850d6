import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('serves a readable reference page at /docs without external scripts', async () => {
    const r = await t.request('GET', '/docs');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.text).toContain('/openapi.json');
    expect(r.text).not.toMatch(/<script[^>]+src=/);
  });
});
