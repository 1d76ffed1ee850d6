import type { RequestContext } from '../catalog/catalog.context.ts';
import type { Principal } from '../identity/principal.ts';
import type { Ctx } from './html.ts';

/** Thrown when a page needs a session: the console's error handler sends the browser to sign in. */
export class SignInRequired extends Error {}

/** The signed-in principal, or the redirect to sign in (a missing or expired session alike). */
export function signedIn(c: Ctx): Principal {
  const session = c.get('session');
  if (!session) throw new SignInRequired();
  return session.principal;
}

/** The request facts audit entries carry, as the API's routes pass them. */
export function requestContext(c: Ctx): RequestContext {
  return { requestId: c.get('requestId'), traceId: c.get('traceId') ?? null };
}

/** A form's text field, trimmed; undefined when absent or empty. */
export function formText(form: Record<string, unknown>, name: string): string | undefined {
  const value = form[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
