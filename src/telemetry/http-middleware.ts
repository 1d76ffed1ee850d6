import { SpanKind, SpanStatusCode, type Meter, type Tracer } from '@opentelemetry/api';
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { AppEnv } from '../http/context.ts';
import type { Telemetry } from './telemetry.ts';

type Attributes = Record<'http.request.method' | 'http.route', string> & { 'http.response.status_code': number };

/**
 * One server span and one duration measurement per request. Attributes come from a bounded
 * list (method, route template, status): never ids of people or datasets, which belong in the
 * audit log, not in telemetry. With nothing to export to (`tracing`/`metering` false) the
 * middleware does nothing at all; otherwise each (method, route, status) gets its attribute
 * object once.
 */
export function httpTelemetry(
  tracer: Tracer,
  meter: Meter,
  on: Pick<Telemetry, 'tracing' | 'metering'> = { tracing: true, metering: true },
) {
  const duration = meter.createHistogram('http.server.request.duration', {
    unit: 's',
    description: 'Duration of HTTP server requests',
  });
  const attributes = new Map<string, Attributes>();
  const attributesOf = (method: string, route: string, status: number): Attributes => {
    const key = `${method} ${status} ${route}`;
    let a = attributes.get(key);
    if (!a) {
      a = Object.freeze({ 'http.request.method': method, 'http.route': route, 'http.response.status_code': status });
      // Bounded: methods, route templates and statuses are few; an unexpected flood is not cached.
      if (attributes.size < 4096) attributes.set(key, a);
    }
    return a;
  };
  if (!on.tracing && !on.metering) return createMiddleware<AppEnv>((_c, next) => next());
  if (!on.tracing) {
    return createMiddleware<AppEnv>(async (c, next) => {
      const started = performance.now();
      try {
        await next();
      } finally {
        duration.record((performance.now() - started) / 1000, attributesOf(c.req.method, safeRoute(c), c.res.status));
      }
    });
  }
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
      const attrs = attributesOf(c.req.method, route, status);
      span.updateName(`${c.req.method} ${route}`);
      span.setAttributes(attrs);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      if (on.metering) duration.record((performance.now() - started) / 1000, attrs);
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
