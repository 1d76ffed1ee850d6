import type { Config } from './config/config.ts';
import type { Database } from './db/database.ts';
import type { Lifecycle } from './system/lifecycle.ts';
import type { Logger } from './system/logger.ts';
import type { Readiness } from './system/readiness.ts';
import type { Telemetry } from './telemetry/telemetry.ts';

/** What every capability may depend on; built by an entry file (or a test) and passed down. */
export interface CoreDeps {
  config: Config;
  db: Database;
  logger: Logger;
  telemetry: Telemetry;
  readiness: Readiness;
  lifecycle: Lifecycle;
}
