import { parseArgs } from 'node:util';
import * as v from 'valibot';
import { configFromProcess } from '../config/from-process.ts';
import { claimsSchema } from '../identity/claims.schema.ts';
import { mintToken, ttlSeconds } from '../identity/mint.ts';
import { DEFAULT_ROLES } from '../policy/roles.ts';

// `npm run token -- --sub alice --roles steward --unit 32.01 [--purposes a,b] [--kind service] [--ttl 1h]`
// Prints a token signed with JWT_SECRET, for local use and the README walkthrough.
const USAGE =
  'usage: npm run token -- --sub <id> --roles <role,...> --unit <unit code> [--purposes <p,...>] [--kind user|service] [--ttl 1h]';

function fail(message: string): never {
  process.stderr.write(`jaga token: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const list = (s: string | undefined) => (s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean));

let values;
try {
  ({ values } = parseArgs({
    options: {
      sub: { type: 'string' },
      roles: { type: 'string' },
      unit: { type: 'string' },
      purposes: { type: 'string' },
      kind: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}

const config = configFromProcess();
if (!config.jwt.secret) {
  fail('JWT_SECRET is not set: minting needs the shared HS256 secret (at least 32 bytes) the server verifies with.');
}
if (values.sub === undefined) fail('--sub is required');
if (values.roles === undefined) fail('--roles is required (comma-separated; may be empty: --roles "")');
if (values.unit === undefined) fail('--unit is required');
const ttl = ttlSeconds(values.ttl);
if (ttl === null) fail(`--ttl ${JSON.stringify(values.ttl)} is not a duration such as 90s, 15m, 1h or 7d (at most 30d)`);

// The same schema the server applies to a verified token, so a minted token is one the server accepts.
const knownRoles: ReadonlySet<string> = new Set(DEFAULT_ROLES);
const claims = v.safeParse(claimsSchema(() => knownRoles), {
  sub: values.sub,
  roles: list(values.roles),
  unit: values.unit,
  ...(values.purposes === undefined ? {} : { purposes: list(values.purposes) }),
  ...(values.kind === undefined ? {} : { kind: values.kind }),
});
if (!claims.success) {
  const paths = claims.issues.map((i) => v.getDotPath(i) ?? 'claims');
  fail(
    claims.issues.map((i, n) => `${paths[n]}: ${i.message}`).join('; ') +
      (paths.some((p) => p.startsWith('roles')) ? ` (known roles: ${DEFAULT_ROLES.join(', ')})` : ''),
  );
}

const token = await mintToken({
  secret: config.jwt.secret,
  claims: claims.output,
  ttlSeconds: ttl,
  issuer: config.jwt.issuer,
  audience: config.jwt.audience,
});
process.stdout.write(token + '\n');
