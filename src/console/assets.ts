/**
 * The console's browser files, served by Jaga itself (never a CDN; the CSP allows scripts from
 * 'self' only): htmx from its npm package, and the console's own style sheet and small script.
 * Where the package cannot be read (the Workers entry), htmx is absent and every page still works
 * as plain links and forms: htmx only enhances them.
 */
const cache = new Map<string, Promise<Uint8Array<ArrayBuffer> | undefined>>();

function packageFile(pkg: string, file: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const key = `${pkg}/${file}`;
  let found = cache.get(key);
  if (!found) {
    found = (async () => {
      try {
        const { createRequire } = await import('node:module');
        const { readFile } = await import('node:fs/promises');
        const main = createRequire(import.meta.url).resolve(pkg);
        return new Uint8Array(await readFile(main.replace(/dist\/[^/]+$/, file)));
      } catch {
        return undefined;
      }
    })();
    cache.set(key, found);
  }
  return found;
}

const JS = 'text/javascript; charset=utf-8';

/**
 * Shows the exemption part of the label form only when `exempt` is chosen (the server checks it
 * either way). The CSV upload: sends the file itself as the request body (text/csv, streamed by
 * the server into the ingest), the CSRF token in a header, and shows the upload's progress; the
 * answer's `#upload-result` replaces the page's. Without this script the form posts as multipart.
 */
const CONSOLE_JS = `document.addEventListener('DOMContentLoaded', function () {
  var select = document.getElementById('classification');
  var part = document.getElementById('exemption');
  if (select && part) {
    var sync = function () { part.hidden = select.value !== 'exempt'; };
    select.addEventListener('change', sync);
    sync();
  }
  var upload = document.getElementById('upload');
  if (upload && window.XMLHttpRequest && window.DOMParser) {
    upload.addEventListener('submit', function (event) {
      var input = document.getElementById('upload-file');
      var file = input && input.files && input.files[0];
      if (!file) return;
      event.preventDefault();
      var box = document.getElementById('upload-progress-box');
      var bar = document.getElementById('upload-progress');
      var button = upload.querySelector('button[type=submit]');
      var token = upload.querySelector('input[name=_csrf]').value;
      box.hidden = false;
      bar.value = 0;
      button.disabled = true;
      var xhr = new XMLHttpRequest();
      xhr.open('POST', upload.getAttribute('action'));
      xhr.setRequestHeader('content-type', 'text/csv');
      xhr.setRequestHeader('x-jaga-csrf', token);
      xhr.upload.addEventListener('progress', function (e) {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.addEventListener('loadend', function () {
        button.disabled = false;
        bar.value = 100;
        var doc = new DOMParser().parseFromString(xhr.responseText || '', 'text/html');
        var answer = doc.getElementById('upload-result') || doc.querySelector('main');
        var here = document.getElementById('upload-result');
        if (answer && here) {
          here.replaceChildren.apply(here, Array.prototype.slice.call(answer.childNodes).map(function (n) { return document.importNode(n, true); }));
        } else if (here) {
          here.textContent = xhr.status + ' ' + xhr.statusText;
        }
      });
      xhr.send(file);
    });
  }
});
`;

const CONSOLE_CSS = `:root{--fg:#1b1f24;--muted:#4a5260;--accent:#0b5394;--bg:#fff;--line:#c9ced6;--warn:#7a4b00;--warnbg:#fff4d6}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px}
header{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;justify-content:space-between;padding:.5rem 1rem;border-bottom:1px solid var(--line)}
header ul{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:0;padding:0}
[aria-current=page]{font-weight:700}
.brand{font-weight:700;margin:0}
.account{display:flex;gap:1rem;align-items:center}
form.inline{display:inline}
main{padding:1rem;max-width:80rem}
table{border-collapse:collapse;width:100%;margin:1rem 0}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .75rem;margin:0}.kv dt{font-weight:600}.kv dd{margin:0}
.control{display:flex;flex-direction:column;margin:.5rem 0;max-width:40rem}
.controls{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end}
input,select,textarea,button{font:inherit;padding:.3rem}
button{cursor:pointer}
.notice{background:#e6f4ea;border:1px solid #1e7b34;padding:.5rem}
.error{background:#fdecea;border:1px solid #a61b1b;padding:.5rem}
.dev-banner{margin:0;background:var(--warnbg);color:var(--warn);padding:.5rem 1rem;border-bottom:2px solid var(--warn);font-weight:600}
.gloss{color:var(--muted)}
.timeline{list-style:none;padding:0;border-left:3px solid var(--line)}.timeline li{margin:0 0 1rem;padding-left:1rem}
.badge{display:inline-block;border:1px solid currentColor;border-radius:.25rem;padding:0 .3rem;font-size:.9em}
fieldset{border:1px solid var(--line);max-width:48rem}
@media print{header,.noprint,.dev-banner{display:none}main{max-width:none}}
`;

export const CONSOLE_ASSETS: Record<
  string,
  { type: string; body: () => Promise<string | Uint8Array<ArrayBuffer> | undefined> }
> = {
  'htmx.min.js': { type: JS, body: () => packageFile('htmx.org', 'dist/htmx.min.js') },
  'console.js': { type: JS, body: async () => CONSOLE_JS },
  'console.css': { type: 'text/css; charset=utf-8', body: async () => CONSOLE_CSS },
};
