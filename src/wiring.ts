import type { CoreDeps } from './deps.ts';
import { readMigrationFiles } from './db/migration-files.ts';
import { migrationStatus, type MigrationFile } from './db/migrate.ts';
import { createTokenVerifier, type TokenVerifier } from './identity/token-verifier.ts';
import { createCatalogService, type CatalogService } from './catalog/catalog.service.ts';
import { wireCatalogSnapshot } from './catalog/catalog.notify.ts';
import type { ResourceResolver } from './policy/engine.types.ts';
import { createPolicyService, describeProblems, policyReadiness, type PolicyService, type PolicySourceReader } from './policy/policy.service.ts';
import type { AuditLog } from './audit/audit.port.ts';
import { wireAudit } from './audit/audit.wiring.ts';
import { createIngestService, type IngestService } from './records/ingest.service.ts';
import { createPublicCatalog } from './records/public.service.ts';
import { createReadService, type ReadService } from './records/read.service.ts';

/** Every capability's services, built once from the core dependencies. */
export interface Services {
  /** The migrations this build expects applied; null where they are applied ahead of deployment (Workers). */
  migrations: MigrationFile[] | null;
  audit: AuditLog;
  /** Verifies bearer tokens into principals (src/identity). */
  identity: TokenVerifier;
  catalog: CatalogService;
  /** The policy set in force (src/policy); `current()` is the engine every decision goes through. */
  policy: PolicyService;
  /** Resolves `{ type, id }` resources for /v1/check (the catalog provides datasets). */
  resources: ResourceResolver;
  /** Records (src/records): ingest, enforced reads and the open-data export. */
  ingest: IngestService;
  reads: ReadService;
  openData: ReturnType<typeof createPublicCatalog>;
}

/** Until a capability resolves a type, its ids are unknown: /v1/check denies them, never errors. */
export const unknownResources: ResourceResolver = { resolve: async () => null };

export type AppDeps = CoreDeps & { services: Services };

/**
 * Wires the capabilities: builds their services and registers their readiness checks and
 * shutdown hooks. The entry files and the tests call this; nothing else constructs services.
 */
export async function wire(
  core: CoreDeps,
  options: { migrations?: MigrationFile[] | null; policySource?: PolicySourceReader | null } = {},
): Promise<AppDeps> {
  const migrations = options.migrations === undefined ? readMigrationFiles() : options.migrations;
  const { sql } = core.db;
  core.readiness.register('database', async () => {
    await sql`select 1`;
    return { ok: true };
  });
  if (migrations) {
    core.readiness.register('migrations', async () => {
      const s = await migrationStatus(sql, migrations);
      return s.current ? { ok: true } : { ok: false, detail: s.problem ?? `pending: ${s.pending.join(', ')}` };
    });
  }
  const policy = createPolicyService({ read: options.policySource ?? null, logger: core.logger, meter: core.telemetry.meter });
  const first = await policy.reload();
  // A policy set that does not load at start-up would deny everything, with nobody able to fix it
  // through the API: refuse to start instead, naming what is wrong.
  if (!first.ok && options.policySource) {
    throw new Error(`policies in ${core.config.policyDir} are not valid: ${describeProblems(first.problems) ?? 'unknown problem'}`);
  }
  core.readiness.register('policies', policyReadiness(policy));
  core.lifecycle.onReload('policies', () => policy.reload());
  const audit = await wireAudit(core, { perRequest: migrations === null });
  // Decisions by id answer from the catalog in memory; the catalog's own writes invalidate it.
  const freshness = await wireCatalogSnapshot(core, { enabled: migrations !== null });
  const catalog = createCatalogService({ sql: freshness.watch(sql), audit, policy });
  // Tokens may name only roles the policy set in force defines (read at each verification, so reloads apply).
  const identity = createTokenVerifier(core.config.jwt, { knownRoles: () => policy.current().roles, logger: core.logger });
  const services = { migrations, audit: audit as AuditLog, identity, catalog, policy, resources: freshness.resolver } as Services;
  // Records read the audit log in force at request time (services.audit).
  const recordsDeps = { sql, catalog, policy, audit: () => services.audit };
  services.ingest = createIngestService(recordsDeps);
  services.reads = createReadService({ ...recordsDeps, pseudonymMaster: core.config.pseudonymKey, logger: core.logger, streamPage: core.config.recordsStreamPage });
  services.openData = createPublicCatalog(recordsDeps);
  return { ...core, services };
}
