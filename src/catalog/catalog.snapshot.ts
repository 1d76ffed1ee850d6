import type { Queryable, Sql } from '../db/database.ts';
import type { DatasetAttributes, ResourceResolver } from '../policy/engine.types.ts';
import { findDataset, findFields } from './catalog.repo.ts';
import type { ExemptionIndex } from '../policy/citations.ts';
import {
  readCatalogVersion,
  readExemptions,
  readPurposes,
  readWholeCatalog,
  type SnapshotExemptionRow,
  type SnapshotPurposeRow,
} from './catalog.snapshot.repo.ts';
import type { PurposeRegister, RegisteredPurpose } from '../policy/purpose-register.ts';
import { datasetAttributes, fieldAttributes, type FieldForRead } from './catalog.view.ts';

/**
 * The catalog held in memory for decisions by id (`/v1/check`, batch, AuthZEN): every dataset's
 * attributes and its fields', as of one global catalog version (migrations/0007_catalog_version.sql).
 *
 * An answer comes from memory only while the snapshot is known current: a read of the version that
 * started at most `maxStaleMs` ago found the version the snapshot was loaded at, and nothing has
 * marked it stale since (a change made by this instance, a notification from another, a LISTEN
 * reconnect). Otherwise the resolver reads the database, as it would without a snapshot, and a
 * reload is started. So a change committed more than `maxStaleMs` before a check began is always
 * in its answer, and a change made through this instance is in every answer after its commit.
 *
 * The snapshot decides nothing that discloses data: records reads take labels from the database.
 */
export interface CatalogSnapshot {
  /** `Dataset` by id (its attributes plus `fields`); `Field` by `datasetId/field`. */
  resolver: ResourceResolver;
  /** Something changed (or may have): answer from the database until a reload has seen it. */
  invalidate(): void;
  /** Reloads when stale, or else confirms the version; resolves when done (errors are the caller's). */
  refresh(): Promise<void>;
  /**
   * The register of processing purposes as of the last load (null before it): decisions read it
   * synchronously; a purpose change bumps the catalog version and so reloads it like the rest.
   */
  purposes(): PurposeRegister | null;
  /** The exemptions open as of the last load, for refusals to cite (null before it). */
  exemptions(): ExemptionIndex | null;
  /** The version the snapshot holds (null before the first load), and whether answers come from it now. */
  state(): { version: string | null; fresh: boolean; datasets: number };
  /** A newer version exists (a notification's payload): counted in `lag` until a reload sees it. */
  saw(version: string): void;
  /** How far behind the database the snapshot may be: versions seen but not loaded, ms since last confirmed. */
  lag(): { versions: number; confirmedAgoMs: number };
}

