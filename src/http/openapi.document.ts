import { toJsonSchema } from '@valibot/to-json-schema';
import type { Hono } from 'hono';
import type { GenericSchema } from 'valibot';
import {
  OPENAPI,
  type Described,
  type OpenApiMeta,
  type ParameterSpec,
  type ResponseSpec,
  type RouteDoc,
  type Target,
} from './openapi.ts';

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

function documentedParameter(p: ParameterSpec): JsonSchema {
  return {
    name: p.name,
    in: p.in,
    required: p.required ?? false,
    description: p.description,
    ...(p.freeForm
      ? { style: 'form', explode: true, schema: { type: 'object', additionalProperties: { type: 'string' } } }
      : { schema: p.schema ?? { type: 'string' } }),
  };
}

const PROBLEM_CONTENT = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };

const jsonBody = (mediaType: string) => /[/+]json$/.test(mediaType);

function response(status: string, r: ResponseSpec): JsonSchema {
  const types = r.contentTypes ?? (r.schema ? ['application/json'] : []);
  const content =
    types.length > 0
      ? Object.fromEntries(
          types.map((t) => [
            t,
            {
              schema: jsonBody(t) ? (r.schema ? schemaOf(r.schema) : {}) : { type: 'string' },
            },
          ]),
        )
      : Number(status) >= 400
        ? PROBLEM_CONTENT
        : undefined;
  return {
    description: r.description,
    ...(r.headers
      ? {
          headers: Object.fromEntries(
            Object.entries(r.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]),
          ),
        }
      : {}),
    ...(content ? { content } : {}),
  };
}

function responses(doc: RouteDoc | undefined): JsonSchema {
  const out: JsonSchema = {};
  for (const [status, r] of Object.entries(doc?.responses ?? { 200: { description: 'OK' } })) {
    out[status] = response(status, r);
  }
  // Any operation can meet the server's own refusals (413 body too large, 431 headers too large, 408 slow request).
  out['4XX'] = { description: 'Another client error (RFC 9457 problem details)', content: PROBLEM_CONTENT };
  out.default = { description: 'A server error (RFC 9457 problem details)', content: PROBLEM_CONTENT };
  return out;
}

const SECURITY = { none: [], bearer: [{ bearer: [] }], optional: [{}, { bearer: [] }] };

const TAG_DESCRIPTIONS: Record<string, string> = {
  system: 'Health, readiness and this description',
  identity: 'The caller as Jaga understands the token',
  catalog: 'Datasets, fields, units and their labels',
  registers: 'Public registers: Daftar Informasi Publik and exemptions',
  records: 'Enforced reads and ingest of records',
  decisions: 'The decision point: checks, batches, plans',
  authzen: 'OpenID AuthZEN Authorization API 1.0',
  audit: 'The tamper-evident decision log, its verification and reports',
  policies: 'Policy administration',
};

/** The OpenAPI 3.1 document of every operation the app serves. */
export function buildOpenApi(app: Hono<any, any, any>, info: { title: string; version: string }): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
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
    params.push(...(doc?.parameters ?? []).map(documentedParameter));
    if (!requestBody && doc?.requestContentTypes?.length) {
      requestBody = {
        required: true,
        content: Object.fromEntries(doc.requestContentTypes.map((t) => [t, { schema: { type: 'string' } }])),
      };
    }
    for (const t of doc?.tags ?? []) tags.add(t);
    (paths[path] ??= {})[op.method.toLowerCase()] = {
      operationId: doc?.operationId ?? `${op.method.toLowerCase()}${op.path.replace(/[^A-Za-z0-9]+/g, '_')}`,
      summary: doc?.summary ?? `${op.method} ${op.path}`,
      ...(doc?.description ? { description: doc.description } : {}),
      tags: doc?.tags ?? [],
      security: SECURITY[doc?.security ?? 'optional'],
      parameters: params,
      ...(requestBody ? { requestBody } : {}),
      responses: responses(doc),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'Jaga: data classification and access governance. Every error is application/problem+json with a stable `code`.',
      license: { name: 'Proprietary: for the deploying agency', identifier: 'LicenseRef-Proprietary' },
      contact: { name: 'The agency operating this Jaga (see its PPID page)' },
    },
    servers: [{ url: '/' }],
    tags: [...tags].sort().map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Problem: PROBLEM },
    },
  };
}
