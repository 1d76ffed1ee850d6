import type { Context, MiddlewareHandler } from 'hono';
import { validator } from 'hono/validator';
import * as v from 'valibot';
import { attach, type Target } from './openapi.ts';
import { ApiError, type FieldError } from './problem.ts';

export function issuesToErrors(issues: readonly v.BaseIssue<unknown>[], prefix = ''): FieldError[] {
  return issues.map((issue) => {
    const path = v.getDotPath(issue);
    return { path: prefix + (path ?? ''), message: issue.message };
  });
}

/** Parses `input` with `schema` or throws VALIDATION_FAILED listing every offending path. */
export function parseOrThrow<S extends v.GenericSchema>(schema: S, input: unknown, prefix = ''): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (!result.success) {
    throw new ApiError('VALIDATION_FAILED', 'The request is not valid; see errors for each offending path.', {
      errors: issuesToErrors(result.issues, prefix),
    });
  }
  return result.output;
}

async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  }
  const text = await c.req.text();
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ApiError('MALFORMED_JSON', (error as Error).message);
  }
}

/**
 * A valibot validator for one part of the request. Errors go through the one error model;
 * the schema also feeds the OpenAPI document.
 */
export function valid<T extends Target, S extends v.GenericSchema>(target: T, schema: S) {
  const prefix = target === 'json' ? 'body.' : `${target}.`;
  const typed = validator(target, (value) => parseOrThrow(schema, value, prefix) as v.InferOutput<S>);
  // hono's own JSON reading answers in its own words; ours keeps the one error model.
  const mw = target === 'json' ? (jsonValidator(schema, prefix) as unknown as typeof typed) : typed;
  return attach(mw as unknown as MiddlewareHandler, { input: { target, schema } }) as unknown as typeof typed;
}

function jsonValidator(schema: v.GenericSchema, prefix: string): MiddlewareHandler {
  return async (c, next) => {
    const parsed = parseOrThrow(schema, await readJson(c), prefix);
    c.req.addValidatedData('json', parsed as object);
    await next();
  };
}
