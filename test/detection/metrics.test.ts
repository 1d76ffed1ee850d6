import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { setupTelemetry } from '../../src/telemetry/telemetry.ts';
import type { TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { principals, startRecordsApp } from '../records/records-app.ts';

describe.each(databaseKinds())('quarantine metric on %s', (kind) => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it('counts the fields an ingest quarantines', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const telemetry = await setupTelemetry(loadConfig({}).otel, { metricReaders: [reader] });
    t = await startRecordsApp(kind, {}, { telemetry });
    const { steward32 } = await principals();
    const fields = [
      { name: 'no_urut', type: 'string' },
      { name: 'kode', type: 'string' },
    ];
    expect(
      (
        await t.request('POST', '/v1/datasets', {
          token: steward32,
          json: { id: 'm-ds', title: 'M', ownerUnit: '32', fields },
        })
      ).status,
    ).toBe(201);
    expect(
      (await t.request('PUT', '/v1/datasets/m-ds/label', { token: steward32, json: { classification: 'public' } }))
        .status,
    ).toBe(200);
    const rows = Array.from({ length: 10 }, (_, i) => ({
      no_urut: String(i),
      kode: `3201015203900${String(i + 100)}`,
    }));
    const r = await t.request('POST', '/v1/datasets/m-ds/records', { token: steward32, json: rows });
    expect(r.body.quarantined).toEqual([expect.objectContaining({ field: 'kode', personalData: 'nik' })]);
    await reader.forceFlush();
    const metric = exporter
      .getMetrics()
      .flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics))
      .find((x) => x.descriptor.name === 'jaga.detection.quarantines');
    expect(metric?.dataPoints.reduce((n, p) => n + (p.value as number), 0)).toBe(1);
    await telemetry.shutdown();
  });
});
