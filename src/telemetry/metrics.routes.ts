import { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { describe } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import type { Telemetry } from './telemetry.ts';

export const METRICS_PATH = '/metrics';

const sha256 = async (text: string) =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

/** Compares digests, so the time taken says nothing about how much of the token was right. */
async function sameToken(given: string, expected: Uint8Array): Promise<boolean> {
  const digest = await sha256(given);
  let diff = 0;
  for (let i = 0; i < digest.length; i++) diff |= digest[i]! ^ expected[i]!;
  return diff === 0;
}

/**
 * `GET /metrics`: the OpenTelemetry meters in Prometheus text format, serialised at each scrape
 * (no server of the exporter's own). Off unless METRICS_ENABLED=true; with METRICS_TOKEN set a
 * scraper sends `Authorization: Bearer <METRICS_TOKEN>` (Prometheus: `authorization.credentials`).
 * The token is not a JWT, so this path is exempt from the identity middleware (src/app.ts).
 */
export function metricsRoutes(options: { enabled: boolean; token: string | undefined; scrape: Telemetry['scrape'] }) {
  const expected = options.token === undefined ? null : sha256(options.token);
  const unauthorised = () =>
    new ApiError('UNAUTHENTICATED', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.', {
      headers: { 'www-authenticate': 'Bearer realm="metrics"' },
    });
  return new Hono<AppEnv>().get(
    METRICS_PATH,
    describe({
      summary: 'Prometheus metrics (text exposition format); off unless METRICS_ENABLED=true',
      operationId: 'getMetrics',
      description:
        'The OpenTelemetry meters serialised at each scrape: decisions by effect, disclosures by classification, audit queue depth and flush latency, catalog snapshot lag, HTTP durations. With METRICS_TOKEN set, send it as a bearer token (not a JWT).',
      tags: ['system'],
      security: 'optional',
      responses: {
        200: { description: 'The metrics', contentTypes: ['text/plain; version=0.0.4'] },
        401: { description: 'METRICS_TOKEN is set and the request does not carry it' },
        404: { description: 'Metrics are off (METRICS_ENABLED unset) or not available in this runtime' },
      },
    }),
    async (c) => {
      if (!options.enabled)
        throw new ApiError('ROUTE_NOT_FOUND', 'Metrics are off: set METRICS_ENABLED=true to serve GET /metrics.');
      if (!options.scrape)
        throw new ApiError(
          'ROUTE_NOT_FOUND',
          'Metrics are not collected in this runtime (OTEL_SDK_DISABLED=true, or a Workers isolate, whose counters would cover one isolate only).',
        );
      if (expected) {
        const header = c.req.header('authorization') ?? '';
        const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
        if (!match || !(await sameToken(match[1]!, await expected))) throw unauthorised();
      }
      const body = await options.scrape();
      return c.body(body, 200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'cache-control': 'no-store',
      });
    },
  );
}
