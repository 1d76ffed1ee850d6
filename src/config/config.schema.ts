import * as v from 'valibot';
import { durationSeconds } from './duration.ts';

/**
 * The environment Jaga reads, as one valibot schema. Every variable is a string in the
 * environment; each entry turns it into a typed value or says what it expected.
 * Nothing here carries a default secret: secrets are absent unless configured.
 */
const port = (fallback: string) =>
  v.pipe(
    v.optional(v.string(), fallback),
    v.regex(/^\d{1,5}$/, 'expected a port number 1-65535'),
    v.transform(Number),
    v.number(),
    v.minValue(1, 'expected a port number 1-65535'),
    v.maxValue(65535, 'expected a port number 1-65535'),
  );

const positiveInt = (fallback: string, what = 'expected a positive integer') =>
  v.pipe(
    v.optional(v.string(), fallback),
    v.regex(/^\d+$/, what),
    v.transform(Number),
    v.number(),
    v.minValue(1, what),
  );

const nonNegativeInt = (fallback: string, what = 'expected a whole number (0 or more)') =>
  v.pipe(v.optional(v.string(), fallback), v.regex(/^\d+$/, what), v.transform(Number), v.number());

/** Longest value JWT_MAX_TTL may take: a token that lives longer than a month is a standing credential. */
export const JWT_MAX_TTL_LIMIT_SECONDS = 30 * 86400;

const duration = (fallback: string, maxSeconds: number, what: string) =>
  v.pipe(
    v.optional(v.string(), fallback),
    v.check((text) => (durationSeconds(text) ?? Infinity) <= maxSeconds, what),
    v.transform((text) => durationSeconds(text)!),
  );

const optionalText = v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, 'expected a non-empty value')));

const url = (what: string, protocols: RegExp) => v.optional(v.pipe(v.string(), v.regex(protocols, what), v.url(what)));

const secret = (what: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.check((s) => new TextEncoder().encode(s).length >= 32, `${what} must be at least 32 bytes`),
    ),
  );

