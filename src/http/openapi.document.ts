import { toJsonSchema } from '@valibot/to-json-schema';
import type { Hono } from 'hono';
import type { GenericSchema } from 'valibot';
import { OPENAPI, type Described, type OpenApiMeta, type RouteDoc, type Target } from './openapi.ts';

type JsonSchema = Record<string, unknown>;

const schemaOf = (s: GenericSchema): JsonSchema => {
  const { $schema: _drop, ...rest } = toJsonSchema(s, { errorMode: 'ignore' }) as JsonSchema;
  return rest;
};

const PROBLEM = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code', 'requestId'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

export interface Operation {
  method: string;
  path: string;
  doc: RouteDoc | undefined;
  inputs: { target: Target; schema: GenericSchema }[];
}

/** Groups the app's registered handlers into operations (method + path) with their metadata. */
export function operationsOf(app: Hono<any, any, any>): Operation[] {
  const ops = new Map<string, Operation>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    const key = `${r.method} ${r.path}`;
    let op = ops.get(key);
    if (!op) {
      op = { method: r.method, path: r.path, doc: undefined, inputs: [] };
      ops.set(key, op);
    }
    const meta: OpenApiMeta | undefined = (r.handler as Described)[OPENAPI];
    if (meta?.doc) op.doc = meta.doc;
    if (meta?.input) op.inputs.push(meta.input);
  }
  return [...ops.values()];
}

const toOpenApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');

function parameters(target: Target, schema: GenericSchema): unknown[] {
  const js = schemaOf(schema);
  const props = (js.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((js.required ?? []) as string[]);
  const where = target === 'param' ? 'path' : target;
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: s,
    ...(s.description ? { description: s.description } : {}),
  }));
}

/** The OpenAPI 3.1 document of every operation the app serves. */
export function buildOpenApi(app: Hono<any, any, any>, info: { title: string; version: string }): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operationsOf(app)) {
    const path = toOpenApiPath(op.path);
    const doc = op.doc;
    const params: unknown[] = [];
    let requestBody: unknown;
    for (const input of op.inputs) {
      if (input.target === 'json') {
        const content: Record<string, unknown> = { 'application/json': { schema: schemaOf(input.schema) } };
        for (const t of doc?.requestContentTypes ?? []) content[t] = { schema: { type: 'string' } };
        requestBody = { required: true, content };
      } else params.push(...parameters(input.target, input.schema));
    }
    if (!requestBody && doc?.requestContentTypes?.length) {
      requestBody = {
        required: true,
        content: Object.fromEntries(doc.requestContentTypes.map((t) => [t, { schema: { type: 'string' } }])),
      };
    }
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(doc?.responses ?? { 200: { description: 'OK' } })) {
      const types = r.contentTypes ?? (r.schema ? ['application/json'] : []);
      responses[status] = {
        description: r.description,
        ...(types.length
          ? {
              content: Object.fromEntries(
                types.map((t) => [t, r.schema && t.includes('json') ? { schema: schemaOf(r.schema) } : {}]),
              ),
            }
          : {}),
      };
    }
    responses.default = {
      description: 'An error (RFC 9457 problem details)',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
    (paths[path] ??= {})[op.method.toLowerCase()] = {
      summary: doc?.summary ?? `${op.method} ${op.path}`,
      ...(doc?.description ? { description: doc.description } : {}),
      tags: doc?.tags ?? [],
      ...(doc?.operationId ? { operationId: doc.operationId } : {}),
      ...(doc?.security === 'bearer' ? { security: [{ bearer: [] }] } : {}),
      ...(doc?.security === 'optional' ? { security: [{}, { bearer: [] }] } : {}),
      parameters: params,
      ...(requestBody ? { requestBody } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'Jaga: data classification and access governance. Every error is application/problem+json with a stable `code`.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Problem: PROBLEM },
    },
  };
}
