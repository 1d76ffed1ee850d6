import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from './context.ts';
import { DOCS_ASSETS, DOCS_INIT_SCRIPT, docsAsset, type DocsAssetName } from './docs.assets.ts';
import { INTERACTIVE_PAGE, staticReferencePage } from './docs.page.ts';
import { describe } from './openapi.ts';
import { buildOpenApi } from './openapi.document.ts';
import { valid } from './validate.ts';

const AssetParam = v.object({
  name: v.pipe(v.string(), v.maxLength(64), v.description('File name, e.g. swagger-ui-bundle.js')),
});

/** Scripts and styles from 'self' only; Swagger UI sets inline style attributes and shows data: images. */
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** `/openapi.json` (generated from the route schemas on first use), the `/docs` page and its assets. */
export function docsRoutes(getApp: () => Hono<any, any, any>, version: string) {
  let cached: string | undefined;
  const documentText = () => (cached ??= JSON.stringify(buildOpenApi(getApp(), { title: 'Jaga', version })));
  return new Hono<AppEnv>()
    .get(
      '/openapi.json',
      describe({
        operationId: 'getOpenApiDocument',
        description:
          'Generated from the same valibot schemas the routes validate with; cached after the first request.',
        summary: 'The OpenAPI 3.1 document',
        tags: ['system'],
        security: 'none',
        responses: { 200: { description: 'OpenAPI document', contentTypes: ['application/json'] } },
      }),
      (c) => c.body(documentText(), 200, { 'content-type': 'application/json' }),
    )
    .get(
      '/docs',
      describe({
        operationId: 'getApiReference',
        description:
          'Swagger UI on /openapi.json, served from Jaga itself: "Authorize" takes a bearer token, "Try it out" sends a call. Where its files are not available (the Workers entry), the operations rendered on the server.',
        summary: 'Human-readable API reference',
        tags: ['system'],
        security: 'none',
        responses: { 200: { description: 'HTML page', contentTypes: ['text/html'] } },
      }),
      async (c) => {
        c.header('content-security-policy', DOCS_CSP);
        if (await docsAsset('swagger-ui-bundle.js')) return c.html(INTERACTIVE_PAGE);
        return c.html(staticReferencePage(JSON.parse(documentText()) as Record<string, any>));
      },
    )
    .get(
      '/docs/assets/:name',
      describe({
        operationId: 'getApiReferenceAsset',
        description:
          'Swagger UI’s script and style sheet (from the swagger-ui-dist package) and the page’s start script.',
        summary: 'A file of the API reference page',
        tags: ['system'],
        security: 'none',
        responses: {
          200: { description: 'The file', contentTypes: ['text/javascript', 'text/css', 'image/png'] },
          404: { description: 'NOT_FOUND: no such file, or not available in this deployment' },
        },
      }),
      valid('param', AssetParam),
      async (c) => {
        const { name } = c.req.valid('param');
        const immutable = { 'cache-control': 'public, max-age=86400', 'x-content-type-options': 'nosniff' };
        if (name === 'init.js') {
          return c.body(DOCS_INIT_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8', ...immutable });
        }
        const body = Object.hasOwn(DOCS_ASSETS, name) ? await docsAsset(name as DocsAssetName) : undefined;
        if (!body) return c.notFound();
        return c.body(body, 200, { 'content-type': DOCS_ASSETS[name as DocsAssetName], ...immutable });
      },
    );
}
