import { Hono } from 'hono';
import type { AppEnv } from './context.ts';
import { DOCS_PAGE } from './docs.page.ts';
import { describe } from './openapi.ts';
import { buildOpenApi } from './openapi.document.ts';

/** `/openapi.json` (generated from the route schemas on first use) and the `/docs` page. */
export function docsRoutes(getApp: () => Hono<any, any, any>, version: string) {
  let cached: string | undefined;
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
      (c) => {
        cached ??= JSON.stringify(buildOpenApi(getApp(), { title: 'Jaga', version }));
        return c.body(cached, 200, { 'content-type': 'application/json' });
      },
    )
    .get(
      '/docs',
      describe({
        operationId: 'getApiReference',
        description:
          'An interactive reference rendered from /openapi.json, with a place to paste a bearer token and try calls.',
        summary: 'Human-readable API reference',
        tags: ['system'],
        security: 'none',
        responses: { 200: { description: 'HTML page', contentTypes: ['text/html'] } },
      }),
      (c) => c.html(DOCS_PAGE),
    );
}
