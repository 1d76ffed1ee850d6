import type { CoreDeps } from '../deps.ts';
import type { Sql } from '../db/database.ts';
import type { ResourceResolver } from '../policy/engine.types.ts';
import { createCatalogSnapshot, databaseResolver, loadRegisters, type CatalogSnapshot } from './catalog.snapshot.ts';
import type { PurposeRegister } from '../policy/purpose-register.ts';
import type { ExemptionIndex } from '../policy/citations.ts';

/** Sent by migrations/0007_catalog_version.sql's trigger when a catalog change commits; the payload is the new version. */
export const CATALOG_CHANNEL = 'jaga_catalog';

export interface CatalogFreshness {
  /** Decisions by id resolve here: from memory while the snapshot is current, else from the database. */
  resolver: ResourceResolver;
  /** `sql` for the catalog's writers: each transaction it runs marks the snapshot stale once it ends. */
  watch(sql: Sql): Sql;
  snapshot: CatalogSnapshot | null;
  /** The register of processing purposes decisions use, in memory (null until loaded: no purpose counts). */
  purposes: () => PurposeRegister | null;
  /** The exemptions open (in force or pending), for refusals to cite; in memory like the purposes. */
  exemptions: () => ExemptionIndex | null;
  /** Resolves once the purposes in memory include every change committed before the call. */
  refreshPurposes(): Promise<void>;
}

/**
 * Keeps the catalog snapshot current: at once for changes made through this instance (their
 * transactions invalidate it when they end), within milliseconds for changes made by other
 * instances (LISTEN on PostgreSQL; a reconnect reloads, since notifications sent meanwhile were
 * lost), and within `maxStaleMs` whatever happens to notifications (a periodic read of the global
 * version; an answer never comes from a snapshot not confirmed within that bound).
 *
 * `maxStaleMs` 0, or an entry that wires per request (Workers), keeps no snapshot: every check
 * by id reads the database. Nothing here throws into the process: a database that goes away
 * makes the snapshot stale, and checks then read (and fail with) the database as before.
 */
export async function wireCatalogSnapshot(core: CoreDeps, options: { enabled: boolean }): Promise<CatalogFreshness> {
  const maxStaleMs = core.config.catalogSnapshotMaxStaleMs;
  const { sql } = core.db;
  if (!options.enabled || maxStaleMs === 0) return withoutSnapshot(core);
  const log = core.logger;
  const snapshot = createCatalogSnapshot(sql, { maxStaleMs });

  let stopped = false;
  // One read at a time: while one hangs (a frozen database) the snapshot goes unconfirmed, and
  // checks by id read the database, which answers 503 within DATABASE_DEADLINE_MS.
  let inFlight = false;
  const tick = () => {
    if (stopped || inFlight) return;
    inFlight = true;
    snapshot
      .refresh()
      .catch((err: unknown) =>
        log.debug('catalog snapshot: refresh failed; checks read the database', { error: String(err) }),
      )
      .finally(() => (inFlight = false));
  };
  // Four reads per bound, so that one begun within the bound has normally returned before it runs out.
  const poll = setInterval(tick, Math.max(10, Math.floor(maxStaleMs / 4)));
  poll.unref();

  if (core.telemetry.metering) {
    // Read at collection time only: nothing on the check path.
    core.telemetry.meter
      .createObservableGauge('jaga.catalog.snapshot.version_lag', {
        description: 'Catalog versions this instance has heard of but its snapshot has not loaded',
      })
      .addCallback((r) => r.observe(snapshot.lag().versions));
    core.telemetry.meter
      .createObservableGauge('jaga.catalog.snapshot.age', {
        description: 'Time since the catalog snapshot was last confirmed current (-1 before the first load)',
        unit: 'ms',
      })
      .addCallback((r) => r.observe(snapshot.lag().confirmedAgoMs));
  }

  try {
    await snapshot.refresh();
  } catch (err) {
    log.warn('catalog snapshot: first load failed; checks read the database until it loads', { error: String(err) });
  }

  let unlisten: (() => Promise<unknown>) | null = null;
  if (core.db.kind === 'postgres') {
    let listening = false;
    // postgres.js re-issues LISTEN on a connection of its own after it was lost; the notifications
    // sent meanwhile are gone, so every listen after the first reloads.
    sql
      .listen(
        CATALOG_CHANNEL,
        (payload) => {
          if (payload !== snapshot.state().version) {
            snapshot.saw(payload);
            snapshot.invalidate();
          }
        },
        () => {
          if (listening) {
            log.info('catalog snapshot: LISTEN connection back; reloading');
            snapshot.invalidate();
          }
          listening = true;
        },
      )
      .then((r) => (unlisten = r.unlisten))
      .catch((err: unknown) =>
        log.warn('catalog snapshot: LISTEN failed; changes by other instances are seen by the periodic version read', {
          error: String(err),
        }),
      );
  }
  // On PGlite (one process, one connection) this instance makes every change: invalidation suffices.

  core.lifecycle.onShutdown('catalog snapshot', async () => {
    stopped = true;
    clearInterval(poll);
    await unlisten?.().catch(() => {});
  });

  return {
    resolver: snapshot.resolver,
    watch: (db) => watchWrites(db, () => snapshot.invalidate()),
    snapshot,
    purposes: () => snapshot.purposes(),
    exemptions: () => snapshot.exemptions(),
    refreshPurposes: () => snapshot.refresh(),
  };
}

/**
 * No snapshot: checks by id read the database; the purposes (needed synchronously by every
 * decision) are still held in memory, loaded at start and after each write of this instance.
 */
async function withoutSnapshot(core: CoreDeps): Promise<CatalogFreshness> {
  const { sql } = core.db;
  let registers: { purposes: PurposeRegister; exemptions: ExemptionIndex } | null = null;
  const reload = () =>
    loadRegisters(sql)
      .then((r) => void (registers = r))
      .catch((err: unknown) => core.logger.warn('purposes: load failed', { error: String(err) }));
  await reload();
  return {
    resolver: databaseResolver(sql),
    watch: (db) => watchWrites(db, () => void reload()),
    snapshot: null,
    purposes: () => registers?.purposes ?? null,
    exemptions: () => registers?.exemptions ?? null,
    refreshPurposes: reload,
  };
}

/**
 * `sql` whose `begin` marks the snapshot stale when the transaction ends (committed or not), before
 * its caller sees the result: a change answers through this instance's checks from then on.
 * Catalog writes all run in transactions (catalog.service.ts, label.service.ts, register.service.ts).
 */
function watchWrites(sql: Sql, changed: () => void): Sql {
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop === 'begin') {
        return (...args: Parameters<Sql['begin']>) =>
          (target.begin as (...a: unknown[]) => Promise<unknown>)(...args).finally(changed);
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}
