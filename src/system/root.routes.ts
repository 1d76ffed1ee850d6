import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../http/context.ts';
import { negotiate } from '../http/negotiate.ts';
import { describe } from '../http/openapi.ts';

const Link = v.object({ href: v.string(), title: v.string() });
const Root = v.object({
  name: v.literal('Jaga'),
  version: v.string(),
  links: v.record(v.string(), Link),
});
type Root = v.InferOutput<typeof Root>;

const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/**
 * `GET /`: where to go from here, for a person (HTML by Accept) or a program (JSON). Points only
 * to what this build serves: the console first (people), then the API's reference and health routes.
 */
export function rootRoutes(options: { version: string; metrics: boolean }) {
  const links: Root['links'] = {
    console: { href: '/console', title: 'Web console (registers and open data without signing in)' },
    docs: { href: '/docs', title: 'API reference (try calls with a bearer token)' },
    openapi: { href: '/openapi.json', title: 'OpenAPI document' },
    health: { href: '/healthz', title: 'Liveness' },
    ready: { href: '/readyz', title: 'Readiness, with each check' },
    registers: { href: '/v1/registers/public', title: 'Public information register (anonymous)' },
    openData: { href: '/v1/public/datasets', title: 'Open data (anonymous)' },
    ...(options.metrics ? { metrics: { href: '/metrics', title: 'Prometheus metrics' } } : {}),
  };
  const body: Root = {
    name: 'Jaga',
    version: options.version,
    links,
  };
  const html =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Jaga</title>' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>' +
    `<h1>Jaga ${esc(options.version)}</h1><p>Data classification and access governance.</p><ul>` +
    Object.values(links)
      .map((l) => `<li><a href="${esc(l.href)}">${esc(l.href)}</a>: ${esc(l.title)}</li>`)
      .join('') +
    '</ul></body></html>';
  return new Hono<AppEnv>().get(
    '/',
    describe({
      summary: 'Where to go from here: links to the API reference, the OpenAPI document and the health routes',
      operationId: 'getRoot',
      description: 'JSON for programs, HTML for a browser (by Accept). Lists only what this build serves.',
      tags: ['system'],
      security: 'none',
      responses: {
        200: { description: 'JSON, or HTML by Accept', schema: Root, contentTypes: ['application/json', 'text/html'] },
      },
    }),
    (c) => {
      const format = negotiate(c, { 'application/json': 'json', 'text/html': 'html' } as const);
      if (format === 'html')
        return c.html(html, 200, {
          'content-security-policy': "default-src 'none'",
          'x-content-type-options': 'nosniff',
        });
      return c.json(body);
    },
  );
}
