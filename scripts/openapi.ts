/**
 * Writes Jaga's OpenAPI document (the one `GET /openapi.json` serves) to a file or stdout, without
 * a server: the app is booted on an in-memory embedded database, asked once, and closed.
 *   node scripts/openapi.ts [out.json]
 */
import { writeFileSync } from 'node:fs';
import { boot } from '../src/boot.ts';
import { loadConfig } from '../src/config/config.ts';
import { openEmbedded } from '../src/db/embedded.ts';
import { createLogger } from '../src/system/logger.ts';

const out = process.argv[2];
const db = await openEmbedded(undefined, 'openapi');
const booted = await boot({
  // The document does not depend on secrets; a throwaway one lets the app boot.
  config: loadConfig({ LOG_LEVEL: 'silent', JWT_SECRET: 'x'.repeat(32) }),
  db,
  logger: createLogger('silent'),
});
try {
  const res = await booted.app.request('/openapi.json');
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
  const text = JSON.stringify(await res.json(), null, 2) + '\n';
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
} finally {
  await booted.close();
}
