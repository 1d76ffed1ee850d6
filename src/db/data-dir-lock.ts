import { randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/**
 * The embedded database's folder lock. PGlite is single-process: a second process opening the
 * same folder corrupts it or silently loses committed rows. So every opener (the server, a CLI, a
 * test) holds `jaga.lock` in the folder for as long as its PGlite is open.
 *
 * - Taken atomically: the holder's record is written to a private file and hard-linked to
 *   `jaga.lock` (link fails if the name exists), so a reader never sees a half-written lock.
 * - Released when the database closes, and on process exit if it was not closed.
 * - A lock whose holder is gone (kill -9, a crash, a reboot) is stale and taken over: the pid no
 *   longer runs, or it runs but started at another time (the pid was reused; Linux start time
 *   from /proc), or the machine has rebooted since (boot id). A lock from another host is never
 *   judged: its pid means nothing here.
 * - Taking over is elected: the contender that creates `jaga.lock.takeover-<stale token>` first
 *   removes the stale lock; the others retry and find the winner's lock (or race for the free
 *   name, which only one can take).
 */
export const LOCK_FILE = 'jaga.lock';

export interface LockHolder {
  pid: number;
  host: string;
  /** The process's start in clock ticks after boot (Linux); null where it cannot be read. */
  startTime: string | null;
  bootId: string | null;
  /** Random per opening: names this holding (and is the operator channel's credential). */
  token: string;
  /** What holds the folder: `server`, `npm run import`, … */
  command: string;
  since: string;
  /** The server's operator socket, once it answers the CLIs (src/operator). */
  socket?: string;
}

export interface DataDirLock {
  readonly file: string;
  holder(): LockHolder;
  /** The stale lock this one replaced (its holder was gone), if any. */
  readonly replaced: LockHolder | null;
  /** Adds what a running server offers (its operator socket) to the lock record. */
  publish(extra: { socket: string }): void;
  /** Removes the lock if it is still this holding's; idempotent. */
  release(): void;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  readonly dir: string;
  /** null when the lock file could not be read. */
  readonly holder: LockHolder | null;
  constructor(dir: string, holder: LockHolder | null, message: string) {
    super(message);
    this.dir = dir;
    this.holder = holder;
  }
}

type Liveness = 'live' | 'stale' | 'foreign';

export function lockFile(dir: string): string {
  return join(dir, LOCK_FILE);
}

/** Takes the folder's lock for this process, taking over a stale one; refuses if another process holds it. */
export async function acquireDataDirLock(dir: string, command: string): Promise<DataDirLock> {
  const file = lockFile(dir);
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startTime: processStat(process.pid)?.startTime ?? null,
    bootId: currentBootId(),
    token: randomBytes(24).toString('base64url'),
    command,
    since: new Date().toISOString(),
  };
  // Rounds: a lock vanishing between our create and read, a record being written without hard
  // links, or another contender's takeover in progress each cost one short wait.
  let replaced: LockHolder | null = null;
  for (let round = 0; round < 100; round++) {
    if (createLock(file, me)) return holding(file, me, replaced);
    const seen = readLockFile(file);
    if (seen === 'missing') continue;
    if (seen === 'unreadable') {
      if (round < 20) {
        await sleep(25);
        continue;
      }
      throw new DataDirLockedError(
        dir,
        null,
        `The embedded database in ${dir} has a lock file that cannot be read (${file}). If no Jaga process uses the folder, delete that file.`,
      );
    }
    const state = liveness(seen);
    if (state !== 'stale') throw new DataDirLockedError(dir, seen, heldMessage(dir, seen, state));
    const marker = `${file}.takeover-${safeName(seen.token)}`;
    if (!createExclusive(marker, JSON.stringify({ pid: process.pid, host: me.host, since: me.since }))) {
      await sleep(20);
      continue;
    }
    try {
      // Under the election: the stale lock is still there unless its takeover is already done.
      const again = readLockFile(file);
      if (typeof again === 'object' && again.token === seen.token) {
        unlinkSync(file);
        removeSocketDir(seen.socket);
        replaced = seen;
      }
    } finally {
      unlinkSync(marker);
    }
  }
  throw new DataDirLockedError(
    dir,
    null,
    `Could not take the lock of the embedded database in ${dir}: a takeover of a stale lock did not finish (look for ${file}.takeover-*). If no Jaga process uses the folder, delete those files.`,
  );
}

/** The holder of the folder's lock if it is held by a live process (or by another host), else null. */
export function liveHolder(dir: string): LockHolder | null {
  const seen = readLockFile(lockFile(dir));
  if (typeof seen !== 'object') return null;
  return liveness(seen) === 'stale' ? null : seen;
}

/** What may be logged of a holder: not its token, which opens its operator channel. */
export function publicHolder(h: LockHolder): Omit<LockHolder, 'token'> {
  const { token: _token, ...rest } = h;
  return rest;
}

