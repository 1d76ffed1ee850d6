/**
 * Swagger UI's browser files, served by Jaga itself from the `swagger-ui-dist` package (never a CDN:
 * deployments may be offline, and the console's CSP allows only 'self'). Where no file system or
 * package is reachable (the Workers entry), nothing is found and /docs falls back to a page
 * rendered on the server.
 */
export const DOCS_ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
} as const;
export type DocsAssetName = keyof typeof DOCS_ASSETS;

const cache = new Map<DocsAssetName, Promise<Uint8Array<ArrayBuffer> | undefined>>();

async function load(name: DocsAssetName): Promise<Uint8Array<ArrayBuffer> | undefined> {
  try {
    const { createRequire } = await import('node:module');
    const { readFile } = await import('node:fs/promises');
    const manifest = createRequire(import.meta.url).resolve('swagger-ui-dist/package.json');
    return new Uint8Array(await readFile(manifest.replace(/package\.json$/, name)));
  } catch {
    return undefined;
  }
}

export function docsAsset(name: DocsAssetName): Promise<Uint8Array<ArrayBuffer> | undefined> {
  let found = cache.get(name);
  if (!found) {
    found = load(name);
    cache.set(name, found);
  }
  return found;
}

/** Starts Swagger UI on the served document; a file of its own so the page needs no inline script. */
export const DOCS_INIT_SCRIPT = `window.addEventListener('DOMContentLoaded', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    tryItOutEnabled: false,
    persistAuthorization: false,
    displayOperationId: true,
    defaultModelsExpandDepth: 0,
  });
});
`;
