import type { CoreDeps } from './deps.ts';
import { readMigrationFiles } from './db/migration-files.ts';
import { migrationStatus, type MigrationFile } from './db/migrate.ts';
import type { AuditLog } from './audit/audit.port.ts';
import { wireAudit } from './audit/audit.wiring.ts';

/** Every capability's services, built once from the core dependencies. */
export interface Services {
  /** The migrations this build expects applied; null where they are applied ahead of deployment (Workers). */
  migrations: MigrationFile[] | null;
  audit: AuditLog;
}

export type AppDeps = CoreDeps & { services: Services };

/**
 * Wires the capabilities: builds their services and registers their readiness checks and
 * shutdown hooks. The entry files and the tests call this; nothing else constructs services.
 */
export async function wire(core: CoreDeps, options: { migrations?: MigrationFile[] | null } = {}): Promise<AppDeps> {
  const migrations = options.migrations === undefined ? readMigrationFiles() : options.migrations;
  const { sql } = core.db;
  core.readiness.register('database', async () => {
    await sql`select 1`;
    return { ok: true };
  });
  if (migrations) {
    core.readiness.register('migrations', async () => {
      const s = await migrationStatus(sql, migrations);
      return s.current ? { ok: true } : { ok: false, detail: s.problem ?? `pending: ${s.pending.join(', ')}` };
    });
  }
  const audit = await wireAudit(core, { perRequest: migrations === null });
  return { ...core, services: { migrations, audit } };
}
