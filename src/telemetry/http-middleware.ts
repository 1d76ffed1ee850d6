import { SpanKind, SpanStatusCode, type Meter, type Tracer } from '@opentelemetry/api';
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { AppEnv } from '../http/context.ts';

/**
 * One server span and one duration measurement per request. Attributes come from a bounded
 * list (method, route template, status): never ids of people or datasets, which belong in the
 * audit log, not in telemetry.
 */
export function httpTelemetry(tracer: Tracer, meter: Meter) {
  const duration = meter.createHistogram('http.server.request.duration', {
    unit: 's',
    description: 'Duration of HTTP server requests',
  });
  return createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    const span = tracer.startSpan(`${c.req.method}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': c.req.method },
    });
    const ctx = span.spanContext();
    c.set('traceId', span.isRecording() ? ctx.traceId : undefined);
    try {
      await next();
    } finally {
      // The matched route template, not the concrete path (which may carry ids).
      const route = safeRoute(c);
      const status = c.res.status;
      span.updateName(`${c.req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      duration.record((performance.now() - started) / 1000, {
        'http.request.method': c.req.method,
        'http.route': route,
        'http.response.status_code': status,
      });
    }
  });
}

function safeRoute(c: Parameters<typeof routePath>[0]): string {
  try {
    return routePath(c, -1) || '*';
  } catch {
    return '*';
  }
}
