import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Linux `perf` over the pinned core during a bench phase (BENCH_PERF_DIR): the server, its
 * PostgreSQL and anything else on core 0, sampled at 999 Hz with call graphs. A V8 profile sees
 * only the server's JavaScript; this sees PostgreSQL's part of a logged check by function (the
 * Debian binaries keep their dynamic symbols) and the kernel's (syscalls, the loopback, wake-ups).
 * Needs perf and root or perf_event_paranoid ≤ 0.
 */
export interface PerfPhase {
  name: string;
  file: string;
  child: ChildProcess;
  answered?: number;
  /** Thread ids of the server under test and of its PostgreSQL's processes, taken at the phase's end. */
  server?: Set<number>;
  database?: Set<number>;
}

const tasks = (pid: number): number[] => {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
};

/** The threads of `pid` and the processes under `postmaster` (PostgreSQL's backends), as now. */
export function threadsOf(
  pid: number | undefined,
  postmaster: number | undefined,
): Pick<PerfPhase, 'server' | 'database'> {
  const database = new Set<number>();
  if (postmaster) {
    database.add(postmaster);
    const kids = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    for (const k of kids) database.add(Number(k));
  }
  return { ...(pid ? { server: new Set(tasks(pid)) } : {}), database };
}

const slug = (s: string) => s.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '');

/** Starts sampling core 0 for `seconds` (the phase's warm-up and measured time). */
export function startPerf(dir: string, name: string, seconds: number): PerfPhase {
  const file = join(dir, `${slug(name)}.perf.data`);
  const child = spawn(
    'perf',
    ['record', '-q', '-F', '999', '-g', '-C', '0', '-o', file, '--', 'sleep', String(seconds)],
    { stdio: 'ignore' },
  );
  return { name, file, child };
}

interface Row {
  pct: number;
  tid: number;
  dso: string;
  symbol: string;
}

function report(file: string): { ns: number; rows: Row[] } {
  const text = execFileSync(
    'perf',
    [
      'report',
      '-i',
      file,
      '--no-children',
      '--sort',
      'pid,dso,symbol',
      '--stdio',
      '-g',
      'none',
      '--percent-limit',
      '0',
      '-t',
      '|',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  // cpu-clock's event count is in nanoseconds of CPU sampled.
  const ns = Number(/Event count \(approx\.\): (\d+)/.exec(text)?.[1] ?? 0);
  const rows: Row[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [pct, pid, dso, symbol] = line.split('|').map((x) => x.trim());
    if (!pct?.endsWith('%') || !symbol) continue;
    rows.push({
      pct: Number(pct.slice(0, -1)),
      tid: Number(/^\s*(\d+)/.exec(pid!)?.[1] ?? -1),
      dso: dso!,
      symbol: symbol.replace(/^\[[.k]\]\s*/, ''),
    });
  }
  return { ns, rows };
}

/** Prints, per phase, µs per answered request by party (server, PostgreSQL, idle, the rest) and each party's top functions. */
export async function printPerf(phases: PerfPhase[]): Promise<void> {
  for (const p of phases) {
    await new Promise((r) => (p.child.exitCode !== null ? r(null) : p.child.once('exit', r)));
    if (!p.answered) continue;
    const { ns, rows } = report(p.file);
    const perReq = (pct: number) => ((pct / 100) * ns) / 1000 / p.answered!;
    const party = (r: Row) =>
      p.server?.has(r.tid) ? 'server' : p.database?.has(r.tid) ? 'postgres' : r.tid === 0 ? 'idle' : 'other processes';
    const parties = new Map<string, Row[]>();
    for (const r of rows) parties.set(party(r), [...(parties.get(party(r)) ?? []), r]);
    console.log(`\nperf on core 0, ${p.name}: ${(ns / 1e9).toFixed(2)} s sampled, ${p.answered} requests (${p.file})`);
    for (const [name, rs] of [...parties].sort((a, b) => b[1].length - a[1].length)) {
      const total = rs.reduce((n, r) => n + r.pct, 0);
      const kernel = rs.filter((r) => r.dso === '[kernel.kallsyms]').reduce((n, r) => n + r.pct, 0);
      console.log(
        `  ${name.padEnd(16)} ${perReq(total).toFixed(1).padStart(7)} µs/req (kernel ${perReq(kernel).toFixed(1)})`,
      );
      if (name !== 'server' && name !== 'postgres') continue;
      const bySymbol = new Map<string, number>();
      for (const r of rs) bySymbol.set(`${r.symbol} (${r.dso})`, (bySymbol.get(`${r.symbol} (${r.dso})`) ?? 0) + r.pct);
      for (const [sym, pct] of [...bySymbol].sort((a, b) => b[1] - a[1]).slice(0, name === 'postgres' ? 25 : 12))
        console.log(`      ${perReq(pct).toFixed(1).padStart(6)}  ${sym}`);
    }
  }
}
