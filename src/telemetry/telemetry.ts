import { metrics, trace, type Meter, type Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  TracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { Config } from '../config/config.ts';

export interface Telemetry {
  tracer: Tracer;
  meter: Meter;
  /** False when no span goes anywhere (no exporter, no processor): requests then start no span at all. */
  tracing: boolean;
  /** False when no metric is read (no exporter, no reader): requests then record no measurement. */
  metering: boolean;
  /**
   * The meters in Prometheus text format, collected at each call (`GET /metrics`); null when no
   * Prometheus reader is set up (METRICS_ENABLED unset, OTEL_SDK_DISABLED, Workers).
   */
  scrape: (() => Promise<string>) | null;
  /** Flushes and stops exporters, bounded in time so shutdown never hangs on a missing collector. */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** Tests pass an in-memory exporter; production exports OTLP only when an endpoint is set. */
  spanProcessors?: SpanProcessor[];
  metricReaders?: MetricReader[];
  /** Adds a Prometheus reader that serialises on request (METRICS_ENABLED); it starts no server of its own. */
  prometheus?: boolean;
}

function sampler(config: Config['otel'], exporting: boolean): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerArg ?? DEFAULT_RATIO);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    default:
      // Unset: exporting samples root requests (a span on every check would cost each of them
      // the span's CPU); an in-process processor (tests) sees every request.
      return new ParentBasedSampler({ root: exporting ? ratio : new AlwaysOnSampler() });
  }
}

/** Share of root requests traced to an OTLP endpoint when OTEL_TRACES_SAMPLER is unset (OTEL_TRACES_SAMPLER_ARG overrides it). */
export const DEFAULT_RATIO = 0.1;

/**
 * Sets up tracing and metrics. With no OTEL_EXPORTER_OTLP_ENDPOINT nothing is exported and
 * nothing fails, and nothing is recorded either: the tracer and meter are the API's no-ops and the
 * HTTP middleware skips them. The OTLP exporters are loaded only when an endpoint is configured.
 */
export async function setupTelemetry(config: Config['otel'], options: TelemetryOptions = {}): Promise<Telemetry> {
  if (config.disabled) return noopTelemetry();
  const resource = resourceFromAttributes({ 'service.name': config.serviceName });
  const spanProcessors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  const readers: MetricReader[] = [...(options.metricReaders ?? [])];
  if (config.endpoint) {
    const base = config.endpoint.replace(/\/$/, '');
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-http');
    const exporter: SpanExporter = new OTLPTraceExporter({ url: `${base}/v1/traces`, timeoutMillis: 3000 });
    spanProcessors.push(new BatchSpanProcessor({ exporter }));
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics`, timeoutMillis: 3000 }),
        exportIntervalMillis: 15000,
      }),
    );
  }
  let scrape: Telemetry['scrape'] = null;
  if (options.prometheus) {
    // Loaded only when asked for; the exporter's own HTTP server stays off: Hono serves /metrics.
    const { PrometheusExporter, PrometheusSerializer } = await import('@opentelemetry/exporter-prometheus');
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const serializer = new PrometheusSerializer();
    // The exporter pins sdk-metrics 2.12.0 (its own copy) where Jaga has 2.12.1: the same reader
    // contract, but TypeScript sees two declarations of its private members.
    readers.push(exporter as unknown as MetricReader);
    scrape = async () => {
      const { resourceMetrics } = await exporter.collect();
      return serializer.serialize(resourceMetrics);
    };
  }
  if (!spanProcessors.length && !readers.length) return noopTelemetry();
  const tracerProvider = new TracerProvider({
    resource,
    sampler: sampler(config, Boolean(config.endpoint)),
    spanProcessors,
  });
  const meterProvider = new MeterProvider({ resource, readers });
  return {
    tracer: tracerProvider.getTracer('jaga'),
    meter: meterProvider.getMeter('jaga'),
    tracing: spanProcessors.length > 0,
    metering: readers.length > 0,
    scrape,
    async shutdown() {
      await withTimeout(Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]), 3000);
    },
  };
}

export function noopTelemetry(): Telemetry {
  return {
    tracer: trace.getTracer('jaga-noop'),
    meter: metrics.getMeter('jaga-noop'),
    tracing: false,
    metering: false,
    scrape: null,
    shutdown: async () => {},
  };
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p.catch(() => {}), new Promise((res) => (timer = setTimeout(res, ms)))]);
  clearTimeout(timer);
}
