import { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { describe } from '../http/openapi.ts';
import { PrincipalSchema } from './principal.ts';

const PROBLEM = ['application/problem+json'];

export function identityRoutes() {
  return new Hono<AppEnv>().get(
    '/v1/me',
    describe({
      operationId: 'getMe',
      summary: 'The principal as Jaga understands the caller’s token',
      description:
        'Without an Authorization header: the anonymous principal (role `public`). With a valid bearer token: ' +
        '`sub`, `kind`, `roles`, `unit` and `purposes` from its claims. For integrators debugging their tokens: ' +
        'an invalid token answers 401 with a code that says why (see docs/identity.md).',
      tags: ['identity'],
      security: 'optional',
      responses: {
        200: { description: 'The principal', schema: PrincipalSchema },
        401: {
          description: 'The token is present but not valid (TOKEN_* codes, UNAUTHENTICATED)',
          contentTypes: PROBLEM,
        },
        503: {
          description: 'The identity provider’s key set cannot be fetched (IDENTITY_UNAVAILABLE)',
          contentTypes: PROBLEM,
        },
      },
    }),
    (c) => c.json(c.get('principal')),
  );
}
