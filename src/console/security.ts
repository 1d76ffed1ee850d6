import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { csrf } from 'hono/csrf';
import { secureHeaders } from 'hono/secure-headers';
import { ApiError } from '../http/problem.ts';
import { DomainError } from '../shared/errors.ts';
import type { ConsoleEnv } from './html.ts';

/**
 * Hono's secure headers with the console's Content-Security-Policy: scripts, styles, images and
 * forms from Jaga itself only, and no inline script or style at all (the pages have none).
 * `formTargets`: other origins a form may lead to — the identity provider's, since sign-out
 * redirects there (RP-initiated logout) and browsers hold a form's redirects to `form-action`.
 */
export function consoleHeaders(formTargets: string[] = []) {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      connectSrc: ["'self'"],
      formAction: ["'self'", ...formTargets],
      baseUri: ["'none'"],
      frameAncestors: ["'none'"],
    },
    crossOriginEmbedderPolicy: false,
    referrerPolicy: 'same-origin',
  });
}

/** Refuses a cross-site form post (Origin / Sec-Fetch-Site), before any session is looked at. */
export const sameOriginForms = csrf();

/**
 * The second CSRF defence, on every form that changes something: the form must carry the token
 * sealed in the session (`_csrf`), compared in constant time. A post without it is refused even
 * from the same origin.
 */
export const formToken = createMiddleware<ConsoleEnv>(async (c, next) => {
  if (c.req.method !== 'POST') return next();
  const session = c.get('session');
  let sent: string;
  if (isForm(c.req.header('content-type'))) {
    const form = await c.req.parseBody();
    sent = typeof form._csrf === 'string' ? form._csrf : '';
  } else {
    // A script's request (the CSV upload's streamed body) carries the token in a header, which
    // another site cannot set without a CORS preflight that Jaga never grants.
    sent = c.req.header(CSRF_HEADER) ?? '';
  }
  if (!session || !sameText(sent, session.csrf)) {
    throw new DomainError('FORBIDDEN', 'The form token is missing or not valid (CSRF).');
  }
  await next();
});

export const CSRF_HEADER = 'x-jaga-csrf';

function isForm(type: string | undefined): boolean {
  return /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type ?? '');
}

/**
 * A multipart form is parsed whole in memory (to find its CSRF token), so it is bounded before
 * that, at `max` bytes: by its Content-Length, or by counting when it has none.
 */
export function formSize(max: number) {
  const tooLarge = () => new ApiError('PAYLOAD_TOO_LARGE', `A form upload may be at most ${max} bytes.`);
  const counted = bodyLimit({
    maxSize: max,
    onError: () => {
      throw tooLarge();
    },
  });
  return createMiddleware<ConsoleEnv>(async (c, next) => {
    if (c.req.method !== 'POST' || !/^multipart\/form-data\b/i.test(c.req.header('content-type') ?? '')) return next();
    const length = c.req.header('content-length');
    if (length === undefined) return counted(c, next);
    if (!/^\d+$/.test(length) || Number(length) > max) throw tooLarge();
    return next();
  });
}

function sameText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  if (x.length !== y.length || x.length === 0) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}
