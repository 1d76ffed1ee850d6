import { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { describe } from '../http/openapi.ts';
import { PrincipalSchema } from './principal.ts';

export function identityRoutes() {
  return new Hono<AppEnv>().get(
    '/v1/me',
    describe({
      summary: 'The principal as Jaga understands the caller’s token',
      tags: ['identity'],
      security: 'optional',
      responses: { 200: { description: 'The principal', schema: PrincipalSchema } },
    }),
    (c) => c.json(c.get('principal')),
  );
}