export const EnvSchema = v.object({
  // Read only to hold production to stricter rules (config.ts); any value is accepted.
  NODE_ENV: v.optional(v.string()),
  PORT: port('8080'),
  HOST: v.optional(v.pipe(v.string(), v.minLength(1, 'expected a host name or address')), '0.0.0.0'),
  DATABASE_URL: url('expected a postgres:// or postgresql:// URL', /^postgres(ql)?:\/\//),
  DATABASE_POOL_MAX: positiveInt('10'),
  // Longest a request waits for the database (a new connection, or its answer) before a 503.
  DATABASE_DEADLINE_MS: positiveInt('5000'),
  JAGA_DATA_DIR: v.optional(v.pipe(v.string(), v.minLength(1, 'expected a folder path')), './data'),
  LOG_LEVEL: v.optional(
    v.picklist(['debug', 'info', 'warn', 'error', 'silent'], 'expected one of debug, info, warn, error, silent'),
    'info',
  ),
  BODY_LIMIT_BYTES: positiveInt('1048576'),
  SHUTDOWN_TIMEOUT_MS: positiveInt('10000'),
  // Identity (see src/identity): a shared HS256 secret for local use, or a remote key set.
  JWT_SECRET: secret('JWT_SECRET'),
  JWKS_URL: url('expected an http(s) URL', /^https?:\/\//),
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,
  // Longest token lifetime accepted (exp − iat, or exp − now without iat); `npm run token` mints within it.
  JWT_MAX_TTL: duration(
    '24h',
    JWT_MAX_TTL_LIMIT_SECONDS,
    'expected a duration such as 90s, 15m, 24h or 7d (at most 30d)',
  ),
  // Remote key set cache: an unknown `kid` refetches at most once per cool-down; keys are kept this long.
  JWKS_COOLDOWN_MS: nonNegativeInt('30000'),
  JWKS_CACHE_MAX_AGE_MS: positiveInt('600000'),
  // Policies (see src/policy) are read from this folder.
  POLICY_DIR: v.optional(v.pipe(v.string(), v.minLength(1, 'expected a folder path')), './policies'),
  CHECK_BATCH_MAX: positiveInt('1000'),
  // Decisions by id answer from the catalog held in memory, never older than this (0: read the database every time).
  CATALOG_SNAPSHOT_MAX_STALE_MS: nonNegativeInt('1000'),
  // Audit (see src/audit): keys the hash chain when set; required when NODE_ENV=production (config.ts).
  AUDIT_HMAC_KEY: secret('AUDIT_HMAC_KEY'),
  AUDIT_QUEUE_MAX: positiveInt('10000'),
  AUDIT_FLUSH_MAX: positiveInt('500'),
  // Audit: how long a check's entry may wait in memory for others to share its commit (disclosures never wait).
  AUDIT_FLUSH_LINGER_MS: nonNegativeInt('50'),
  AUDIT_ROLLUP_INTERVAL_MS: nonNegativeInt('1000'),
  // Audit: most rows of a report (disclosures, denied); a longer one is cut and says so (truncated).
  AUDIT_REPORT_MAX_ROWS: positiveInt('10000'),
  // Audit: segments of the chain a full verification (job, CLI) walks at once; 1 walks it in order.
  AUDIT_VERIFY_PARALLELISM: positiveInt('2'),
  AUDIT_RETENTION_MONTHS: positiveInt('120', 'expected a whole number of months'),
  // Audit: where retention exports a partition (NDJSON and its checkpoint) before dropping it; unset: dropped without an export.
  AUDIT_ARCHIVE_DIR: optionalText,
  // Audit: a check answers once its entry is committed (durable) or once it is queued (queued: faster, a crash can lose the last moments' entries).
  AUDIT_CHECKS: v.optional(v.picklist(['durable', 'queued'], 'expected durable or queued'), 'durable'),
  // Audit: the decision-log stream (GET /v1/audit/stream) looks for new entries this often when idle,
  // sends a heartbeat after this long without output, and ends after this long (the client resumes).
  AUDIT_STREAM_POLL_MS: positiveInt('1000'),
  AUDIT_STREAM_HEARTBEAT_MS: positiveInt('15000'),
  AUDIT_STREAM_MAX_MS: positiveInt('900000'),
  // Registers (see src/catalog/exemption-rules.ts): longest ground-17a exemption period, furthest review date.
  EXEMPTION_17A_MAX_YEARS: positiveInt('30', 'expected a whole number of years'),
  EXEMPTION_REVIEW_MAX_MONTHS: positiveInt('12', 'expected a whole number of months'),
  // Records (see src/records): master key from which per-dataset pseudonym keys are derived.
  PSEUDONYM_KEY: secret('PSEUDONYM_KEY'),
  // Records: largest record upload accepted (streamed, never held in memory); default 1 GiB.
  RECORDS_UPLOAD_MAX_BYTES: positiveInt('1073741824'),
  // Records: rows per keyset page of a streamed export (memory held per export against queries per export).
  RECORDS_STREAM_PAGE: positiveInt('2000'),
  // Records: fields per dataset that may be declared range-filterable (each builds an index on the dataset's records).
  RECORDS_RANGE_FILTERS_MAX: v.pipe(positiveInt('8'), v.maxValue(64, 'expected at most 64')),
  // Records: a failed range-index build is retried after this long times its attempts (at most 64 times as long).
  RECORDS_RANGE_INDEX_RETRY_MS: positiveInt('60000'),
  // Prometheus: `GET /metrics` serves the OpenTelemetry meters in text format (off unless true).
  METRICS_ENABLED: v.optional(v.picklist(['true', 'false'], 'expected true or false'), 'false'),
  // Prometheus: the bearer token a scraper must send (authorization.credentials); unset: /metrics is open.
  METRICS_TOKEN: secret('METRICS_TOKEN'),
  // Detection: records a scan (or an ingest) samples per dataset; the confidence that quarantines a field.
  DETECTION_SAMPLE_SIZE: v.pipe(positiveInt('1000'), v.maxValue(100_000, 'expected at most 100000')),
  DETECTION_QUARANTINE_CONFIDENCE: v.pipe(
    v.optional(v.string(), '0.8'),
    v.regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'expected a ratio between 0 and 1'),
    v.transform(Number),
  ),
  // OpenTelemetry: the standard variables; nothing is exported unless an endpoint is set.
  OTEL_SERVICE_NAME: v.optional(v.string(), 'jaga'),
  OTEL_EXPORTER_OTLP_ENDPOINT: url('expected an http(s) URL', /^https?:\/\//),
  OTEL_TRACES_SAMPLER: v.optional(
    v.picklist(
      [
        'always_on',
        'always_off',
        'traceidratio',
        'parentbased_always_on',
        'parentbased_always_off',
        'parentbased_traceidratio',
      ],
      'expected an OpenTelemetry sampler name',
    ),
    'parentbased_always_on',
  ),
  OTEL_TRACES_SAMPLER_ARG: v.optional(
    v.pipe(v.string(), v.regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'expected a ratio between 0 and 1'), v.transform(Number)),
  ),
  OTEL_SDK_DISABLED: v.optional(v.picklist(['true', 'false'], 'expected true or false'), 'false'),
  // Console sign-in (src/console): the agency's OpenID Connect provider, and the key of the session cookie.
  OIDC_ISSUER: url('expected an http(s) URL', /^https?:\/\//),
  OIDC_CLIENT_ID: optionalText,
  OIDC_CLIENT_SECRET: optionalText,
  SESSION_SECRET: secret('SESSION_SECRET'),
  // Console: how long a sign-in lasts before the session cookie is refused and the user signs in again.
  SESSION_TTL: duration('8h', 86400, 'expected a duration such as 30m or 8h (at most 24h)'),
});

export type Env = v.InferInput<typeof EnvSchema>;
