/**
 * A self-contained API reference page rendered from the OpenAPI document in the browser.
 * No CDN script: Jaga's deployments may be offline.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Jaga API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafafa}
header{background:#12343b;color:#fff;padding:16px 28px}header h1{margin:0;font-size:22px}
main{max-width:1000px;margin:0 auto;padding:20px 28px}
section{background:#fff;border:1px solid #dde;border-radius:6px;margin:10px 0;padding:10px 16px}
.m{display:inline-block;min-width:64px;font-weight:700;font-family:monospace;text-transform:uppercase}
.get{color:#1a7f37}.post{color:#0550ae}.put{color:#9a6700}.delete{color:#cf222e}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f3f4f6;padding:8px;overflow:auto;max-height:320px}
h2{font-size:17px;margin:26px 0 4px;border-bottom:1px solid #ccd}details summary{cursor:pointer}
</style></head><body><header><h1>Jaga API reference</h1><div id="v"></div></header><main id="ops">Loading /openapi.json…</main>
<script>
fetch('/openapi.json').then(r=>r.json()).then(doc=>{
  const esc=s=>String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
  document.getElementById('v').textContent=doc.info.title+' '+doc.info.version;
  const byTag={};
  for(const [p,ops] of Object.entries(doc.paths))for(const [m,op] of Object.entries(ops))
    (byTag[(op.tags&&op.tags[0])||'other']??=[]).push({p,m,op});
  let html='';
  for(const [tag,list] of Object.entries(byTag)){
    html+='<h2>'+esc(tag)+'</h2>';
    for(const {p,m,op} of list){
      html+='<section><span class="m '+m+'">'+m+'</span><code>'+esc(p)+'</code> — '+esc(op.summary)+
      (op.description?'<p>'+esc(op.description)+'</p>':'')+
      '<details><summary>parameters, body and responses</summary><pre>'+esc(JSON.stringify({parameters:op.parameters,requestBody:op.requestBody,responses:op.responses},null,2))+'</pre></details></section>';
    }
  }
  document.getElementById('ops').innerHTML=html;
});
</script></body></html>`;
