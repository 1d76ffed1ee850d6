import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { runJaga } from '../helpers/process.ts';
import { AUDIENCE, ISSUER } from './tokens.ts';

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Runs `npm run token -- ...args` (the script itself) and returns its exit code and output. */
async function mint(env: Record<string, string>, args: string[]): Promise<{ code: number | null; output: string }> {
  const p = runJaga('token', env, args);
  const code = await p.exited;
  return { code, output: p.output() };
}

const tokenOf = (output: string) => output.trim().split('\n').at(-1)!;

describe.each(databaseKinds())('the token CLI on %s', (kind) => {
  let t: TestApp;
  const env = { JWT_SECRET: TEST_JWT_SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE };
  beforeAll(async () => {
    t = await startApp(kind, { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
  });
  afterAll(async () => t.close());

  it('mints a token that /v1/me reads back as the principal asked for', async () => {
    const { code, output } = await mint(env, [
      '--sub',
      'alice',
      '--roles',
      'steward',
      '--unit',
      '32.01',
      '--purposes',
      'pengawasan,statistik',
    ]);
    expect(code, output).toBe(0);
    const token = tokenOf(output);
    expect(token).toMatch(JWT);
    const res = await t.request('GET', '/v1/me', { token });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      sub: 'alice',
      kind: 'user',
      roles: ['steward'],
      unit: '32.01',
      purposes: ['pengawasan', 'statistik'],
    });
  });

  it('mints service tokens with several roles and a lifetime', async () => {
    const { code, output } = await mint(env, [
      '--sub',
      'sync',
      '--roles',
      'service,staff',
      '--unit',
      'RI',
      '--kind',
      'service',
      '--ttl',
      '15m',
    ]);
    expect(code, output).toBe(0);
    const res = await t.request('GET', '/v1/me', { token: tokenOf(output) });
    expect(res.body).toEqual({ sub: 'sync', kind: 'service', roles: ['service', 'staff'], unit: 'RI', purposes: [] });
    const payload = JSON.parse(Buffer.from(tokenOf(output).split('.')[1]!, 'base64url').toString()) as {
      iat: number;
      exp: number;
    };
    expect(payload.exp - payload.iat).toBe(15 * 60);
  });

  it('a token minted with another secret is refused by the server', async () => {
    const { output } = await mint({ ...env, JWT_SECRET: 'some-other-secret-some-other-secret-99' }, [
      '--sub',
      'alice',
      '--roles',
      'admin',
      '--unit',
      'RI',
    ]);
    const res = await t.request('GET', '/v1/me', { token: tokenOf(output) });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('TOKEN_SIGNATURE_INVALID');
  });
});

const lifetimeOf = (token: string) => {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
  return payload.exp - payload.iat;
};

describe('the token CLI and JWT_MAX_TTL', () => {
  let t: TestApp;
  const env = { JWT_SECRET: TEST_JWT_SECRET, JWT_MAX_TTL: '15m' };
  const args = ['--sub', 'alice', '--roles', 'steward', '--unit', '32.01'];
  beforeAll(async () => {
    t = await startApp('pglite', { JWT_MAX_TTL: '15m' });
  });
  afterAll(async () => t.close());

  it('mints for one hour by default, or for JWT_MAX_TTL when that is shorter', async () => {
    const usual = await mint({ JWT_SECRET: TEST_JWT_SECRET }, args);
    expect(usual.code, usual.output).toBe(0);
    expect(lifetimeOf(tokenOf(usual.output))).toBe(3600);
    const short = await mint(env, args);
    expect(short.code, short.output).toBe(0);
    expect(lifetimeOf(tokenOf(short.output))).toBe(15 * 60);
    expect((await t.request('GET', '/v1/me', { token: tokenOf(short.output) })).status).toBe(200);
  });

  it('refuses a --ttl beyond JWT_MAX_TTL, which the server would refuse too', async () => {
    const { code, output } = await mint(env, [...args, '--ttl', '1h']);
    expect(code, output).toBe(2);
    expect(output).toContain('--ttl 1h is longer than the server accepts: JWT_MAX_TTL is 15m');
    const hour = await mint({ JWT_SECRET: TEST_JWT_SECRET }, [...args, '--ttl', '1h']);
    const res = await t.request('GET', '/v1/me', { token: tokenOf(hour.output) });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('TOKEN_LIFETIME_INVALID');
    expect(res.body.detail).toContain('JWT_MAX_TTL 15m');
  });

  it('stops with exit 2 on a JWT_MAX_TTL that is not a duration', async () => {
    const { code, output } = await mint({ ...env, JWT_MAX_TTL: '1 day' }, args);
    expect(code).toBe(2);
    expect(output).toContain('JWT_MAX_TTL: expected a duration such as 90s, 15m, 24h or 7d');
  });
});

describe('the token CLI refuses', () => {
  const args = ['--sub', 'alice', '--roles', 'steward', '--unit', '32.01'];

  it('to run without JWT_SECRET (exit 2, says why)', async () => {
    const { code, output } = await mint({}, args);
    expect(code).toBe(2);
    expect(output).toContain('JWT_SECRET is not set');
    expect(output).not.toMatch(/[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
  });

  it('a secret shorter than 32 bytes (exit 2)', async () => {
    const { code, output } = await mint({ JWT_SECRET: 'short' }, args);
    expect(code).toBe(2);
    expect(output).toContain('JWT_SECRET must be at least 32 bytes');
  });

  it.each([
    [
      'an unknown role',
      ['--sub', 'alice', '--roles', 'steward,superuser', '--unit', '32.01'],
      'unknown role "superuser"',
    ],
    ['a bad unit code', ['--sub', 'alice', '--roles', 'steward', '--unit', '32.1'], 'unit must be a unit code'],
    ['a missing sub', ['--roles', 'steward', '--unit', '32.01'], '--sub is required'],
    ['a bad kind', [...args, '--kind', 'anonymous'], "kind must be 'user' or 'service'"],
    ['a bad ttl', [...args, '--ttl', 'forever'], '--ttl'],
    [
      'a ttl over JWT_MAX_TTL (24h by default)',
      [...args, '--ttl', '2d'],
      '--ttl 2d is longer than the server accepts: JWT_MAX_TTL is 24h',
    ],
    ['a ttl over 30 days', [...args, '--ttl', '31d'], 'JWT_MAX_TTL'],
    ['an unknown option', [...args, '--admin'], "Unknown option '--admin'"],
  ])('%s (exit 2)', async (_what, argv, message) => {
    const { code, output } = await mint({ JWT_SECRET: TEST_JWT_SECRET }, argv);
    expect(code, output).toBe(2);
    expect(output).toContain(message);
  });
});
