import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createServer } from 'node:http';
import { loadConfig } from '../src/config/config.ts';
import { createTokenVerifier } from '../src/identity/token-verifier.ts';
import { DEFAULT_ROLES } from '../src/policy/roles.ts';

// `node bench/identity.bench.ts`: the cost of turning an Authorization header into a principal
// (parse + verify + claims validation), per algorithm, with the JWKS already cached.
const roles: ReadonlySet<string> = new Set(DEFAULT_ROLES);
const claims = { roles: ['steward'], unit: '32.01', purposes: ['pengawasan'] };
const N = 20_000;

async function measure(name: string, verify: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 500; i++) await verify();
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await verify();
  const us = Number(process.hrtime.bigint() - start) / 1000 / N;
  process.stdout.write(
    `${name.padEnd(8)} ${us.toFixed(1).padStart(7)} µs/verify  ${Math.round(1e6 / us)
      .toLocaleString('en')
      .padStart(8)} verifies/s\n`,
  );
}

const secret = 'bench-secret-bench-secret-bench-secret-01';
const hs = createTokenVerifier(loadConfig({ JWT_SECRET: secret }).jwt, { knownRoles: () => roles });
const hsToken = await new SignJWT(claims)
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject('alice')
  .setExpirationTime('1h')
  .sign(new TextEncoder().encode(secret));
await measure('HS256', () => hs.verifyAuthorization(`Bearer ${hsToken}`));

const keys = await Promise.all(
  (['RS256', 'ES256', 'EdDSA'] as const).map(async (alg) => ({
    alg,
    ...(await generateKeyPair(alg, { extractable: true })),
  })),
);
const jwks = {
  keys: await Promise.all(keys.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.alg, alg: k.alg }))),
};
const server = createServer((_req, res) => res.end(JSON.stringify(jwks)));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
const jw = createTokenVerifier(
  loadConfig({ JWKS_URL: `http://127.0.0.1:${port}/jwks`, JWT_ISSUER: 'https://idp', JWT_AUDIENCE: 'jaga' }).jwt,
  { knownRoles: () => roles },
);
for (const k of keys) {
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: k.alg, kid: k.alg })
    .setSubject('alice')
    .setIssuer('https://idp')
    .setAudience('jaga')
    .setExpirationTime('1h')
    .sign(k.privateKey);
  await measure(k.alg, () => jw.verifyAuthorization(`Bearer ${token}`));
}
server.close();
