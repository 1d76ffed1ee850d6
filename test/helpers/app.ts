import { boot, type Booted } from '../../src/boot.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { Database } from '../../src/db/database.ts';
import { createLogger } from '../../src/system/logger.ts';
import type { Telemetry } from '../../src/telemetry/telemetry.ts';
import type { WireOptions } from '../../src/wiring.ts';
import { freshDatabase, type DatabaseKind } from './databases.ts';

/** A shared secret for test tokens (tests only; never a default of the service). */
export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

export interface TestApp extends Booted {
  db: Database;
  /** Sends a request through the whole app (middleware, routes, error model) in-process. */
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
}

export interface RequestOptions {
  token?: string;
  json?: unknown;
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  body: any;
}

/** Boots Jaga on a fresh database of the given kind, with test configuration. */
export async function startApp(
  kind: DatabaseKind,
  env: Record<string, string> = {},
  options: {
    telemetry?: Telemetry;
    replace?: WireOptions['replace'];
    /** Boot on this database instead of a fresh one (a second instance). */
    db?: Database;
  } = {},
): Promise<TestApp> {
  const db = options.db ?? (await freshDatabase(kind));
  const config = loadConfig({ LOG_LEVEL: 'silent', JWT_SECRET: TEST_JWT_SECRET, ...env });
  const booted = await boot({
    config,
    db,
    logger: createLogger(process.env.JAGA_TEST_LOG === '1' ? 'debug' : 'silent'),
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    ...(options.replace ? { replace: options.replace } : {}),
  });
  return {
    ...booted,
    db,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let body = opts.body;
      if (opts.json !== undefined) {
        body = JSON.stringify(opts.json);
        headers['content-type'] ??= 'application/json';
      }
      const res = await booted.app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, text, body: parsed };
    },
  };
}

/**
 * A dependency a test points elsewhere for a while, swapped through the constructor production
 * uses: pass `wrap` as a `replace` entry of startApp; `use(x)` routes every call to x, `use(null)`
 * back to what the wiring built.
 */
export function swappable<T extends object>(): { wrap: (built: T) => T; use(replacement: T | null): void } {
  let current: T | null = null;
  return {
    wrap: (built) =>
      new Proxy(built, {
        get(_target, key) {
          const target = current ?? built;
          const value: unknown = Reflect.get(target, key);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
    use(replacement) {
      current = replacement;
    },
  };
}

/**
 * Registers processing purposes through the API (as an administrator): a declared purpose
 * discloses personal data only once it is in the register (UU 27/2022 art. 31).
 */
export async function registerPurposes(
  t: Pick<TestApp, 'request'>,
  ids: string[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  const { SignJWT } = await import('jose');
  const admin = await new SignJWT({ roles: ['admin'], unit: 'RI' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('purpose-registrar')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
  for (const id of ids) {
    const r = await t.request('POST', '/v1/purposes', {
      token: admin,
      json: { id, description: `Test purpose ${id}`, lawfulBasis: 'public_task', ...extra },
    });
    if (r.status !== 201) throw new Error(`register purpose ${id}: ${r.status} ${r.text}`);
  }
}
