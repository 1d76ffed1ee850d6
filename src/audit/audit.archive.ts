import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Queryable } from '../db/database.ts';
import type { ChainedRow } from './audit.entry.ts';
import { chainHash } from './audit.hash.ts';
import { fromDb, isPartitionName, type DbEntry } from './audit.repo.ts';
import type { BadEntry } from './audit.verify.ts';

/** What an archive holds, written beside it: enough to verify it alone and to join it to the chain. */
export interface ArchiveCheckpoint {
  partition: string;
  entries: number;
  /** The first entry's seq and the hash it links to (the last hash of the archive before it). */
  firstSeq: number | null;
  firstPrevHash: string | null;
  lastSeq: number | null;
  lastHash: string | null;
  /** SHA-256 of the NDJSON file, so a changed file shows before a line is read. */
  sha256: string;
  archivedAt: string;
}

const PAGE = 5000;

/**
 * Writes a partition's entries, in seq order, to `<dir>/<partition>.ndjson` (one entry per line, every
 * column, as the chain hashed it) and its checkpoint to `<dir>/<partition>.checkpoint.json`, each
 * written under a temporary name, synced and then renamed: an archive either exists whole or not at all.
 */
export async function archivePartition(sql: Queryable, name: string, dir: string): Promise<ArchiveCheckpoint> {
  if (!isPartitionName(name)) throw new Error(`not an audit partition: ${name}`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}.ndjson`);
  const out = await open(`${file}.partial`, 'w', 0o600);
  const digest = createHash('sha256');
  let entries = 0;
  let first: ChainedRow | undefined;
  let last: ChainedRow | undefined;
  try {
    for (let after = 0; ;) {
      // Names are checked above; the partition cannot be a parameter.
      const rows = await sql.unsafe<DbEntry[]>(`select * from ${name} where seq > $1 order by seq limit ${PAGE}`, [
        after,
      ]);
      if (!rows.length) break;
      const text = rows.map((r) => JSON.stringify(fromDb(r)) + '\n').join('');
      digest.update(text);
      await out.write(text);
      entries += rows.length;
      first ??= fromDb(rows[0]!);
      last = fromDb(rows.at(-1)!);
      after = last.seq;
      if (rows.length < PAGE) break;
    }
    await out.sync();
  } finally {
    await out.close();
  }
  await rename(`${file}.partial`, file);
  const checkpoint: ArchiveCheckpoint = {
    partition: name,
    entries,
    firstSeq: first?.seq ?? null,
    firstPrevHash: first?.prevHash ?? null,
    lastSeq: last?.seq ?? null,
    lastHash: last?.hash ?? null,
    sha256: digest.digest('hex'),
    archivedAt: new Date().toISOString(),
  };
  const cpFile = join(dir, `${name}.checkpoint.json`);
  const cp = await open(`${cpFile}.partial`, 'w', 0o600);
  try {
    await cp.write(JSON.stringify(checkpoint, null, 2) + '\n');
    await cp.sync();
  } finally {
    await cp.close();
  }
  await rename(`${cpFile}.partial`, cpFile);
  return checkpoint;
}

export interface ArchiveVerifyResult {
  ok: boolean;
  checked: number;
  /** The file's digest matches the checkpoint's. */
  digestOk: boolean;
  firstBad?: BadEntry;
  checkpoint: ArchiveCheckpoint;
}

/**
 * Verifies an archived partition from its export alone: every entry's hash (with the chain's key),
 * every link from the first entry's previous hash on, no seq missing, and the last entry's hash and
 * the file's digest as its checkpoint says. Joined to the log, the last hash is what audit_retention
 * recorded and the first kept entry after it links to.
 */
export async function verifyArchive(ndjsonFile: string, hmacKey: string | undefined): Promise<ArchiveVerifyResult> {
  const cpFile = ndjsonFile.replace(/\.ndjson$/, '.checkpoint.json');
  const checkpoint = JSON.parse(await readFile(cpFile, 'utf8')) as ArchiveCheckpoint;
  const digest = createHash('sha256');
  let checked = 0;
  let prev = checkpoint.firstPrevHash;
  let expected = checkpoint.firstSeq;
  let firstBad: BadEntry | undefined;
  const lines = createInterface({ input: createReadStream(ndjsonFile, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    digest.update(line + '\n');
    if (firstBad) continue;
    const raw = JSON.parse(line) as ChainedRow & { at: string; decidedAt: string };
    const e: ChainedRow = { ...raw, at: new Date(raw.at), decidedAt: new Date(raw.decidedAt) };
    if (e.seq !== expected)
      firstBad = {
        seq: expected ?? e.seq,
        id: null,
        problem: 'missing',
        detail: `entry ${expected} is missing from the archive`,
      };
    else if (e.prevHash !== prev)
      firstBad = {
        seq: e.seq,
        id: e.id,
        problem: 'link',
        detail: 'previous-hash link does not match the entry before it',
      };
    else if (chainHash(hmacKey, prev, e) !== e.hash)
      firstBad = { seq: e.seq, id: e.id, problem: 'hash', detail: 'content does not match its hash' };
    else {
      prev = e.hash;
      expected = e.seq + 1;
      checked += 1;
    }
  }
  const digestOk = digest.digest('hex') === checkpoint.sha256;
  if (!firstBad && checked !== checkpoint.entries)
    firstBad = {
      seq: expected ?? 0,
      id: null,
      problem: 'missing',
      detail: `the checkpoint says ${checkpoint.entries} entries, the archive holds ${checked}`,
    };
  if (!firstBad && prev !== checkpoint.lastHash)
    firstBad = {
      seq: checkpoint.lastSeq ?? 0,
      id: null,
      problem: 'hash',
      detail: "the last hash is not the checkpoint's",
    };
  return { ok: !firstBad && digestOk, checked, digestOk, checkpoint, ...(firstBad ? { firstBad } : {}) };
}
