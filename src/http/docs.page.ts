/**
 * The API reference at /docs. With Swagger UI's files at hand (docs.assets.ts): the interactive
 * reference, with "Authorize" for a bearer token and "Try it out" on every operation. Without them:
 * the same operations rendered here on the server, readable without any script.
 */
const esc = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const INTERACTIVE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Jaga API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head><body>
<noscript><p>This reference needs JavaScript. The document itself is at <a href="/openapi.json">/openapi.json</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body></html>`;

type Json = Record<string, any>;

function operation(method: string, path: string, op: Json): string {
  const params = ((op.parameters ?? []) as Json[])
    .map(
      (p) =>
        `<li><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ', required' : ''}) ${esc(p.description ?? '')}</li>`,
    )
    .join('');
  const responses = Object.entries((op.responses ?? {}) as Json)
    .map(([status, r]) => `<li><code>${esc(status)}</code> ${esc((r as Json).description ?? '')}</li>`)
    .join('');
  const auth = Array.isArray(op.security) && op.security.length === 0 ? 'no token' : 'bearer token';
  return `<section id="${esc(op.operationId ?? '')}"><h3><span class="m ${esc(method)}">${esc(method)}</span> <code>${esc(path)}</code></h3>
<p><strong>${esc(op.summary ?? '')}</strong> <small>(${esc(op.operationId ?? '')}; ${auth})</small></p><p>${esc(op.description ?? '')}</p>
${params ? `<details><summary>Parameters</summary><ul>${params}</ul></details>` : ''}<details><summary>Responses</summary><ul>${responses}</ul></details></section>`;
}

/** The reference rendered on the server from the document: no script, no fetch. */
export function staticReferencePage(doc: Json): string {
  const byTag = new Map<string, string[]>();
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) {
      const tag = ((op as Json).tags?.[0] as string | undefined) ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), operation(method, path, op as Json)]);
    }
  }
  const sections = [...byTag].map(([tag, ops]) => `<h2>${esc(tag)}</h2>${ops.join('\n')}`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Jaga API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafafa}
header{background:#12343b;color:#fff;padding:16px 28px}header h1{margin:0;font-size:22px}
main{max-width:1000px;margin:0 auto;padding:20px 28px}
section{background:#fff;border:1px solid #dde;border-radius:6px;margin:10px 0;padding:10px 16px}
h3{margin:4px 0;font-size:15px}.m{display:inline-block;min-width:64px;font-weight:700;font-family:monospace;text-transform:uppercase}
.get{color:#1a7f37}.post{color:#0550ae}.put,.patch{color:#9a6700}.delete{color:#cf222e}
h2{font-size:17px;margin:26px 0 4px;border-bottom:1px solid #ccd}details summary{cursor:pointer}
</style></head><body><header><h1>${esc(doc.info?.title)} API reference ${esc(doc.info?.version)}</h1></header>
<main><p>${esc(doc.info?.description ?? '')} The machine-readable document: <a href="/openapi.json">/openapi.json</a>.</p>
${sections}</main></body></html>`;
}
