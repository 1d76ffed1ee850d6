import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { runScript } from '../helpers/process.ts';

describe('configuration', () => {
  it('has safe defaults and no default secrets', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe('0.0.0.0');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.dataDir).toBe('./data');
    expect(c.jwt.secret).toBeUndefined();
    expect(c.audit.hmacKey).toBeUndefined();
    expect(c.pseudonymKey).toBeUndefined();
  });

  it('names each bad variable and what it expected', () => {
    try {
      loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', JWT_SECRET: 'short' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const vars = (error as ConfigError).problems.map((p) => p.variable);
      expect(vars).toEqual(expect.arrayContaining(['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'JWT_SECRET']));
      expect((error as Error).message).toMatch(/PORT: expected a port number/);
    }
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ JWKS_URL: 'https://idp.example/jwks' })).toThrow(/JWT_ISSUER/);
  });

  it('answers checks once their audit entry is durable unless AUDIT_CHECKS=queued', () => {
    expect(loadConfig({}).audit.checks).toBe('durable');
    expect(loadConfig({ AUDIT_CHECKS: 'queued' }).audit.checks).toBe('queued');
    expect(() => loadConfig({ AUDIT_CHECKS: 'fast' })).toThrow(/AUDIT_CHECKS: expected durable or queued/);
  });

  it('reads JWT_MAX_TTL as a duration (default 24h, at most 30d)', () => {
    expect(loadConfig({}).jwt.maxTtlSeconds).toBe(86400);
    expect(loadConfig({ JWT_MAX_TTL: '90s' }).jwt.maxTtlSeconds).toBe(90);
    expect(loadConfig({ JWT_MAX_TTL: '15m' }).jwt.maxTtlSeconds).toBe(900);
    expect(loadConfig({ JWT_MAX_TTL: '7d' }).jwt.maxTtlSeconds).toBe(7 * 86400);
    for (const bad of ['0s', '24', '1 day', '-1h', '31d', '1w']) {
      expect(() => loadConfig({ JWT_MAX_TTL: bad }), bad).toThrow(/JWT_MAX_TTL: expected a duration/);
    }
  });

  it('requires AUDIT_HMAC_KEY when NODE_ENV=production, and only then', () => {
    try {
      loadConfig({ NODE_ENV: 'production' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['AUDIT_HMAC_KEY']);
      expect((error as Error).message).toMatch(/AUDIT_HMAC_KEY: required when NODE_ENV=production/);
    }
    expect(loadConfig({ NODE_ENV: 'production', AUDIT_HMAC_KEY: 'k'.repeat(32) }).audit.hmacKey).toBe('k'.repeat(32));
    for (const env of [{}, { NODE_ENV: 'development' }, { NODE_ENV: 'test' }])
      expect(loadConfig(env).audit.hmacKey).toBeUndefined();
  });

  it('stops start-up at once when PORT is not a number', async () => {
    const p = runScript('src/entry/node.ts', { PORT: 'abc' });
    expect(await p.exited).toBe(2);
    expect(p.output()).toMatch(/PORT: expected a port number/);
  });
});
