import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/process.ts';

const SCRIPT = join(ROOT, 'scripts/pg-throwaway.sh');

/**
 * A PostgreSQL 15 cluster of the fault suite's own (the shared test server must stay up):
 * stopped, started again on the same port, or frozen with SIGSTOP, as an outage would.
 */
export class Cluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'jaga-fault-pg-'));
  readonly url: string;

  constructor() {
    this.url = execFileSync('bash', [SCRIPT, 'start', this.dir], { encoding: 'utf8' }).trim();
  }

  /** `pg_ctl stop` (fast: sessions are terminated; immediate: the server quits without a shutdown checkpoint). */
  halt(mode: 'fast' | 'immediate' = 'fast'): void {
    execFileSync('bash', [SCRIPT, 'halt', this.dir, mode]);
  }

  resume(): void {
    execFileSync('bash', [SCRIPT, 'resume', this.dir]);
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) the server and every backend: connections stay open, nothing answers. */
  signal(sig: 'STOP' | 'CONT'): void {
    const pid = readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8')
      .split('\n')[0]!
      .trim();
    const children = execFileSync('ps', ['-o', 'pid=', '--ppid', pid], { encoding: 'utf8' })
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
    execFileSync('kill', [`-${sig}`, pid, ...children]);
  }

  destroy(): void {
    try {
      this.signal('CONT');
    } catch {
      // not running
    }
    execFileSync('bash', [SCRIPT, 'stop', this.dir]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
