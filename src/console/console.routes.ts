import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { Config } from '../config/config.ts';
import { toApiError } from '../http/on-error.ts';
import { ERRORS } from '../http/problem.ts';
import type { Logger } from '../system/logger.ts';
import { CONSOLE_ASSETS } from './assets.ts';
import { h, render, type ConsoleEnv, type ConsoleServices, type Ctx } from './html.ts';
import { MESSAGES, pickLang } from './i18n.ts';
import { layout } from './layout.ts';
import { auditorPages } from './pages/auditor.ts';
import { mePages } from './pages/me.ts';
import { playgroundPages } from './pages/playground.ts';
import { ppidPages } from './pages/ppid.ts';
import { publicPages } from './pages/public.ts';
import { stewardPages } from './pages/steward.ts';
import { detectionPages } from './pages/detection.ts';
import { FORM_UPLOAD_MAX_BYTES, uploadPages } from './pages/upload.ts';
import { SignInRequired } from './guard.ts';
import { consoleHeaders, formSize, formToken, sameOriginForms } from './security.ts';
import { openSession, sessionKey } from './session.ts';
import { SESSION_COOKIE, signInRoutes } from './sign-in.ts';

export type { ConsoleServices };

export interface ConsoleDeps {
  services: ConsoleServices;
  config: Config['console'];
  logger: Logger;
  /** RECORDS_UPLOAD_MAX_BYTES: the CSV upload's bound, as the API's. */
  uploadMaxBytes: number;
}

/**
 * The console (`/console/…`): server-rendered pages in Bahasa Indonesia and English. Built as an
 * app of its own, forwarded to by the API app, so its HTML pages stay out of the OpenAPI document.
 */
export function consoleApp(deps: ConsoleDeps) {
  const { services, config } = deps;
  const key = sessionKey(config.sessionSecret);
  if (!config.sessionSecret) {
    deps.logger.info('console sessions use a key made at start (SESSION_SECRET unset): they end at restart');
  }
  const knownRoles = () => services.policy.current().roles;
  const app = new Hono<ConsoleEnv>();

  app.use('*', consoleHeaders(config.oidc ? [new URL(config.oidc.issuer).origin] : []));
  app.use('*', async (c, next) => {
    c.set('requestId', c.env?.requestId ?? crypto.randomUUID());
    c.set('traceId', c.env?.traceId);
    const lang = pickLang(getCookie(c, 'jaga_lang'), c.req.header('accept-language'));
    c.set('lang', lang);
    c.set('t', MESSAGES[lang]);
    const session = await openSession(await key, getCookie(c, SESSION_COOKIE));
    // A role the policy set in force no longer defines ends the session, as it would refuse a token.
    const roles = knownRoles();
    const valid = session && session.principal.roles.every((r) => roles.has(r)) ? session : null;
    c.set('session', valid);
    // Personal pages are never cached by a browser or proxy.
    if (valid) c.header('cache-control', 'no-store');
    await next();
  });
  // Every form post must come from the console's own origin; once signed in, it must also carry the session's token.
  app.use('*', sameOriginForms);
  app.use('*', formSize(Math.min(FORM_UPLOAD_MAX_BYTES, deps.uploadMaxBytes)));
  app.use('*', async (c, next) => (c.req.path === '/console/sign-in/development' ? next() : formToken(c, next)));

  app.get('/console/assets/:name', async (c) => {
    const name = c.req.param('name');
    const asset = Object.hasOwn(CONSOLE_ASSETS, name) ? CONSOLE_ASSETS[name] : undefined;
    const body = asset ? await asset.body() : undefined;
    if (!asset || body === undefined) return c.notFound();
    return c.body(body as never, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=3600' });
  });

  app.get('/console/lang/:lang', (c) => {
    const lang = c.req.param('lang') === 'en' ? 'en' : 'id';
    setCookie(c, 'jaga_lang', lang, { path: '/console', sameSite: 'Lax', maxAge: 365 * 86400 });
    const back = c.req.query('back') ?? '/console';
    return c.redirect(/^\/console(\/[A-Za-z0-9._~\-/]*)?$/.test(back) ? back : '/console', 303);
  });

  signInRoutes(app, {
    config,
    identity: services.identity,
    audit: services.audit,
    policyVersion: () => services.policy.current().set.version,
    knownRoles,
    key,
    logger: deps.logger,
  });
  publicPages(app, services);
  mePages(app, services);
  stewardPages(app, services);
  detectionPages(app, services);
  uploadPages(app, services, deps.uploadMaxBytes);
  ppidPages(app, services);
  auditorPages(app, services);
  playgroundPages(app, services);

  app.notFound((c) => errorPage(c, 404, c.get('t').errors.notFound));
  app.onError((error, c) => {
    const ctx = c as unknown as Ctx;
    if (error instanceof SignInRequired) {
      const expired = getCookie(c, SESSION_COOKIE) !== undefined;
      const next = encodeURIComponent(c.req.path + (new URL(c.req.url).search || ''));
      return c.redirect(`/console/sign-in?reason=${expired ? 'expired' : 'required'}&next=${next}`, 303);
    }
    const { apiError, unexpected } = toApiError(error);
    if (unexpected) deps.logger.error('console request failed', { error, requestId: c.get('requestId') });
    const status = ERRORS[apiError.code].status;
    const t = ctx.get('t') ?? MESSAGES.id;
    const message =
      apiError.code === 'FORBIDDEN' && /CSRF/.test(apiError.message)
        ? t.errors.csrf
        : apiError.code === 'NOT_FOUND'
          ? t.errors.notFound
          : apiError.code === 'FORBIDDEN'
            ? t.errors.forbidden
            : apiError.message;
    return errorPage(ctx, status, message, apiError.code, apiError.errors);
  });
  return app;
}

function errorPage(
  c: Ctx,
  status: number,
  message: string,
  code?: string,
  errors?: { path: string; message: string }[],
) {
  const t = c.get('t') ?? MESSAGES.id;
  if (!c.get('t')) {
    c.set('t', t);
    c.set('lang', 'id');
  }
  return render(
    c,
    layout(
      c,
      t.errors.title,
      h('p', { class: 'error', role: 'alert' }, message),
      errors?.length ? h('ul', null, ...errors.map((e) => h('li', null, `${e.path}: ${e.message}`))) : null,
      code ? h('p', { class: 'gloss' }, `${code} · ${c.get('requestId') ?? ''}`) : null,
    ),
    (status === 400 ||
    status === 401 ||
    status === 403 ||
    status === 404 ||
    status === 409 ||
    status === 413 ||
    status === 422
      ? status
      : 400) as 400,
  ).then((r) => (status >= 500 ? new Response(r.body, { status, headers: r.headers }) : r));
}
