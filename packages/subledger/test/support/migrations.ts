import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate as applyMigrations } from 'drizzle-orm/node-postgres/migrator';
import { connect, type Database } from '../../src/store/index.ts';
import { type TestDatabase, testDatabase } from './database.ts';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

/** A database of the test server migrated up to, not including, one migration: to test that migration. */
export type DatabaseBefore = {
  database: Database;
  /** Applies every migration before the one named. */
  migrateToBefore: () => Promise<void>;
  close: () => Promise<void>;
};

/**
 * For a test file of one migration: before its tests, a test server and a database on it that stops
 * before the migration tagged `tag`; after them, both are dropped. Returns the database, once made.
 */
export function useDatabaseBefore(tag: RegExp): () => DatabaseBefore {
  let server: TestDatabase | undefined;
  let made: DatabaseBefore | undefined;
  before(async () => {
    server = await testDatabase();
    made = await databaseBefore(server, tag);
  });
  after(async () => {
    await made?.close();
    await server?.drop();
  });
  return () => {
    if (!made) throw new Error(`the database before ${tag} is made in the file's before hook`);
    return made;
  };
}

async function databaseBefore(server: TestDatabase, tag: RegExp): Promise<DatabaseBefore> {
  const url = new URL(server.url);
  const name = `subledger_migration_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  await server.pool.query(`create database ${name}`);
  url.pathname = `/${name}`;
  const database = connect(url.toString());
  const folder = await migrationsBefore(tag);
  return {
    database,
    migrateToBefore: () => applyMigrations(drizzle(database.pool), { migrationsFolder: folder }),
    close: async () => {
      await database.close();
      await server.pool.query(`drop database if exists ${name} with (force)`);
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** A copy of the migrations folder whose journal stops before the migration tagged `tag`. */
async function migrationsBefore(tag: RegExp): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), 'subledger-migrations-'));
  await cp(MIGRATIONS, folder, { recursive: true });
  const journalPath = path.join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const stop = journal.entries.findIndex((entry) => tag.test(entry.tag));
  if (stop < 0) throw new Error(`no migration is tagged ${tag}`);
  journal.entries = journal.entries.slice(0, stop);
  await writeFile(journalPath, JSON.stringify(journal));
  return folder;
}
