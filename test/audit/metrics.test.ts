import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { setupTelemetry } from '../../src/telemetry/telemetry.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { entry } from './helpers.ts';

describe.each(databaseKinds())('audit metrics on %s', (kind) => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it('reports queue depth, flush size and flush latency', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const telemetry = await setupTelemetry(loadConfig({}).otel, { metricReaders: [reader] });
    t = await startApp(kind, {}, { telemetry });
    await Promise.all(Array.from({ length: 20 }, () => t.deps.services.audit.appendDurable(entry())));
    await reader.forceFlush();
    const names = exporter
      .getMetrics()
      .flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics.map((x) => x.descriptor.name)));
    expect(names).toEqual(
      expect.arrayContaining(['jaga.audit.queue.depth', 'jaga.audit.flush.size', 'jaga.audit.flush.duration']),
    );
    const size = exporter
      .getMetrics()
      .flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics))
      .find((x) => x.descriptor.name === 'jaga.audit.flush.size');
    const point = size!.dataPoints[0]!.value as { sum: number };
    expect(point.sum).toBe(20); // every entry went through a counted flush
    await telemetry.shutdown();
  });
});
