import { serve } from '@hono/node-server';
import { type SpanExporter } from '@opentelemetry/sdk-trace';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { boot } from '../../src/boot.ts';
import { loadConfig } from '../../src/config/config.ts';
import { openEmbedded } from '../../src/db/embedded.ts';
import { createLogger } from '../../src/system/logger.ts';
import { noopTelemetry, setupTelemetry } from '../../src/telemetry/telemetry.ts';

// A Jaga server for the tracing benchmark: argv[2] = port, argv[3] = off | on.
const [port, mode] = [Number(process.argv[2]), process.argv[3]];
// Spans are built, batched and handed to an exporter that drops them: the cost without a network.
const discard: SpanExporter = { export: (_s, done) => done({ code: 0 }), shutdown: async () => {} };
const config = loadConfig({ LOG_LEVEL: 'silent', OTEL_TRACES_SAMPLER: 'always_on' });
const telemetry =
  mode === 'on'
    ? await setupTelemetry(config.otel, { spanProcessors: [new BatchSpanProcessor({ exporter: discard })] })
    : noopTelemetry();
const db = await openEmbedded(undefined);
const { app } = await boot({ config, db, logger: createLogger('silent'), telemetry });
serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => process.stdout.write('ready\n'));
