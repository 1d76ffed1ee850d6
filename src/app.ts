import { Hono, type Context } from 'hono';
import { agreementRoutes } from './agreements/agreement.routes.ts';
import { catalogRoutes } from './catalog/catalog.routes.ts';
import { detectionRoutes } from './detection/detection.routes.ts';
import { purposesRoutes } from './purposes/purposes.routes.ts';
import { consoleApp } from './console/console.routes.ts';
import { bodyLimit } from './http/body-limit.ts';
import type { AppEnv } from './http/context.ts';
import { deadline } from './http/deadline.ts';
import { docsRoutes } from './http/docs.routes.ts';
import { methodNotAllowed } from './http/method-not-allowed.ts';
import { onError, problemResponse } from './http/on-error.ts';
import { ApiError } from './http/problem.ts';
import { requestId } from './http/request-id.ts';
import { authenticate } from './identity/identity.middleware.ts';
import { identityRoutes } from './identity/identity.routes.ts';
import { authzenRoutes } from './policy/authzen.routes.ts';
import { decisionRoutes } from './policy/decision.routes.ts';
import { recordsRoutes } from './records/records.routes.ts';
import { auditRoutes } from './audit/audit.routes.ts';
import { healthRoutes } from './system/health.routes.ts';
import { rootRoutes } from './system/root.routes.ts';
import { httpTelemetry } from './telemetry/http-middleware.ts';
import { METRICS_PATH, metricsRoutes } from './telemetry/metrics.routes.ts';
import type { AppDeps } from './wiring.ts';

export const VERSION = '0.1.0';

// Record uploads (the API's and the console's) stream and are bounded by their own limit (RECORDS_UPLOAD_MAX_BYTES), not by the JSON body limit.
const STREAMED_UPLOAD = /^\/(v1|console)\/datasets\/[^/]+\/records$/;
const isUpload = (method: string, path: string) => method === 'POST' && STREAMED_UPLOAD.test(path);
// Work that grows with the data answers when it is done, not within the database deadline.
const longRunning = (method: string, path: string) => isUpload(method, path) || path === '/v1/audit/verify';

/**
 * Builds the HTTP app. Middleware order: request id → telemetry → deadline → body limit → identity → 405 → routes.
 * Every error, from any layer, leaves through the single `onError` as problem+json.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const limit = bodyLimit(deps.config.bodyLimitBytes, 'BODY_LIMIT_BYTES');
  const uploadLimit = bodyLimit(deps.config.recordsUploadMaxBytes, 'RECORDS_UPLOAD_MAX_BYTES', { streamed: true });

  app.use('*', requestId);
  app.use('*', httpTelemetry(deps.telemetry.tracer, deps.telemetry.meter, deps.telemetry));
  app.use('*', deadline(deps.config.databaseDeadlineMs, longRunning));
  app.use('*', (c, next) => (isUpload(c.req.method, c.req.path) ? uploadLimit(c, next) : limit(c, next)));
  const identity = authenticate(deps.services.identity);
  // /metrics has its own bearer token (METRICS_TOKEN), which is not a JWT.
  app.use('*', (c, next) => (c.req.path === METRICS_PATH ? next() : identity(c, next)));
  app.use('*', methodNotAllowed(app));

  app.route('/', rootRoutes({ version: VERSION, metrics: deps.config.metrics.enabled }));
  app.route('/', healthRoutes(deps.readiness));
  app.route('/', metricsRoutes({ ...deps.config.metrics, scrape: deps.telemetry.scrape }));
  app.route(
    '/',
    docsRoutes(() => app, VERSION),
  );
  app.route('/', identityRoutes());
  const { services, config } = deps;
  const decisionConfig = {
    batchMax: config.checkBatchMax,
    checks: config.audit.checks,
    catalogMaxStaleMs: config.catalogSnapshotMaxStaleMs,
  };
  app.route('/', catalogRoutes({ catalog: services.catalog }));
  app.route('/', detectionRoutes({ detection: services.detection }));
  app.route('/', purposesRoutes({ purposes: services.purposes }));
  app.route('/', decisionRoutes({ decisions: services.decisions, policy: services.policy, ...decisionConfig }));
  app.route('/', authzenRoutes({ decisions: services.decisions, ...decisionConfig }));
  app.route(
    '/',
    recordsRoutes({
      ingest: services.ingest,
      reads: services.reads,
      openData: services.openData,
      uploadMaxBytes: config.recordsUploadMaxBytes,
    }),
  );
  app.route('/', auditRoutes({ auditReads: services.auditReads }));
  app.route('/', agreementRoutes({ agreements: services.agreements, reports: services.agreementReports }));
  // The console's HTML pages: an app of their own (kept out of the OpenAPI document), same services.
  const pages = consoleApp({
    services,
    config: config.console,
    logger: deps.logger,
    uploadMaxBytes: config.recordsUploadMaxBytes,
  });
  const toConsole = (c: Context<AppEnv>) =>
    pages.fetch(c.req.raw, { requestId: c.get('requestId'), traceId: c.get('traceId') });
  app.all('/console', toConsole);
  app.all('/console/*', toConsole);

  app.notFound((c) =>
    problemResponse(c, new ApiError('ROUTE_NOT_FOUND', `There is no route ${c.req.method} ${c.req.path}.`)),
  );
  app.onError(onError(deps.logger));
  return app;
}
