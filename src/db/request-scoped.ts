import { AsyncLocalStorage } from 'node:async_hooks';
import type { Database, Sql } from './database.ts';

/**
 * A database for a runtime where a connection belongs to one request (Cloudflare Workers: I/O
 * objects created for one request cannot be used by another). The services are built once, on
 * `db`; each request brings its own client and runs inside `run(client, …)`, and every query made
 * through `db.sql` goes to that client. A query outside any request fails at once instead of
 * borrowing another request's connection.
 */
export interface RequestScopedDatabase {
  db: Database;
  run<T>(client: Sql, fn: () => T): T;
}

export function requestScopedDatabase(): RequestScopedDatabase {
  const scope = new AsyncLocalStorage<Sql>();
  const current = (): Sql => {
    const client = scope.getStore();
    if (!client) throw new Error('no database client: a query ran outside a request');
    return client;
  };
  // An arrow function as the target: callable as a tagged template, with no own properties to pin.
  const sql = new Proxy((() => {}) as unknown as Sql, {
    apply: (_target, thisArg, args) => Reflect.apply(current(), thisArg, args),
    get(_target, key) {
      const client = current();
      const value: unknown = Reflect.get(client, key);
      return typeof value === 'function' ? value.bind(client) : value;
    },
  });
  return {
    db: {
      sql,
      kind: 'postgres',
      single: () => sql,
      current,
      // The runtime closes a request's sockets when its invocation ends; postgres.js's `end()` there
      // leaves an unhandled "Stream was cancelled" rejection (porsager/postgres#1202).
      close: async () => {},
    },
    run: (client, fn) => scope.run(client, fn),
  };
}
