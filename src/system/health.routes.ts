import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../http/context.ts';
import { describe } from '../http/openapi.ts';
import type { Readiness } from './readiness.ts';

const Health = v.object({ status: v.literal('ok') });
const Ready = v.object({
  status: v.picklist(['ready', 'not_ready']),
  checks: v.record(v.string(), v.object({ ok: v.boolean(), detail: v.optional(v.string()) })),
});

/** Liveness (the process answers) and readiness (every registered check passes). */
export function healthRoutes(readiness: Readiness) {
  return new Hono<AppEnv>()
    .get(
      '/healthz',
      describe({
        operationId: 'getLiveness',
        description:
          'Answers 200 while the process runs; it does not touch the database, so an orchestrator restarts only a process that is truly stuck.',
        summary: 'Liveness: the process answers',
        tags: ['system'],
        security: 'none',
        responses: { 200: { description: 'Alive', schema: Health } },
      }),
      (c) => c.json({ status: 'ok' as const }),
    )
    .get(
      '/readyz',
      describe({
        operationId: 'getReadiness',
        description:
          'Answers 200 when the database answers within its deadline, migrations are current and every registered check passes; 503 with the failing checks otherwise.',
        summary: 'Readiness: database reachable, migrations current, and every other registered check',
        tags: ['system'],
        security: 'none',
        responses: { 200: { description: 'Ready', schema: Ready }, 503: { description: 'Not ready', schema: Ready } },
      }),
      async (c) => {
        const { ready, checks } = await readiness.run();
        return c.json({ status: ready ? ('ready' as const) : ('not_ready' as const), checks }, ready ? 200 : 503);
      },
    );
}
