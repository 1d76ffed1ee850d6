import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';
import { freePort } from '../helpers/process.ts';

/** The people of the browser suite, as the identity provider knows them (claims per api-contract.md). */
export const PEOPLE: Record<string, { roles: string[]; unit: string; purposes?: string[] }> = {
  'steward-32': { roles: ['steward'], unit: '32' },
  'ppid-32': { roles: ['ppid'], unit: '32' },
  'auditor-32': { roles: ['auditor'], unit: '32' },
  // A claim Jaga refuses (a role no policy defines): signing in must fail, as a bearer token would.
  'stranger-1': { roles: ['wizard'], unit: '32' },
};

export const CLIENT = { id: 'jaga-console', secret: 'console-secret-console-secret-0123456789' };

/**
 * A real OpenID Connect provider (the `oidc-provider` package) on the loopback, with its
 * development login and consent pages: any password is accepted for the people above.
 */
export async function startOidcProvider(
  redirectUris: string[],
  options: { postLogoutRedirectUris?: string[]; rpInitiatedLogout?: boolean } = {},
): Promise<{ issuer: string; close: () => Promise<void> }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT.id,
        client_secret: CLIENT.secret,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        post_logout_redirect_uris: options.postLogoutRedirectUris ?? [],
      },
    ],
    claims: { openid: ['sub', 'roles', 'unit', 'purposes'] },
    // Jaga reads the principal from the ID token itself, as it reads a bearer token's claims.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    findAccount: (_ctx: unknown, sub: string) => {
      const person = PEOPLE[sub];
      if (!person) return undefined;
      return { accountId: sub, claims: () => ({ sub, ...person }) };
    },
    // RP-initiated logout (end_session_endpoint in discovery) unless a test turns it off.
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: options.rpInitiatedLogout ?? true } },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    cookies: { keys: ['test-cookie-key-test-cookie-key'] },
  });
  provider.on('server_error', (_ctx: unknown, error: unknown) => console.error('oidc-provider', error));
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
