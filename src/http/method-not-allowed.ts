import type { Hono } from 'hono';
import { operationsOf } from './openapi.document.ts';

/** For a request no route matched: the methods the path does allow (empty if none). */
export function allowedMethods(app: Hono<any, any, any>): (path: string) => string[] {
  let table: { re: RegExp; method: string }[] | undefined;
  return (path) => {
    table ??= operationsOf(app).map((op) => ({
      method: op.method,
      re: new RegExp(
        '^' +
          op.path
            .split('/')
            .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
            .join('/') +
          '/?$',
      ),
    }));
    return [...new Set(table.filter((t) => t.re.test(path)).map((t) => t.method))];
  };
}
