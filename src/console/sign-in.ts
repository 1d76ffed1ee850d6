import type { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import * as client from 'openid-client';
import * as v from 'valibot';
import type { Config } from '../config/config.ts';
import { claimsSchema, principalFromClaims, type KnownRoles } from '../identity/claims.schema.ts';
import type { Principal } from '../identity/principal.ts';
import type { TokenVerifier } from '../identity/token-verifier.ts';
import { DomainError } from '../shared/errors.ts';
import type { AuditEntryInput, AuditLog } from '../audit/audit.port.ts';
import type { Logger } from '../system/logger.ts';
import { requestContext } from './guard.ts';
import { h, labelled, render, type ConsoleEnv, type Ctx } from './html.ts';
import { layout } from './layout.ts';
import { randomToken, seal, sealSession, unseal } from './session.ts';

export const SESSION_COOKIE = 'jaga_session';
const FLOW_COOKIE = 'jaga_oidc';
const FLOW_TTL_S = 600;

export interface SignInDeps {
  config: Config['console'];
  identity: TokenVerifier;
  /** Sign-in, refused sign-in and sign-out are audit entries (event `decision`, actions `sign_in` / `sign_out`). */
  audit: AuditLog;
  policyVersion: () => string | null;
  knownRoles: KnownRoles;
  key: Promise<Uint8Array>;
  logger: Logger;
}

/** Plain http is accepted only on the loopback (local use); anywhere else cookies are Secure. */
export function isLocalHttp(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
}

export function cookieOptions(c: Ctx, maxAge: number) {
  return {
    path: '/console',
    httpOnly: true,
    secure: !isLocalHttp(c.req.url),
    sameSite: 'Lax' as const,
    maxAge,
  };
}

/** Only a path inside the console may be returned to after sign-in (no open redirect). */
export function safeNext(next: string | undefined): string {
  return next && /^\/console(\/[A-Za-z0-9._~\-/%?=&+]*)?$/.test(next) && !next.includes('//') ? next : '/console/me';
}

/** The ID token's claims to a principal, exactly as a bearer token's claims are (src/identity/claims.schema.ts). */
export function principalFromIdToken(claims: Record<string, unknown>, knownRoles: KnownRoles): Principal {
  const parsed = v.safeParse(claimsSchema(knownRoles), claims);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw new SignInRefused(`The ID token claim ${v.getDotPath(issue) ?? 'claims'} is not valid: ${issue.message}.`);
  }
  return principalFromClaims(parsed.output);
}

class SignInRefused extends Error {}

/** Discovery on OIDC_ISSUER, once; a failure is retried at the next sign-in rather than kept. */
function discovery(oidc: NonNullable<Config['console']['oidc']>) {
  let found: Promise<client.Configuration> | undefined;
  return () => {
    found ??= client
      .discovery(
        new URL(oidc.issuer),
        oidc.clientId,
        oidc.clientSecret,
        undefined,
        // An http issuer is accepted on the loopback only (a provider run locally or by the tests).
        isLocalHttp(oidc.issuer) ? { execute: [client.allowInsecureRequests], timeout: 10 } : { timeout: 10 },
      )
      .catch((error: unknown) => {
        found = undefined;
        throw error;
      });
    return found;
  };
}

