import { parseArgs } from 'node:util';
import * as v from 'valibot';
import { configFromProcess } from '../config/from-process.ts';
import { claimsSchema } from '../identity/claims.schema.ts';
import { durationSeconds, formatDuration } from '../config/duration.ts';
import { DEFAULT_TTL_SECONDS, mintToken } from '../identity/mint.ts';
import { DEFAULT_ROLES } from '../policy/roles.ts';

// `npm run token -- --sub alice --roles steward --unit 32.01 [--purposes a,b] [--kind service] [--ttl 1h]`
// Prints a token signed with JWT_SECRET, for local use and the README walkthrough. Its lifetime is
// at most JWT_MAX_TTL, read like the server reads it, so a minted token is never refused as too long.
const USAGE =
  'usage: npm run token -- --sub <id> --roles <role,...> --unit <unit code> [--purposes <p,...>] [--kind user|service] [--ttl <duration, default 1h, at most JWT_MAX_TTL>]';

function fail(message: string): never {
  process.stderr.write(`jaga token: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const list = (s: string | undefined) =>
  s === undefined
    ? undefined
    : s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);

let values;
try {
  ({ values } = parseArgs({
    options: {
      sub: { type: 'string' },
      roles: { type: 'string' },
      unit: { type: 'string' },
      purposes: { type: 'string' },
      kind: { type: 'string' },
      ttl: { type: 'string' },
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
const maxTtl = config.jwt.maxTtlSeconds;
let ttl = Math.min(DEFAULT_TTL_SECONDS, maxTtl);
if (values.ttl !== undefined) {
  const asked = durationSeconds(values.ttl);
  if (asked === null) fail(`--ttl ${JSON.stringify(values.ttl)} is not a duration such as 90s, 15m, 1h or 7d`);
  if (asked > maxTtl) {
    fail(
      `--ttl ${values.ttl} is longer than the server accepts: JWT_MAX_TTL is ${formatDuration(maxTtl)} (raise JWT_MAX_TTL for the server and here, or ask for less)`,
    );
  }
  ttl = asked;
}

// The same schema the server applies to a verified token, so a minted token is one the server accepts.
const knownRoles: ReadonlySet<string> = new Set(DEFAULT_ROLES);
const claims = v.safeParse(
  claimsSchema(() => knownRoles),
  {
    sub: values.sub,
    roles: list(values.roles),
    unit: values.unit,
    ...(values.purposes === undefined ? {} : { purposes: list(values.purposes) }),
    ...(values.kind === undefined ? {} : { kind: values.kind }),
  },
);
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