/** Who holds the lock, in words: what the refusals say. */
export function describeHolder(h: LockHolder): string {
  const what = h.command === 'server' ? 'a running Jaga server' : `\`${h.command}\``;
  return `${what} (pid ${h.pid}${h.host === hostname() ? '' : ` on host ${h.host}`}, since ${h.since})`;
}

function heldMessage(dir: string, h: LockHolder, state: Liveness): string {
  const who = describeHolder(h);
  if (state === 'foreign') {
    return `The embedded database in ${dir} is locked by ${who}; PGlite serves one process at a time. If no process on ${h.host} uses the folder, delete ${lockFile(dir)}.`;
  }
  const advice =
    h.command === 'server'
      ? 'stop it first, or give this process another JAGA_DATA_DIR (or use PostgreSQL through DATABASE_URL)'
      : 'wait for it to finish';
  return `The embedded database in ${dir} is in use by ${who}; PGlite serves one process at a time: ${advice}.`;
}

function liveness(h: LockHolder): Liveness {
  if (h.host !== hostname()) return 'foreign';
  const boot = currentBootId();
  if (h.bootId && boot && h.bootId !== boot) return 'stale';
  try {
    process.kill(h.pid, 0);
  } catch (error) {
    // EPERM: it runs, as another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'stale';
  }
  const stat = processStat(h.pid);
  // A killed process stays a zombie until its parent reaps it: it holds nothing any more.
  if (stat && (stat.state === 'Z' || stat.state === 'X')) return 'stale';
  if (h.startTime && stat && stat.startTime !== h.startTime) return 'stale';
  return 'live';
}

function holding(file: string, me: LockHolder, replaced: LockHolder | null): DataDirLock {
  let current = me;
  let held = true;
  const onExit = () => release();
  process.once('exit', onExit);
  function release() {
    if (!held) return;
    held = false;
    process.removeListener('exit', onExit);
    const seen = readLockFile(file);
    if (typeof seen === 'object' && seen.token === me.token) unlinkSync(file);
  }
  return {
    file,
    replaced,
    holder: () => current,
    publish(extra) {
      const seen = readLockFile(file);
      if (!held || typeof seen !== 'object' || seen.token !== me.token)
        throw new Error(`the lock ${file} is no longer held by this process`);
      current = { ...current, ...extra };
      // Replaced whole by a rename: readers see the old record or the new one, both ours.
      const tmp = privateName(file, me.token);
      writeFileSync(tmp, JSON.stringify(current) + '\n', { mode: 0o600 });
      renameSync(tmp, file);
    },
    release,
  };
}

/** Creates the lock with the holder's record in one step; false if the name is taken. */
function createLock(file: string, me: LockHolder): boolean {
  const text = JSON.stringify(me) + '\n';
  const tmp = privateName(file, me.token);
  writeFileSync(tmp, text, { mode: 0o600 });
  try {
    linkSync(tmp, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // File systems without hard links: create-exclusive, then write (a reader may briefly see it empty).
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS')
      return createExclusive(file, text);
    throw error;
  } finally {
    rmSync(tmp, { force: true });
  }
}

function createExclusive(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readLockFile(file: string): LockHolder | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (
      typeof h.pid === 'number' &&
      typeof h.token === 'string' &&
      typeof h.host === 'string' &&
      typeof h.command === 'string'
    ) {
      return {
        pid: h.pid,
        host: h.host,
        startTime: typeof h.startTime === 'string' ? h.startTime : null,
        bootId: typeof h.bootId === 'string' ? h.bootId : null,
        token: h.token,
        command: h.command,
        since: typeof h.since === 'string' ? h.since : 'an unknown time',
        ...(typeof h.socket === 'string' ? { socket: h.socket } : {}),
      };
    }
  } catch {
    // fall through
  }
  return 'unreadable';
}

/** Linux: the state (field 3) and start time in clock ticks after boot (field 22) of /proc/<pid>/stat. */
function processStat(pid: number): { state: string; startTime: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] && fields[19] ? { state: fields[0], startTime: fields[19] } : null;
  } catch {
    return null;
  }
}

let bootId: string | null | undefined;
function currentBootId(): string | null {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      bootId = null;
    }
  }
  return bootId;
}

/** A dead server's operator socket folder (ours only: a `jaga-` folder in the temp folder). */
function removeSocketDir(socket: string | undefined): void {
  if (!socket) return;
  const dir = dirname(socket);
  if (dirname(dir) !== tmpdir() || !basename(dir).startsWith('jaga-')) return;
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // not ours to remove after all; it only takes a little room
  }
}

const safeName = (token: string) => token.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
const privateName = (file: string, token: string) => `${file}.${safeName(token)}.tmp`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
