import type { CoreDeps } from './deps.ts';
import { agreementAttributes } from './agreements/agreement.attributes.ts';
import { createAgreementGate } from './agreements/agreement.gate.ts';
import { createAgreementIndex } from './agreements/agreement.index.ts';
import { createAgreementReports, type AgreementReports } from './agreements/agreement.reports.ts';
import { createAgreementService, type AgreementService } from './agreements/agreement.service.ts';
import { readMigrationFiles } from './db/migration-files.ts';
import { migrationStatus, type MigrationFile } from './db/migrate.ts';
import { createTokenVerifier, type TokenVerifier } from './identity/token-verifier.ts';
import { createCatalogService, type CatalogService } from './catalog/catalog.service.ts';
import { createPurposesService, type PurposesService } from './purposes/purposes.service.ts';
import { governedByPurposes } from './policy/purpose-register.ts';
import { wireCatalogSnapshot } from './catalog/catalog.notify.ts';
import { createOpennessReader } from './catalog/openness.repo.ts';
import type { ResourceResolver } from './policy/engine.types.ts';
import { createDecisionService, type DecisionService } from './policy/decision.service.ts';
import {
  createPolicyService,
  describeProblems,
  policyReadiness,
  type PolicyService,
  type PolicySourceReader,
} from './policy/policy.service.ts';
import type { AuditLog } from './audit/audit.port.ts';
import { createAuditService, type AuditService } from './audit/audit.service.ts';
import type { StartPieceWalkers } from './audit/audit.verify.ts';
import { meteredAuditLog } from './audit/audit.metrics.ts';
import { wireAudit } from './audit/audit.wiring.ts';
import { createIngestService, type IngestService } from './records/ingest.service.ts';
import { createPublicCatalog, type PublicCatalog } from './records/public.service.ts';
import { createReadService, type ReadService } from './records/read.service.ts';
import { createDetectionService, type DetectionService } from './detection/scan.service.ts';
import { sampleRecords } from './records/records-sample.repo.ts';
import { startRangeIndexBuilder } from './records/range-index.builder.ts';

/** Every capability's services, built once from the core dependencies. */
export interface Services {
  /** The migrations this build expects applied; null where they are applied ahead of deployment (Workers). */
  migrations: MigrationFile[] | null;
  audit: AuditLog;
  /** Verifies bearer tokens into principals (src/identity). */
  identity: TokenVerifier;
  catalog: CatalogService;
  /** The register of processing purposes and the record of processing (src/purposes). */
  purposes: PurposesService;
  /** The policy set in force (src/policy); `current()` is the engine every decision goes through. */
  policy: PolicyService;
  /** Resolves `{ type, id }` resources for /v1/check (the catalog provides datasets). */
  resources: ResourceResolver;
  /** Checks, batches, plans and AuthZEN evaluations (src/policy), each logged. */
  decisions: DecisionService;
  /** The auditors' reads of the log: queries, exports, verification, reports (src/audit). */
  auditReads: AuditService;
  /** Records (src/records): ingest, enforced reads and the open-data export. */
  ingest: IngestService;
  reads: ReadService;
  openData: PublicCatalog;
  /** Data-sharing agreements (src/agreements): lifecycle, and their reports and public register. */
  agreements: AgreementService;
  agreementReports: AgreementReports;
  /** Personal-data scans, suggestions and quarantine (src/detection). */
  detection: DetectionService;
}

/** Built once: a test or bench swaps a dependency through `wire`'s `replace`, never by assignment. */
export type AppDeps = CoreDeps & { readonly services: Readonly<Services> };

export interface WireOptions {
  /** The migrations expected applied (default: the bundled files); null where they are applied ahead of deployment. */
  migrations?: MigrationFile[] | null;
  /** Where the policy files are read from; null for an empty set (tests of the wiring itself). */
  policySource?: PolicySourceReader | null;
  /** Walks a full verification's segments in worker threads (the Node entry, with PostgreSQL); absent, in this thread. */
  verifyWorkers?: StartPieceWalkers;
  /**
   * Replaces a dependency before anything is built on it, given the one wiring built (a test's
   * recording or failing audit log, a fixed resolver). Every service then uses the replacement.
   */
  replace?: {
    audit?: (built: AuditLog) => AuditLog;
    resources?: (built: ResourceResolver) => ResourceResolver;
    /** The clock agreements are judged by (validity, the row limit's day): tests move it. */
    clock?: (built: () => number) => () => number;
  };
}

/**
 * The composition root: builds every capability's service once and registers their readiness
 * checks and shutdown hooks. The entry files and the tests call this; nothing else constructs a
 * service (route factories receive the services they use).
 */
