import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEmbedded } from '../../src/db/embedded.ts';
import { migrate, MigrationError, type MigrationFile } from '../../src/db/migrate.ts';
import { readMigrationFiles } from '../../src/db/migration-files.ts';
import { connectNodePostgres } from '../../src/db/open.ts';
import { databaseKinds, freshDatabase } from '../helpers/databases.ts';

const files: MigrationFile[] = [
  { name: '0001_a.sql', sql: 'create table a (id int primary key);' },
  { name: '0002_b.sql', sql: 'create table b (id int primary key); insert into b values (1);' },
];

describe.each(databaseKinds())('migrations on %s', (kind) => {
  it('applies every shipped migration, then nothing more', async () => {
    const db = await freshDatabase(kind);
    try {
      const shipped = readMigrationFiles();
      expect(await migrate(db.sql, shipped)).toEqual(shipped.map((f) => f.name));
      expect(await migrate(db.sql, shipped)).toEqual([]);
      const rows = await db.sql`select name, checksum from schema_migrations order by name`;
      expect(rows.map((r) => r.name)).toEqual(shipped.map((f) => f.name));
    } finally {
      await db.close();
    }
  });

  it('refuses to go on when an applied file has changed', async () => {
    const db = await freshDatabase(kind);
    try {
      await migrate(db.sql, files);
      const changed = [files[0]!, { ...files[1]!, sql: files[1]!.sql + ' -- edited' }];
      await expect(migrate(db.sql, changed)).rejects.toThrow(MigrationError);
      await expect(migrate(db.sql, changed)).rejects.toThrow(/0002_b\.sql has changed/);
    } finally {
      await db.close();
    }
  });

  it('applies each file in a transaction: a failing file leaves nothing behind', async () => {
    const db = await freshDatabase(kind);
    try {
      const bad = [...files, { name: '0003_bad.sql', sql: 'create table c (id int); select * from no_such_table;' }];
      await expect(migrate(db.sql, bad)).rejects.toThrow();
      const [row] = await db.sql`select to_regclass('c') is not null as exists`;
      expect(row!.exists).toBe(false);
      const applied = await db.sql`select name from schema_migrations order by name`;
      expect(applied.map((r) => r.name)).toEqual(['0001_a.sql', '0002_b.sql']);
    } finally {
      await db.close();
    }
  });
});

describe.runIf(databaseKinds().includes('postgres'))('migrations with concurrent instances on postgres', () => {
  it('runs each file exactly once when several instances migrate at once', async () => {
    const db = await freshDatabase('postgres');
    const others = Array.from({ length: 4 }, () => connectNodePostgres(db.url!, { max: 1 }));
    try {
      const results = await Promise.all([db, ...others].map((d) => migrate(d.sql, files)));
      expect(results.flat().sort()).toEqual(['0001_a.sql', '0002_b.sql']);
      const [row] = await db.sql`select count(*)::int as n from b`;
      expect(row!.n).toBe(1);
    } finally {
      await Promise.all(others.map((o) => o.close()));
      await db.close();
    }
  });
});

describe('embedded database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jaga-embedded-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps its data in JAGA_DATA_DIR across restarts', async () => {
    const first = await openEmbedded(join(dir, 'nested', 'data'));
    await first.sql`create table kept (v text)`;
    await first.sql`insert into kept values ('still here')`;
    await first.close();
    const second = await openEmbedded(join(dir, 'nested', 'data'));
    try {
      expect(await second.sql`select v from kept`).toEqual([{ v: 'still here' }]);
    } finally {
      await second.close();
    }
  });
});
