import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PolicySource } from './loader.ts';

/**
 * Reads `*.yaml` / `*.yml` policy files of a folder (not its `tests/`). Node only: a Worker
 * build passes bundled `{ name, text }` sources to the loader instead.
 */
export function policyFilesIn(dir: string): () => Promise<PolicySource[]> {
  return async () => {
    const names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
      .map((e) => e.name)
      .sort();
    return Promise.all(names.map(async (name) => ({ name, text: await readFile(join(dir, name), 'utf8') })));
  };
}