export function signInRoutes(app: Hono<ConsoleEnv>, deps: SignInDeps) {
  const { config } = deps;
  const oidcConfig = config.oidc ? discovery(config.oidc) : undefined;
  // The development sign-in exists only for a shared-secret deployment without an identity provider.
  const development = !config.oidc && deps.identity.mode === 'secret';

  /**
   * Who signed in or out, when, and how (OIDC with the provider's issuer, or the development
   * sign-in); a refused sign-in with its reason. Never a token.
   */
  function entry(
    c: Ctx,
    action: 'sign_in' | 'sign_out',
    who: Pick<Principal, 'sub' | 'kind' | 'roles' | 'unit'> | null,
    effect: 'allow' | 'deny',
    reason: string,
    details: Record<string, string | boolean>,
  ): AuditEntryInput {
    const ctx = requestContext(c);
    return {
      event: 'decision',
      principal: who
        ? { sub: who.sub, kind: who.kind, roles: [...who.roles], unit: who.unit }
        : { sub: null, kind: 'anonymous', roles: [], unit: null },
      action,
      resource: { type: 'ConsoleSession' },
      effect,
      ruleId: null,
      reason,
      policyVersion: deps.policyVersion(),
      requestId: ctx.requestId,
      traceId: ctx.traceId,
      details,
    };
  }
  const how = (via: 'oidc' | 'development'): Record<string, string> =>
    via === 'oidc' && config.oidc ? { via, issuer: config.oidc.issuer } : { via };

  /** A refused sign-in is logged; the refusal stands whether or not the log takes it. */
  async function refused(c: Ctx, via: 'oidc' | 'development', reason: string, sub: string | null = null) {
    const who = sub ? { sub, kind: 'user' as const, roles: [], unit: null } : null;
    await deps.audit.appendDurable(entry(c, 'sign_in', who, 'deny', reason, how(via))).catch((error: unknown) => {
      deps.logger.error('console sign-in refusal not logged', { error });
    });
  }

  async function startSession(c: Ctx, principal: Principal, via: 'oidc' | 'development', idToken?: string) {
    // The sign-in is committed to the audit log before the session exists: no unlogged session (fails closed).
    await deps.audit.appendDurable(entry(c, 'sign_in', principal, 'allow', `signed in (${via})`, how(via)));
    const token = await sealSession(
      await deps.key,
      { principal, csrf: randomToken(), via, ...(idToken ? { idToken } : {}) },
      config.sessionTtlSeconds,
    );
    setCookie(c, SESSION_COOKIE, token, cookieOptions(c, config.sessionTtlSeconds));
  }

  function signInPage(c: Ctx, message?: string, status: 200 | 401 = 200) {
    const t = c.get('t');
    const next = safeNext(c.req.query('next'));
    const reason = c.req.query('reason');
    const info =
      message ??
      (reason === 'expired' ? t.signInPage.expired : reason === 'required' ? t.signInPage.required : undefined);
    return render(
      c,
      layout(
        c,
        t.signInPage.title,
        info ? h('p', { class: status === 401 ? 'error' : 'notice', role: 'status' }, info) : null,
        oidcConfig
          ? h(
              'p',
              null,
              h(
                'a',
                { href: `/console/auth/start?next=${encodeURIComponent(next)}`, class: 'button' },
                t.signInPage.oidc,
              ),
            )
          : null,
        development
          ? h(
              'section',
              { 'aria-labelledby': 'dev' },
              h('h2', { id: 'dev' }, t.signInPage.devTitle),
              h('p', { class: 'dev-banner' }, t.devBanner),
              h('p', null, t.signInPage.devHelp),
              h(
                'form',
                { method: 'post', action: '/console/sign-in/development' },
                h('input', { type: 'hidden', name: 'next', value: next }),
                labelled(
                  'token',
                  t.signInPage.token,
                  h('textarea', { id: 'token', name: 'token', rows: 4, required: true, autocomplete: 'off' }),
                ),
                h('button', { type: 'submit' }, t.signIn),
              ),
            )
          : null,
        !oidcConfig && !development ? h('p', null, t.signInPage.none) : null,
      ),
      status,
    );
  }

  app.get('/console/sign-in', (c) => signInPage(c));

  app.post('/console/sign-in/development', async (c) => {
    if (!development) return c.notFound();
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    let principal: Principal;
    try {
      // The same verifier as the API's bearer tokens: signature, lifetime (JWT_MAX_TTL), claims, roles.
      principal = await deps.identity.verifyAuthorization(`Bearer ${token}`);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      await refused(c, 'development', detail);
      return signInPage(c, `${c.get('t').signInPage.failed}: ${detail}`, 401);
    }
    await startSession(
      c,
      { ...principal, roles: [...principal.roles], purposes: [...principal.purposes] },
      'development',
    );
    return c.redirect(safeNext(typeof form.next === 'string' ? form.next : undefined), 303);
  });

  app.get('/console/auth/start', async (c) => {
    if (!oidcConfig) return c.notFound();
    const oidc = await oidcConfig();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    // Behind a proxy that ends TLS, the request reaches Jaga as http: the provider checks the URI against its registration.
    const redirect = new URL('/console/auth/callback', c.req.url);
    if (c.req.header('x-forwarded-proto') === 'https') redirect.protocol = 'https:';
    const flow = { verifier, state, nonce, redirect: redirect.href, next: safeNext(c.req.query('next')) };
    setCookie(c, FLOW_COOKIE, await seal(await deps.key, 'oidc-flow', flow, FLOW_TTL_S), cookieOptions(c, FLOW_TTL_S));
    const url = client.buildAuthorizationUrl(oidc, {
      redirect_uri: redirect.href,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return c.redirect(url.href, 302);
  });

  app.get('/console/auth/callback', async (c) => {
    if (!oidcConfig) return c.notFound();
    const flow = await unseal(await deps.key, 'oidc-flow', getCookie(c, FLOW_COOKIE));
    deleteCookie(c, FLOW_COOKIE, { path: '/console' });
    if (!flow) {
      await refused(c, 'oidc', 'no sign-in in progress (its cookie is missing or expired)');
      return signInPage(c, c.get('t').signInPage.expired, 401);
    }
    let claimedSub: string | null = null;
    try {
      const oidc = await oidcConfig();
      const current = new URL(c.req.url);
      // The redirect URI registered and sent is what the provider answers to (a proxy may change the host).
      const answer = new URL(String(flow.redirect));
      answer.search = current.search;
      const tokens = await client.authorizationCodeGrant(oidc, answer, {
        pkceCodeVerifier: String(flow.verifier),
        expectedState: String(flow.state),
        expectedNonce: String(flow.nonce),
        idTokenExpected: true,
      });
      const claims = { ...tokens.claims() };
      claimedSub = typeof claims.sub === 'string' ? claims.sub : null;
      const principal = principalFromIdToken(claims, deps.knownRoles);
      await startSession(c, principal, 'oidc', tokens.id_token);
      return c.redirect(safeNext(String(flow.next)), 303);
    } catch (error) {
      deps.logger.warn('console sign-in refused', { error });
      const detail =
        error instanceof SignInRefused ||
        error instanceof client.ResponseBodyError ||
        error instanceof client.AuthorizationResponseError
          ? error.message
          : 'the identity provider’s answer could not be verified';
      // A sign-in the audit log could not take is not a session: the API's own error page says so.
      if (error instanceof DomainError && error.code === 'AUDIT_UNAVAILABLE') throw error;
      await refused(c, 'oidc', detail, claimedSub);
      return signInPage(c, `${c.get('t').signInPage.failed}: ${detail}`, 401);
    }
  });

  /**
   * Sign-out ends the console session; with an identity provider whose discovery names an
   * `end_session_endpoint`, it ends the provider's session too (RP-initiated logout, with the ID
   * token as `id_token_hint` and `/console` as `post_logout_redirect_uri`), else the local one only.
   */
  app.post('/console/sign-out', async (c) => {
    const session = c.get('session');
    deleteCookie(c, SESSION_COOKIE, { path: '/console', secure: !isLocalHttp(c.req.url) });
    if (!session) return c.redirect('/console', 303);
    let endSession: URL | null = null;
    if (session.via === 'oidc' && oidcConfig) {
      try {
        const oidc = await oidcConfig();
        if (oidc.serverMetadata().end_session_endpoint) {
          const back = new URL('/console', c.req.url);
          if (c.req.header('x-forwarded-proto') === 'https') back.protocol = 'https:';
          endSession = client.buildEndSessionUrl(oidc, {
            post_logout_redirect_uri: back.href,
            client_id: oidc.clientMetadata().client_id,
            ...(session.idToken ? { id_token_hint: session.idToken } : {}),
          });
        }
      } catch (error) {
        deps.logger.warn('console sign-out: the identity provider could not be reached; the local session ended', {
          error,
        });
      }
    }
    await deps.audit
      .appendDurable(
        entry(c, 'sign_out', session.principal, 'allow', 'signed out', {
          ...how(session.via),
          providerLogout: endSession !== null,
        }),
      )
      .catch((error: unknown) => deps.logger.error('console sign-out not logged', { error }));
    return c.redirect(endSession?.href ?? '/console', 303);
  });
}