interface Entry {
  dataset: Readonly<Record<string, unknown>>;
  fields: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

interface Loaded {
  version: string;
  datasets: Map<string, Entry>;
  purposes: PurposeRegister;
  exemptions: ExemptionIndex;
}

/** The open exemptions indexed by dataset and field. */
export function exemptionIndex(rows: SnapshotExemptionRow[]): ExemptionIndex {
  const byKey = new Map(
    rows.map((r) => [
      `${r.dataset_id}/${r.field_name ?? ''}`,
      Object.freeze({ dikNo: r.dik_no, grounds: r.grounds, statute: r.statute }),
    ]),
  );
  return { of: (datasetId, field) => byKey.get(`${datasetId}/${field ?? ''}`) };
}

/** The purposes as an in-memory register. */
export function purposeRegister(rows: SnapshotPurposeRow[]): PurposeRegister {
  const byId = new Map<string, RegisteredPurpose>(
    rows.map((r) => [
      r.id,
      Object.freeze({ id: r.id, lawfulBasis: r.lawful_basis, datasets: r.datasets, categories: r.categories }),
    ]),
  );
  return { get: (id) => byId.get(id) };
}

/**
 * The purposes alone, for instances that keep no catalog snapshot: loaded at start and again
 * whenever `reload` is called (after each catalog write of this instance).
 */
export async function loadRegisters(sql: Sql): Promise<{ purposes: PurposeRegister; exemptions: ExemptionIndex }> {
  const purposes = purposeRegister(await readPurposes(sql));
  return { purposes, exemptions: exemptionIndex(await readExemptions(sql)) };
}

const freeze = <T extends object>(o: T): Readonly<T> => Object.freeze(o);

/**
 * The resource shapes the engine gets, from memory and from the database alike. A field carries
 * its dataset's label version, so a decision about a field records the label version it used.
 */
function entryOf(dataset: DatasetAttributes, fields: FieldForRead[]): Entry {
  const frozenFields = fields.map((f) => freeze({ ...f }));
  return {
    dataset: freeze({ ...dataset, fields: freeze(frozenFields) }),
    fields: new Map(frozenFields.map((f) => [f.name, freeze({ ...f, labelVersion: dataset.labelVersion })])),
  };
}

function lookup(entryFor: (datasetId: string) => Entry | null | Promise<Entry | null>) {
  return async (type: string, id: string): Promise<Record<string, unknown> | null> => {
    if (type === 'Dataset') return (await entryFor(id))?.dataset ?? null;
    if (type === 'Field') {
      const slash = id.indexOf('/');
      if (slash < 0) return null;
      return (await entryFor(id.slice(0, slash)))?.fields.get(id.slice(slash + 1)) ?? null;
    }
    return null;
  };
}

async function fromDatabase(q: Queryable, datasetId: string): Promise<Entry | null> {
  const row = await findDataset(q, datasetId);
  if (!row) return null;
  const fields = await findFields(q, datasetId);
  return entryOf(
    datasetAttributes(row),
    fields.map((f) => ({ ...fieldAttributes(row, f), type: f.type })),
  );
}

/** Resolves from the database on every call (in `q`, a transaction, when given). */
export function databaseResolver(sql: Sql): {
  resolve(type: string, id: string, q?: Queryable): Promise<Record<string, unknown> | null>;
} {
  return { resolve: (type, id, q) => lookup((datasetId) => fromDatabase(q ?? sql, datasetId))(type, id) };
}

export function createCatalogSnapshot(sql: Sql, options: { maxStaleMs: number; now?: () => number }): CatalogSnapshot {
  const now = options.now ?? (() => performance.now());
  let loaded: Loaded | null = null;
  /** Bumped by every invalidation: a reload or a version read that began before it proves nothing. */
  let generation = 0;
  let stale = true;
  /** When the version read (or load) that last confirmed the snapshot began. */
  let confirmedAt = -Infinity;
  /** The newest catalog version this instance has heard of (a load, a version read, a notification). */
  let latestSeen: bigint | null = null;
  const see = (version: string) => {
    const v = BigInt(version);
    if (latestSeen === null || v > latestSeen) latestSeen = v;
  };

  const fresh = () => loaded !== null && !stale && now() - confirmedAt <= options.maxStaleMs;

  async function load(): Promise<void> {
    const gen = generation;
    const began = now();
    const whole = await readWholeCatalog(sql);
    const datasets = new Map<string, Entry>();
    for (const d of whole.datasets) {
      const fields = whole.fields.get(d.id) ?? [];
      datasets.set(
        d.id,
        entryOf(
          datasetAttributes(d),
          fields.map((f) => ({ ...fieldAttributes(d, f), type: f.type })),
        ),
      );
    }
    loaded = {
      version: whole.version,
      datasets,
      purposes: purposeRegister(whole.purposes),
      exemptions: exemptionIndex(whole.exemptions),
    };
    see(whole.version);
    if (gen === generation) {
      stale = false;
      confirmedAt = began;
    }
  }

  async function confirm(): Promise<void> {
    const gen = generation;
    const began = now();
    const version = await readCatalogVersion(sql);
    see(version);
    if (version === loaded?.version && gen === generation && !stale) confirmedAt = began;
    else await load();
  }

  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;

  const step = () => (stale || loaded === null ? load() : confirm());

  /** One at a time; asked for while one runs, one more runs after it (the running one may have begun too early). */
  function refresh(): Promise<void> {
    if (queued) return queued;
    if (!running) {
      running = step().finally(() => (running = null));
      return running;
    }
    queued = running
      .catch(() => {})
      .then(() => {
        queued = null;
        return refresh();
      });
    return queued;
  }

  const fromMemory = lookup((id) => loaded?.datasets.get(id) ?? null);
  const fromDatabaseResolver = databaseResolver(sql);

  return {
    resolver: {
      async resolve(type, id, q?: Queryable) {
        // Inside a transaction the caller wants what that transaction sees.
        if (q === undefined && fresh()) return fromMemory(type, id);
        if (q === undefined && running === null) refresh().catch(() => {}); // the database's error reaches the caller below
        return fromDatabaseResolver.resolve(type, id, q);
      },
    },
    invalidate() {
      generation++;
      stale = true;
      refresh().catch(() => {}); // until it succeeds, answers come from the database (and fail as it fails)
    },
    refresh,
    purposes: () => loaded?.purposes ?? null,
    exemptions: () => loaded?.exemptions ?? null,
    state: () => ({ version: loaded?.version ?? null, fresh: fresh(), datasets: loaded?.datasets.size ?? 0 }),
    saw: (version) => {
      if (/^\d+$/.test(version)) see(version);
    },
    lag: () => ({
      versions: loaded && latestSeen !== null ? Number(latestSeen - BigInt(loaded.version)) : 0,
      confirmedAgoMs: Number.isFinite(confirmedAt) ? Math.max(0, now() - confirmedAt) : -1,
    }),
  };
}
