// `npm run build` (run by `npm start` first): bundles the Node entry into dist/node/jaga.mjs with
// esbuild. One file of plain JavaScript loads faster and lighter than ~200 TypeScript modules
// stripped at start-up: idle RSS 133 -> 83 MB (docs/records.md). Tests run the same bundle
// (test/foundation/process.test.ts). PGlite stays a package import: it loads its WebAssembly
// and data files from beside its own module. The audit verifier's worker threads load their own
// module, bundled beside the entry as audit-verify-worker.mjs (src/audit/audit.verify-workers.ts).
import { build } from 'esbuild';
import { basename, dirname, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

/**
 * Bundles `entry` (relative to the root) to `outfile` (.mjs), and the verifier's worker beside it;
 * two folders below the root, like src/db/, so migrations resolve.
 */
export async function bundle(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [
      { in: join(ROOT, entry), out: basename(outfile, '.mjs') },
      { in: join(ROOT, 'src/audit/audit.verify-worker.ts'), out: 'audit-verify-worker' },
    ],
    outdir: dirname(join(ROOT, outfile)),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    sourcemap: true,
    external: ['@electric-sql/pglite', '@electric-sql/pglite-socket'],
    // CommonJS dependencies inside an ES module bundle still call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __jagaRequire } from 'node:module'; const require = __jagaRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}

if (import.meta.main) await bundle('src/entry/node.ts', 'dist/node/jaga.mjs');
