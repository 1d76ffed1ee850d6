import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * Summarises V8 CPU profiles (`node --cpu-prof`) of a bench server: self time by function and by
 * area (HTTP floor, Hono, telemetry, identity, audit, PostgreSQL client, GC...), in µs per request
 * when the number of requests the server answered is given.
 *
 *   BENCH_ONLY=by-id BENCH_SERVER_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:check
 *   node bench/check/profile.ts /tmp/prof [requests answered] [top functions, default 40]
 *
 * The bench prints each server's pid and the requests it answered (warm-up included); profiles are
 * named after the pid. Compare two profiles of paired runs (same load, back to back) rather than
 * absolute figures: the machine is shared.
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const AREAS: [string, RegExp][] = [
  ['(idle)', /^\(idle\)$/],
  ['(gc)', /^\(garbage collector\)$/],
  ['(program)', /^\(program\)$/],
  ['telemetry', /opentelemetry|src\/telemetry\//],
  ['audit', /src\/audit\//],
  ['identity (jose, token)', /node_modules\/jose|src\/identity\//],
  ['policy (casl)', /@casl|@ucast|src\/policy\//],
  ['validation (valibot)', /valibot|src\/http\/validate/],
  ['catalog / check', /src\/catalog\/|src\/check|src\/records\//],
  ['postgres client', /node_modules\/postgres\//],
  ['hono', /node_modules\/hono\//],
  ['node-server', /@hono\/node-server/],
  ['jaga http', /src\/http\//],
  ['node internals (http, net, streams)', /^node:|^internal\//],
];

function area(url: string, fn: string): string {
  const key = url || fn;
  for (const [name, re] of AREAS) if (re.test(key)) return name;
  return url ? 'other js' : `native ${fn || '(anonymous)'}`;
}

/**
 * The source module of a line of an esbuild bundle (it marks each module with a `// path`
 * comment), so self time in `dist/...mjs` is attributed to `src/...` and `node_modules/...`.
 */
const bundles = new Map<string, { line: number; path: string }[]>();
function moduleOf(url: string, line: number): string {
  if (!url.startsWith('file://') || !url.endsWith('.mjs')) return url;
  let marks = bundles.get(url);
  if (!marks) {
    marks = [];
    try {
      readFileSync(new URL(url), 'utf8')
        .split('\n')
        .forEach((text, i) => {
          const m = /^\/\/ (\S+\.(?:ts|js|mjs|cjs))$/.exec(text);
          if (m) marks!.push({ line: i, path: m[1]!.replace(/^(\.\.\/)+(main\/)?/, '') });
        });
    } catch {
      // the bundle is gone: keep its name
    }
    bundles.set(url, marks);
  }
  let lo = 0;
  let hi = marks.length - 1;
  let found = url;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (marks[mid]!.line <= line) {
      found = marks[mid]!.path;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

const short = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|src|dist)\//, '$1/');

const [target, requestsArg, topArg] = process.argv.slice(2);
if (!target) {
  console.error('usage: node bench/check/profile.ts <profile or dir> [requests] [top]');
  process.exit(2);
}
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(target, f))
  : [target];
const requests = requestsArg ? Number(requestsArg) : 0;
const top = Number(topArg ?? 40);

for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++)
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) {
    const { functionName, url: raw, lineNumber } = byId.get(id)!.callFrame;
    const url = moduleOf(raw, lineNumber);
    const a = area(url, functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
    if (a !== '(idle)') busy += us;
    const key = `${functionName || '(anonymous)'} ${url ? short(url) : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  // Inclusive time per Jaga module: a sample counts for every src/ module on its stack. Stacks
  // restart after each await (the continuation runs from the microtask queue), so this is the
  // synchronous part of each middleware or service, callees (libraries, natives) included.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const moduleOfNode = new Map<number, string | null>();
  for (const n of p.nodes) {
    const m = moduleOf(n.callFrame.url, n.callFrame.lineNumber);
    moduleOfNode.set(
      n.id,
      /(^|\/)src\//.test(m) && !m.includes('node_modules') ? m.replace(/^.*?src\//, 'src/') : null,
    );
  }
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const m = moduleOfNode.get(at);
      if (m) seen.add(m);
    }
    for (const m of seen) inclusive.set(m, (inclusive.get(m) ?? 0) + us);
  }
  const per = (us: number) => (requests ? `${(us / requests).toFixed(1).padStart(8)} µs/req` : '');
  console.log(
    `\n${basename(file)}: ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(2)} s busy${requests ? `, ${requests} requests: ${(busy / requests).toFixed(1)} µs/req busy` : ''}`,
  );
  console.log('by area (self time):');
  for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1])) {
    if (a === '(idle)') continue;
    console.log(
      `  ${a.padEnd(38)} ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}% ${per(us)}`,
    );
  }
  console.log('Jaga modules (inclusive of their callees, synchronous part):');
  for (const [m, us] of [...inclusive].sort((x, y) => y[1] - x[1]).slice(0, 25)) {
    console.log(
      `  ${m.padEnd(38)} ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}% ${per(us)}`,
    );
  }
  console.log(`top ${top} functions (self time):`);
  for (const [k, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) {
    if (k.startsWith('(idle)')) continue;
    console.log(`  ${((100 * us) / busy).toFixed(1).padStart(5)}% ${per(us)}  ${k}`);
  }
}
