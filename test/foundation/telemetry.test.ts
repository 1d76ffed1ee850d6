import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { setupTelemetry } from '../../src/telemetry/telemetry.ts';
import { startApp, type TestApp } from '../helpers/app.ts';

describe('telemetry', () => {
  const exporter = new InMemorySpanExporter();
  let t: TestApp;
  beforeAll(async () => {
    const telemetry = await setupTelemetry(loadConfig({}).otel, {
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    t = await startApp('pglite', {}, { telemetry });
  });
  afterAll(() => t.close());

  it('records one server span per request with the route template, method and status', async () => {
    exporter.reset();
    await t.request('GET', '/healthz');
    await t.request('GET', '/no/such/thing-4242');
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(2);
    expect(spans[0]!.name).toBe('GET /healthz');
    expect(spans[0]!.attributes).toMatchObject({
      'http.route': '/healthz',
      'http.request.method': 'GET',
      'http.response.status_code': 200,
    });
    expect(spans[1]!.attributes['http.response.status_code']).toBe(404);
    // The concrete path never becomes an attribute: it may carry ids of people or datasets.
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain('thing-4242');
  });

  it('exports nothing and fails nothing without an OTLP endpoint', async () => {
    const telemetry = await setupTelemetry(loadConfig({}).otel);
    // Nothing to export to: no span is recorded, so requests start none (the middleware skips them).
    expect(telemetry.tracing).toBe(false);
    expect(telemetry.tracer.startSpan('x').isRecording()).toBe(false);
    telemetry.tracer.startSpan('x').end();
    await expect(telemetry.shutdown()).resolves.toBeUndefined();
  });
});
