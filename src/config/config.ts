import * as v from 'valibot';
import { EnvSchema } from './config.schema.ts';

/** Jaga's configuration: parsed once at the edge, passed down as a typed object. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  databasePoolMax: number;
  /** Longest a request waits for the database before it answers 503 (also the connect timeout). */
  databaseDeadlineMs: number;
  dataDir: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  jwt: {
    secret?: string;
    jwksUrl?: string;
    issuer?: string;
    audience?: string;
    /** After fetching the key set, an unknown `kid` does not refetch it for this long. */
    jwksCooldownMs: number;
    /** The fetched key set is trusted for this long before it is fetched again. */
    jwksCacheMaxAgeMs: number;
    /** Longest token lifetime accepted, in seconds (JWT_MAX_TTL). */
    maxTtlSeconds: number;
  };
  policyDir: string;
  checkBatchMax: number;
  audit: {
    hmacKey?: string;
    queueMax: number;
    flushMax: number;
    flushLingerMs: number;
    /** How often the catch-up job folds new entries into the reports' rollups (0: never in the background). */
    rollupIntervalMs: number;
    /** Most rows of a report; a longer one is cut and says so. */
    reportMaxRows: number;
    /** Segments of the chain a full verification walks at once (job, CLI, operator route). */
    verifyParallelism: number;
    retentionMonths: number;
    /** Where retention exports a partition before dropping it (unset: dropped without an export). */
    archiveDir?: string;
    /** When a permission check answers: once its audit entry is committed, or once it is queued. */
    checks: 'durable' | 'queued';
    /** The decision-log stream: idle poll, heartbeat, longest life (ms). */
    stream: { pollMs: number; heartbeatMs: number; maxMs: number };
  };
  /** Exemption limits: ground-17a period cap in years, review date at most this many months ahead. */
  exemptions: { lawEnforcementMaxYears: number; reviewMaxMonths: number };
  pseudonymKey: string | undefined;
  recordsUploadMaxBytes: number;
  recordsStreamPage: number;
  /** Range-filterable fields: most per dataset, and how long before a failed index build is retried. */
  recordsRangeFilters: { max: number; retryMs: number };
  detection: {
    /** Records sampled per scan (a reservoir on ingest, index probes on demand). */
    sampleSize: number;
    /** A finding at least this confident quarantines a field whose label does not allow it. */
    quarantineConfidence: number;
  };
  /** A check by id answers from a catalog snapshot confirmed current within this many ms; 0 = no snapshot. */
  catalogSnapshotMaxStaleMs: number;
  /** `GET /metrics` (Prometheus text): served only when enabled; protected by the token when one is set. */
  metrics: { enabled: boolean; token: string | undefined };
  /** The console's sign-in (src/console). */
  console: {
    oidc?: { issuer: string; clientId: string; clientSecret?: string };
    /** Encrypts the session cookie; unset ⇒ a key made at start (sessions end at restart). */
    sessionSecret?: string;
    sessionTtlSeconds: number;
  };
  otel: {
    serviceName: string;
    endpoint: string | undefined;
    sampler: string;
    samplerArg: number | undefined;
    disabled: boolean;
  };
}

export class ConfigError extends Error {
  readonly problems: { variable: string; message: string }[];
  constructor(problems: { variable: string; message: string }[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, val]) => val !== undefined)) as T;

