import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { recordVerified } from '../audit/audit.repo.ts';
import { verifyChain } from '../audit/audit.verify.ts';
import type { AppEnv } from '../http/context.ts';
import { onError, problemResponse, toApiError } from '../http/on-error.ts';
import { ApiError, toProblem } from '../http/problem.ts';
import { requestId } from '../http/request-id.ts';
import { parseOrThrow } from '../http/validate.ts';
import { claimsSchema, principalFromClaims } from '../identity/claims.schema.ts';
import type { UploadFormat } from '../records/ingest.parse.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../system/logger.ts';
import type { Services } from '../wiring.ts';
import { ImportQuerySchema, VerifyBodySchema, type OperatorStatus, type VerifyLine } from './operator.schema.ts';

/**
 * The operator channel: what the CLIs (`npm run import`, `audit:verify`, `migrate`) ask a running
 * server for, instead of opening its embedded database themselves (PGlite is single-process).
 *
 * Served only on a unix socket in a private (0700) temp folder named in the data folder's lock,
 * and only to a caller that shows the lock's token, read from the lock file (0600): whoever can
 * do both could open the data folder directly, so the channel gives the CLIs exactly the power
 * they had before, as the operator, not as an API principal. The same services do the work as
 * for the HTTP API (validation, all-or-nothing ingest, the same audit entry); errors are the same
 * problem+json.
 */
/** What the channel uses: the services of an import, and the database itself for the operator's own reads (migrations, the chain walk). */
export interface OperatorDeps {
  db: Pick<Database, 'sql'>;
  services: Pick<Services, 'catalog' | 'policy' | 'ingest'>;
  config: { audit: { hmacKey?: string | undefined; verifyParallelism?: number } };
  logger: Logger;
}

export function operatorRoutes(
  deps: OperatorDeps,
  channel: { token: string; dataDir: string; since: string },
): Hono<AppEnv> {
  const expected = digest(channel.token);
  const app = new Hono<AppEnv>();
  app.use('*', requestId);
  app.use('*', async (c, next) => {
    const given = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
    if (!given || !timingSafeEqual(digest(given), expected)) {
      throw new ApiError('UNAUTHENTICATED', "Show the data folder lock's token (jaga.lock) as a bearer token.");
    }
    await next();
  });

  app.get('/operator/status', async (c) => {
    const migrations = await deps.db.sql<
      { name: string; checksum: string }[]
    >`select name, checksum from schema_migrations order by name`;
    const status: OperatorStatus = {
      pid: process.pid,
      dataDir: channel.dataDir,
      since: channel.since,
      migrations: [...migrations],
    };
    return c.json(status);
  });

  app.post('/operator/datasets/:id/records', async (c) => {
    const q = parseOrThrow(ImportQuerySchema, c.req.query(), 'query.');
    const datasetId = c.req.param('id');
    const read = await deps.services.catalog.getFieldsForRead(datasetId);
    if (!read) throw new ApiError('NOT_FOUND', `There is no dataset ${datasetId}.`);
    // As before the server held the folder: the operator acts as a steward of the owner unit (or of --unit).
    const claims = parseOrThrow(
      claimsSchema(() => deps.services.policy.current().roles),
      { sub: q.sub, roles: ['steward'], unit: q.unit ?? read.dataset.ownerUnit },
      'query.',
    );
    const body = c.req.raw.body;
    const result = await deps.services.ingest.ingest(
      principalFromClaims(claims),
      datasetId,
      q.format as UploadFormat,
      body ?? emptyBody(),
      {
        requestId: c.get('requestId'),
        traceId: null,
      },
    );
    deps.logger.info('operator import', {
      requestId: c.get('requestId'),
      dataset: datasetId,
      sub: claims.sub,
      inserted: result.inserted,
    });
    return c.json(result, 201);
  });

  // NDJSON: progress lines while the chain is walked, then the result (or the error).
  app.post('/operator/audit/verify', async (c) => {
    let input: unknown;
    try {
      input = JSON.parse(await c.req.text());
    } catch (error) {
      throw new ApiError('MALFORMED_JSON', (error as Error).message);
    }
    const body = parseOrThrow(VerifyBodySchema, input, 'body.');
    const id = c.get('requestId');
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (line: VerifyLine) => {
          try {
            controller.enqueue(encoder.encode(JSON.stringify(line) + '\n'));
          } catch {
            // the caller went away; the walk is bounded and ends by itself
          }
        };
        let painted = 0;
        try {
          const result = await verifyChain(deps.db.sql, {
            hmacKey: deps.config.audit.hmacKey,
            parallelism: deps.config.audit.verifyParallelism,
            ...(body.checkpoint ? { checkpoint: body.checkpoint } : {}),
            fromCheckpoint: body.fromCheckpoint,
            onProgress: (checked, total) => {
              if (performance.now() - painted < 200) return;
              painted = performance.now();
              send({ progress: { checked, total } });
            },
          });
          const { lastHash, ...shown } = result;
          // As the CLI's own walk: an intact whole walk is where the incremental ones start.
          if (result.ok && !body.fromCheckpoint)
            await recordVerified(deps.db.sql, { seq: result.lastSeq, hash: lastHash, fullWalk: true });
          send({ result: shown });
        } catch (error) {
          const { apiError, unexpected } = toApiError(error);
          if (unexpected) deps.logger.error('operator audit verify failed', { requestId: id, error });
          send({ error: toProblem(apiError, id) });
        }
        try {
          controller.close();
        } catch {
          // already cancelled
        }
      },
    });
    return c.body(stream, 200, { 'content-type': 'application/x-ndjson' });
  });

  app.notFound((c) =>
    problemResponse(c, new ApiError('ROUTE_NOT_FOUND', `There is no operator route ${c.req.method} ${c.req.path}.`)),
  );
  app.onError(onError(deps.logger));
  return app;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

async function* emptyBody(): AsyncGenerator<Uint8Array> {}
