import { createMiddleware } from 'hono/factory';
import { csrf } from 'hono/csrf';
import { secureHeaders } from 'hono/secure-headers';
import { DomainError } from '../shared/errors.ts';
import type { ConsoleEnv } from './html.ts';

/**
 * Hono's secure headers with the console's Content-Security-Policy: scripts, styles, images and
 * forms from Jaga itself only, and no inline script or style at all (the pages have none).
 */
export const consoleHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    baseUri: ["'none'"],
    frameAncestors: ["'none'"],
  },
  crossOriginEmbedderPolicy: false,
  referrerPolicy: 'same-origin',
});

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
  const form = await c.req.parseBody();
  const sent = typeof form._csrf === 'string' ? form._csrf : '';
  if (!session || !sameText(sent, session.csrf)) {
    throw new DomainError('FORBIDDEN', 'The form token is missing or not valid (CSRF).');
  }
  await next();
});

function sameText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  if (x.length !== y.length || x.length === 0) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}
