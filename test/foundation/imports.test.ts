import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/process.ts';

// The module graph of src/, read from the import and export statements (type-only ones included:
// a cycle of types is still a knot a reader has to untie).
const SRC = join(ROOT, 'src');
const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?'(\.{1,2}\/[^']+)'/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const targets = [...readFileSync(file, 'utf8').matchAll(IMPORT)]
      .map((m) => resolve(dirname(file), m[1]!))
      .filter((t) => t.startsWith(SRC));
    graph.set(
      relative(ROOT, file),
      targets.map((t) => relative(ROOT, t)),
    );
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

/** The layers of docs/architecture.md (also eslint.config.js): who may not import what. */
const FORBIDDEN: { from: RegExp; to: RegExp; except?: RegExp }[] = [
  { from: /^src\/shared\//, to: /^src\/(?!shared\/)/ },
  { from: /^src\/db\//, to: /^src\/(?!db\/|shared\/|config\/)/ },
  {
    from: /^src\/(policy\/(engine[^/]*|conditions|plan-sql|loader)|.*\.(service|repo|port|access))\.ts$/,
    to: /^src\/http\//,
  },
  { from: /^src\/(?!entry\/|cli\/|app\.ts|boot\.ts|wiring\.ts)/, to: /^src\/(entry\/|cli\/|app\.ts|boot\.ts)/ },
];

describe('module boundaries', () => {
  const graph = importGraph();

  it('reads the graph (a known edge is seen)', () => {
    expect(graph.get('src/wiring.ts')).toContain('src/catalog/catalog.service.ts');
    expect(graph.get('src/db/pg-errors.ts')).toContain('src/shared/errors.ts');
  });

  it('has no import cycle in src/', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('the Workers entry reaches no worker thread (the verifier starts them only from the Node entry and the CLI)', () => {
    const reached = new Set<string>();
    const visit = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const next of graph.get(file) ?? []) visit(next);
    };
    visit('src/entry/worker.ts');
    expect(reached).toContain('src/audit/audit.verify.ts');
    const threads = [...reached].filter((f) => /'node:worker_threads'/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(threads).toEqual([]);
    expect(graph.get('src/boot.ts')).toContain('src/audit/audit.verify-workers.ts');
  });

  it('no layer imports one it may not depend on', () => {
    const broken = [...graph].flatMap(([file, targets]) =>
      FORBIDDEN.filter((rule) => rule.from.test(file) && !rule.except?.test(file)).flatMap((rule) =>
        targets.filter((t) => rule.to.test(t)).map((t) => `${file} → ${t}`),
      ),
    );
    expect(broken).toEqual([]);
  });
});
