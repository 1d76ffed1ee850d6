import type { MiddlewareHandler } from 'hono';
import type { GenericSchema } from 'valibot';

/**
 * Route metadata for the OpenAPI document. Validators and `describe()` attach it to their
 * middleware; `buildOpenApi` walks the app's routes and reads it back, so the document is
 * generated from the same schemas the routes validate with.
 */
export type Target = 'json' | 'query' | 'param' | 'header';

export interface ResponseSpec {
  description: string;
  schema?: GenericSchema;
  contentTypes?: string[];
}

export interface RouteDoc {
  summary: string;
  description?: string;
  tags: string[];
  operationId?: string;
  security?: 'none' | 'bearer' | 'optional';
  responses: Record<number, ResponseSpec>;
  /** Extra request body media types (e.g. NDJSON, CSV) beside JSON. */
  requestContentTypes?: string[];
}

export interface OpenApiMeta {
  doc?: RouteDoc;
  input?: { target: Target; schema: GenericSchema };
}

export const OPENAPI = Symbol.for('jaga.openapi');

export type Described = MiddlewareHandler & { [OPENAPI]?: OpenApiMeta };

export function attach<M extends MiddlewareHandler>(mw: M, meta: OpenApiMeta): M {
  (mw as Described)[OPENAPI] = meta;
  return mw;
}

/** Describes an operation for the OpenAPI document; a no-op at run time. */
export function describe(doc: RouteDoc): MiddlewareHandler {
  return attach(async (_c, next) => next(), { doc });
}
