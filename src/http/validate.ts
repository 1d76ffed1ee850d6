import type { Context, MiddlewareHandler } from 'hono';
import { validator } from 'hono/validator';
import * as v from 'valibot';
import { deepFreeze } from '../shared/deep-freeze.ts';
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

async function readJsonText(c: Context): Promise<string> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  }
  return c.req.text();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ApiError('MALFORMED_JSON', (error as Error).message);
  }
}

/**
 * Valid bodies remembered by their exact text (`valid`'s `memo`): a schema's output is a function
 * of the text alone, so a body seen before skips JSON parsing and validation. Outputs are frozen
 * (shared between requests); only short bodies are kept, and at most `max`, the oldest going first.
 * On a query validator, `memo` remembers the result of an empty query (a request without `?`).
 */
export interface BodyMemo {
  max: number;
  /** Longest body text kept, in UTF-16 code units. */
  textMax: number;
}

/**
 * A valibot validator for one part of the request. Errors go through the one error model;
 * the schema also feeds the OpenAPI document.
 */
export function valid<T extends Target, S extends v.GenericSchema>(
  target: T,
  schema: S,
  options: { memo?: BodyMemo } = {},
) {
  const prefix = target === 'json' ? 'body.' : `${target}.`;
  const typed = validator(target, (value) => parseOrThrow(schema, value, prefix) as v.InferOutput<S>);
  // hono's own JSON reading answers in its own words; ours keeps the one error model.
  const mw =
    target === 'json'
      ? (jsonValidator(schema, prefix, options.memo) as unknown as typeof typed)
      : target === 'query' && options.memo
        ? (emptyQueryRemembered(schema, typed as unknown as MiddlewareHandler) as unknown as typeof typed)
        : typed;
  return attach(mw as unknown as MiddlewareHandler, { input: { target, schema } }) as unknown as typeof typed;
}

/** `parse(text)` remembered by `text` (see BodyMemo); what it throws is not remembered. */
export function rememberedParse<T>(memo: BodyMemo): (text: string, parse: (text: string) => T) => T {
  const seen = new Map<string, T>();
  return (text, parse) => {
    let parsed = seen.get(text);
    if (parsed === undefined) {
      parsed = parse(text);
      if (text.length <= memo.textMax && typeof parsed === 'object' && parsed !== null) {
        if (seen.size >= memo.max) seen.delete(seen.keys().next().value as string);
        seen.set(text, deepFreeze(parsed));
      }
    }
    return parsed;
  };
}

/** With `memo`, a request without a query string takes the empty query's result, validated once (frozen). */
function emptyQueryRemembered(schema: v.GenericSchema, typed: MiddlewareHandler): MiddlewareHandler {
  let empty: object | null | undefined; // null: the schema refuses an empty query
  return (c, next) => {
    if (c.req.url.includes('?')) return typed(c, next);
    if (empty === undefined) {
      const result = v.safeParse(schema, {});
      empty = result.success ? deepFreeze(result.output as object) : null;
    }
    if (empty === null) return typed(c, next);
    c.req.addValidatedData('query', empty);
    return next();
  };
}

function jsonValidator(schema: v.GenericSchema, prefix: string, memo?: BodyMemo): MiddlewareHandler {
  const parse = (text: string) => parseOrThrow(schema, parseJson(text), prefix) as object;
  const remembered = memo ? rememberedParse<object>(memo) : null;
  return async (c, next) => {
    const text = await readJsonText(c);
    c.req.addValidatedData('json', remembered ? remembered(text, parse) : parse(text));
    await next();
  };
}
