import type { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import * as client from 'openid-client';
import * as v from 'valibot';
import type { Config } from '../config/config.ts';
import { claimsSchema, principalFromClaims, type KnownRoles } from '../identity/claims.schema.ts';
import type { Principal } from '../identity/principal.ts';
import type { TokenVerifier } from '../identity/token-verifier.ts';
import type { Logger } from '../system/logger.ts';
import { h, labelled, render, type ConsoleEnv, type Ctx } from './html.ts';
import { layout } from './layout.ts';
import { randomToken, seal, sealSession, unseal } from './session.ts';

export const SESSION_COOKIE = 'jaga_session';
const FLOW_COOKIE = 'jaga_oidc';
const FLOW_TTL_S = 600;

export interface SignInDeps {
  config: Config['console'];
  identity: TokenVerifier;
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

  async function startSession(c: Ctx, principal: Principal, via: 'oidc' | 'development') {
    const token = await sealSession(await deps.key, { principal, csrf: randomToken(), via }, config.sessionTtlSeconds);
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
    if (!flow) return signInPage(c, c.get('t').signInPage.expired, 401);
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
      const principal = principalFromIdToken({ ...tokens.claims() }, deps.knownRoles);
      await startSession(c, principal, 'oidc');
      return c.redirect(safeNext(String(flow.next)), 303);
    } catch (error) {
      deps.logger.warn('console sign-in refused', { error });
      const detail =
        error instanceof SignInRefused ||
        error instanceof client.ResponseBodyError ||
        error instanceof client.AuthorizationResponseError
          ? error.message
          : 'the identity provider’s answer could not be verified';
      return signInPage(c, `${c.get('t').signInPage.failed}: ${detail}`, 401);
    }
  });

  app.post('/console/sign-out', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/console', secure: !isLocalHttp(c.req.url) });
    return c.redirect('/console', 303);
  });
}
