import { acquireDataDirLock } from '../../src/db/data-dir-lock.ts';

// One contender for a data folder's lock (test/foundation/embedded-lock.test.ts): waits until the
// given wall-clock time so that every contender tries at once, tries, prints the outcome, and
// keeps a won lock for `holdMs` so the others cannot take it after it is let go.
const [dir, startAt, holdMs] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
try {
  const lock = await acquireDataDirLock(dir, 'contender');
  process.stdout.write(`won ${lock.replaced ? 'replaced' : 'fresh'}\n`);
  await new Promise((r) => setTimeout(r, holdMs));
  lock.release();
} catch (error) {
  process.stdout.write(`refused ${(error as Error).name}\n`);
}
