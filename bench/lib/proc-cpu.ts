import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

// CPU time from /proc (utime + stime): robust where req/s and rows/s are not (cores shared with
// whatever else runs on the machine). Used by bench:check and bench:export.
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);

/** CPU µs used so far by these processes (those gone meanwhile count 0). */
export function cpuUs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime
    } catch {
      // gone
    }
  }
  return ticks * TICK_US;
}

/** Every `postgres` process on the machine (server, backends, background workers). */
export function postgresPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * CPU µs used so far by one PostgreSQL cluster: its postmaster, its live children (backends,
 * background workers) and, through the postmaster's cutime/cstime, the children it has reaped.
 * Unlike `postgresPids`, other clusters on the machine (other people's tests) do not count, and a
 * backend that exits between two readings is neither lost nor counted twice.
 */
export function clusterCpuUs(postmaster: number): number {
  const fields = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  };
  const own = fields(postmaster);
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]); // utime, stime, cutime, cstime
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = fields(Number(d));
      if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]); // ppid
    } catch {
      // gone
    }
  }
  return ticks * TICK_US;
}
