import type { Config } from '../config/config.ts';
import { UNKEYED_WARNING } from '../audit/audit.hash.ts';
import type { Logger } from './logger.ts';

/** One setting left unset that changes what Jaga does: its name, a short message, and what follows from it. */
export interface UnsetSetting {
  variable: string;
  msg: string;
  detail: string;
}

/**
 * What the configuration leaves unset that an operator must know about at the first start: each
 * secret not set and what follows (nothing refuses to start over these outside NODE_ENV=production).
 */
export function unsetSettings(config: Config): UnsetSetting[] {
  const out: UnsetSetting[] = [];
  if (!config.jwt.secret && !config.jwt.jwksUrl)
    out.push({
      variable: 'JWT_SECRET',
      msg: 'no token keys',
      detail:
        'Neither JWT_SECRET nor JWKS_URL is set: every request carrying a bearer token is refused (401 TOKEN_KEY_UNKNOWN) and only the anonymous routes answer (health, docs, registers, open data); `npm run token` cannot mint. Set JWT_SECRET (at least 32 bytes, e.g. openssl rand -hex 32) for local tokens, or JWKS_URL with JWT_ISSUER and JWT_AUDIENCE for an identity provider.',
    });
  if (!config.audit.hmacKey)
    out.push({
      variable: 'AUDIT_HMAC_KEY',
      msg: 'audit chain unkeyed',
      detail: `${UNKEYED_WARNING}; verification then proves order and completeness only against a checkpoint kept elsewhere. Set AUDIT_HMAC_KEY (at least 32 bytes) before the first entry and keep it; NODE_ENV=production refuses to start without it.`,
    });
  if (!config.pseudonymKey)
    out.push({
      variable: 'PSEUDONYM_KEY',
      msg: 'pseudonym key unset',
      detail:
        'PSEUDONYM_KEY is not set: pseudonymised fields are keyed by a random secret per dataset stored in the database itself, so anyone who can read the database (or a backup of it) can recompute the pseudonym of a guessed value, such as a NIK. Set PSEUDONYM_KEY (at least 32 bytes) and keep it outside the database; setting it later changes every pseudonym.',
    });
  if (config.metrics.enabled && !config.metrics.token)
    out.push({
      variable: 'METRICS_TOKEN',
      msg: 'metrics unprotected',
      detail:
        'METRICS_ENABLED=true without METRICS_TOKEN: anyone who reaches the port can read GET /metrics (counts only: no ids, no data). Set METRICS_TOKEN (at least 32 bytes) and give it to Prometheus as authorization.credentials.',
    });
  return out;
}

/** Warns once per unset setting, plainly: called by the Node entry at start-up. */
export function warnUnsetSettings(config: Config, logger: Logger): void {
  for (const s of unsetSettings(config)) logger.warn(s.msg, { detail: s.detail, variable: s.variable });
}
