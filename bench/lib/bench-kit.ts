import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

// Small helpers the bench scripts share (bench:check, bench:export, bench:start).

const ROOT = join(import.meta.dirname, '../..');

/** The node flags an npm script of package.json runs with (the benches run what users run). */
export function scriptFlags(script: string): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return (pkg.scripts[script] ?? '').split(/\s+/).filter((w) => w.startsWith('--'));
}

/** A process's resident memory now (VmRSS) or at its peak (VmHWM), in MB; 0 once it is gone. */
export function vm(pid: number, key: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
