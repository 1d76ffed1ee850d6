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
  /** Response headers by name (e.g. X-Decision-Id), documented beside the body. */
  headers?: Record<string, string>;
}

/** A request header or query parameter the route reads itself (not through a validator). */
export interface ParameterSpec {
  name: string;
  in: 'header' | 'query';
  description: string;
  required?: boolean;
  /** JSON Schema of the value; a string when omitted. */
  schema?: Record<string, unknown>;
  /** Query parameters named by the data (e.g. `<field>=<value>`): one free-form object, exploded. */
  freeForm?: boolean;
}

export interface RouteDoc {
  summary: string;
  /** Required: linters and generated clients show it as the operation's documentation. */
  description: string;
  tags: string[];
  /** Stable name client generators turn into a method (camelCase verb + noun). */
  operationId: string;
  security?: 'none' | 'bearer' | 'optional';
  parameters?: ParameterSpec[];
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