/** Parses the environment (a plain record, so Workers bindings work too) into a Config. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Only the variables the schema knows are read; empty strings count as unset.
  const input: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.entries)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = v.safeParse(EnvSchema, input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.issues.map((issue) => ({
        variable: v.getDotPath(issue) ?? 'environment',
        message: `${issue.message} (got ${JSON.stringify(issue.input)})`,
      })),
    );
  }
  const e = parsed.output;
  const problems: { variable: string; message: string }[] = [];
  if (e.JWKS_URL && (!e.JWT_ISSUER || !e.JWT_AUDIENCE)) {
    problems.push({ variable: 'JWT_ISSUER/JWT_AUDIENCE', message: 'both are required when JWKS_URL is set' });
  }
  if (e.JWKS_URL && e.JWT_SECRET) {
    problems.push({ variable: 'JWT_SECRET', message: 'set either JWT_SECRET or JWKS_URL, not both' });
  }
  // In production an unkeyed audit chain is refused, not just warned about: without the key anyone
  // with write access to the database can rewrite the log consistently.
  if (e.NODE_ENV === 'production' && !e.AUDIT_HMAC_KEY) {
    problems.push({
      variable: 'AUDIT_HMAC_KEY',
      message:
        'required when NODE_ENV=production: it keys the audit hash chain (at least 32 bytes, e.g. openssl rand -hex 32; set it before the first entry and keep it)',
    });
  }
  if (e.OIDC_ISSUER && !e.OIDC_CLIENT_ID) {
    problems.push({ variable: 'OIDC_CLIENT_ID', message: 'required when OIDC_ISSUER is set' });
  }
  // Several instances (or a restart) must read each other's session cookies: the key is configured.
  if (e.OIDC_ISSUER && !e.SESSION_SECRET) {
    problems.push({
      variable: 'SESSION_SECRET',
      message: 'required when OIDC_ISSUER is set: it encrypts the console session cookie (at least 32 bytes)',
    });
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseDeadlineMs: e.DATABASE_DEADLINE_MS,
    dataDir: e.JAGA_DATA_DIR,
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    jwt: {
      ...defined({ secret: e.JWT_SECRET, jwksUrl: e.JWKS_URL, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE }),
      jwksCooldownMs: e.JWKS_COOLDOWN_MS,
      jwksCacheMaxAgeMs: e.JWKS_CACHE_MAX_AGE_MS,
      maxTtlSeconds: e.JWT_MAX_TTL,
    },
    policyDir: e.POLICY_DIR,
    checkBatchMax: e.CHECK_BATCH_MAX,
    audit: defined({
      hmacKey: e.AUDIT_HMAC_KEY,
      queueMax: e.AUDIT_QUEUE_MAX,
      flushMax: e.AUDIT_FLUSH_MAX,
      flushLingerMs: e.AUDIT_FLUSH_LINGER_MS,
      rollupIntervalMs: e.AUDIT_ROLLUP_INTERVAL_MS,
      reportMaxRows: e.AUDIT_REPORT_MAX_ROWS,
      verifyParallelism: e.AUDIT_VERIFY_PARALLELISM,
      retentionMonths: e.AUDIT_RETENTION_MONTHS,
      archiveDir: e.AUDIT_ARCHIVE_DIR,
      checks: e.AUDIT_CHECKS,
      stream: {
        pollMs: e.AUDIT_STREAM_POLL_MS,
        heartbeatMs: e.AUDIT_STREAM_HEARTBEAT_MS,
        maxMs: e.AUDIT_STREAM_MAX_MS,
      },
    }),
    exemptions: {
      lawEnforcementMaxYears: e.EXEMPTION_17A_MAX_YEARS,
      reviewMaxMonths: e.EXEMPTION_REVIEW_MAX_MONTHS,
    },
    pseudonymKey: e.PSEUDONYM_KEY,
    recordsUploadMaxBytes: e.RECORDS_UPLOAD_MAX_BYTES,
    recordsStreamPage: e.RECORDS_STREAM_PAGE,
    recordsRangeFilters: { max: e.RECORDS_RANGE_FILTERS_MAX, retryMs: e.RECORDS_RANGE_INDEX_RETRY_MS },
    detection: { sampleSize: e.DETECTION_SAMPLE_SIZE, quarantineConfidence: e.DETECTION_QUARANTINE_CONFIDENCE },
    catalogSnapshotMaxStaleMs: e.CATALOG_SNAPSHOT_MAX_STALE_MS,
    metrics: { enabled: e.METRICS_ENABLED === 'true', token: e.METRICS_TOKEN },
    console: {
      ...(e.OIDC_ISSUER && e.OIDC_CLIENT_ID
        ? {
            oidc: {
              issuer: e.OIDC_ISSUER,
              clientId: e.OIDC_CLIENT_ID,
              ...(e.OIDC_CLIENT_SECRET ? { clientSecret: e.OIDC_CLIENT_SECRET } : {}),
            },
          }
        : {}),
      ...defined({ sessionSecret: e.SESSION_SECRET }),
      sessionTtlSeconds: e.SESSION_TTL,
    },
    otel: {
      serviceName: e.OTEL_SERVICE_NAME,
      endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
      sampler: e.OTEL_TRACES_SAMPLER,
      samplerArg: e.OTEL_TRACES_SAMPLER_ARG,
      disabled: e.OTEL_SDK_DISABLED === 'true',
    },
  };
}