export async function wire(core: CoreDeps, options: WireOptions = {}): Promise<AppDeps> {
  const migrations = options.migrations === undefined ? readMigrationFiles() : options.migrations;
  const { sql } = core.db;
  const { config } = core;
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
  const policy = createPolicyService({
    read: options.policySource ?? null,
    logger: core.logger,
    meter: core.telemetry.meter,
  });
  const first = await policy.reload();
  // A policy set that does not load at start-up would deny everything, with nobody able to fix it
  // through the API: refuse to start instead, naming what is wrong.
  if (!first.ok && options.policySource) {
    throw new Error(
      `policies in ${config.policyDir} are not valid: ${describeProblems(first.problems) ?? 'unknown problem'}`,
    );
  }
  core.readiness.register('policies', policyReadiness(policy));
  core.lifecycle.onReload('policies', () => policy.reload());

  const writer = await wireAudit(core, { perRequest: migrations === null });
  const logged: AuditLog = options.replace?.audit ? options.replace.audit(writer) : writer;
  // Counted only where a metric reader exists: otherwise decisions go to the log bare.
  const audit = core.telemetry.metering ? meteredAuditLog(logged, core.telemetry.meter) : logged;
  // Decisions by id answer from the catalog in memory; the catalog's own writes invalidate it.
  const freshness = await wireCatalogSnapshot(core, { enabled: migrations !== null });
  // Every decision sees the register of processing purposes (held in memory with the catalog).
  const governed = governedByPurposes(policy, freshness.purposes, freshness.exemptions);
  // Range-filterable fields' indexes follow their declarations in the background (on Workers, where
  // no timer outlives a request, the cron trigger does it: src/entry/worker.ts).
  const rangeIndexes =
    migrations === null
      ? null
      : startRangeIndexBuilder({ db: core.db, retryMs: config.recordsRangeFilters.retryMs, logger: core.logger });
  if (rangeIndexes) core.lifecycle.onShutdown('range-indexes', () => rangeIndexes.stop());
  const catalog = createCatalogService({
    sql: freshness.watch(sql),
    audit,
    policy: governed,
    limits: config.exemptions,
    rangeFilters: { max: config.recordsRangeFilters.max, changed: () => rangeIndexes?.kick() },
  });
  const purposes = createPurposesService({
    sql: freshness.watch(sql),
    audit,
    policy: governed,
    changed: () => freshness.refreshPurposes(),
  });
  const resources = options.replace?.resources ? options.replace.resources(freshness.resolver) : freshness.resolver;
  // Tokens may name only roles the policy set in force defines (read at each verification, so reloads apply).
  const identity = createTokenVerifier(config.jwt, { knownRoles: () => policy.current().roles, logger: core.logger });
  // Agreements: decisions take them from memory beside the snapshot; records reads from the database.
  const clock = options.replace?.clock ? options.replace.clock(Date.now) : Date.now;
  const context = agreementAttributes(createAgreementIndex(sql, freshness.snapshot), clock);
  const agreements = createAgreementService({
    sql: freshness.watch(sql),
    audit,
    policy: governed,
    catalog,
    now: clock,
  });
  const decisions = createDecisionService(
    { policy: governed, audit, resources, context },
    { checks: config.audit.checks },
  );
  const auditReads = createAuditService({
    sql,
    log: audit,
    policy,
    hmacKey: config.audit.hmacKey,
    reportMaxRows: config.audit.reportMaxRows,
    verifyParallelism: config.audit.verifyParallelism,
    verifyWorkers: options.verifyWorkers,
    openness: createOpennessReader(sql),
    stream: { ...config.audit.stream, stopping: core.lifecycle.stopping },
  });
  const records = { sql, catalog, policy: governed, audit };
  const catalogChanged = () => freshness.snapshot?.invalidate();
  const detection = createDetectionService({
    sql: freshness.watch(sql),
    audit,
    policy: governed,
    meter: core.telemetry.meter,
    sample: (datasetId, size) => sampleRecords(sql, datasetId, size),
    sampleSize: config.detection.sampleSize,
    quarantineConfidence: config.detection.quarantineConfidence,
  });
  const services: Services = {
    migrations,
    audit,
    identity,
    catalog,
    policy: governed,
    purposes,
    resources,
    decisions,
    auditReads,
    ingest: createIngestService({ ...records, detection, sampleSize: config.detection.sampleSize, catalogChanged }),
    reads: createReadService({
      ...records,
      pseudonymMaster: config.pseudonymKey,
      logger: core.logger,
      streamPage: config.recordsStreamPage,
      agreements: createAgreementGate(sql, clock),
      purposes: freshness.purposes,
    }),
    openData: createPublicCatalog(records),
    agreements,
    agreementReports: createAgreementReports({ sql, policy: governed, agreements, now: clock }),
    detection,
  };
  return { ...core, services };
}
