import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate as applyMigrations } from 'drizzle-orm/node-postgres/migrator';
import { connect, type Database, migrate } from '../src/store/index.ts';
import { writeMirror } from '../src/sync/mirror-writer.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';

// The migration that adds `connected_accounts`, applied to a database that already holds rows.

const MIGRATIONS = fileURLToPath(new URL('../migrations', import.meta.url));
const ACCOUNT = 'acct_1MigratedWithRows';

let server: TestDatabase;
let database: Database;
let before0015: string;
before(async () => {
  server = await testDatabase();
  const url = new URL(server.url);
  const name = `subledger_migration_${process.pid}`;
  await server.pool.query(`create database ${name}`);
  url.pathname = `/${name}`;
  database = connect(url.toString());
  before0015 = await migrationsBefore(/_connected_accounts$/);
});
after(async () => {
  await database.close();
  await server.drop();
  await rm(before0015, { recursive: true, force: true });
});

/** A copy of the migrations folder whose journal stops before the migration tagged `tag`. */
async function migrationsBefore(tag: RegExp): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), 'subledger-migrations-'));
  await cp(MIGRATIONS, folder, { recursive: true });
  const journalPath = path.join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const stop = journal.entries.findIndex((entry) => tag.test(entry.tag));
  if (stop >= 0) journal.entries = journal.entries.slice(0, stop);
  await writeFile(journalPath, JSON.stringify(journal));
  return folder;
}

test('the connected_accounts migration applies to a database with rows, and leaves them as they were', async () => {
  await applyMigrations(drizzle(database.pool), { migrationsFolder: before0015 });
  await writeMirror(
    database.db,
    [
      {
        kind: 'customer',
        id: 'cus_migrated',
        stripeAccount: ACCOUNT,
        livemode: false,
        object: { id: 'cus_migrated', object: 'customer', description: 'history' },
        deleted: false,
        version: 1_700_000_000,
        eventId: 'evt_migrated_customer',
        source: 'event',
      },
    ],
    { accountKeys: [] },
  );
  await database.pool.query(
    `insert into stripe_events (id, type, livemode, stripe_account, created, object_type, object_id, serial_key,
       payload, status, outcome)
     values ('evt_migrated', 'customer.updated', false, $1, 1700000001, 'customer', 'cus_migrated',
       $1 || '/cus_migrated', '{}', 'processed', 'refetch')`,
    [ACCOUNT],
  );
  await database.pool.query(
    `insert into sync_refetches (object_type, object_id, stripe_account, livemode, serial_key, known_created, reason)
     values ('customer', 'cus_migrated', $1, false, $1 || '/cus_migrated', 1700000001, 'same_second')`,
    [ACCOUNT],
  );
  const snapshot = async () =>
    (
      await database.pool.query(
        `select (select json_agg(c order by id) from (select id, stripe_account, data, synced_at from customers) c) as customers,
                (select json_agg(e order by id) from (select id, status, outcome from stripe_events) e) as events,
                (select json_agg(r) from (select object_id, stripe_account, generation from sync_refetches) r) as refetches`,
      )
    ).rows[0];
  const rowsBefore = await snapshot();
  const table = async () =>
    (await database.pool.query(`select to_regclass('connected_accounts') is not null as present`)).rows[0]
      ?.present;
  assert.equal(await table(), false, 'the database is as it was before the migration');

  await migrate(database);

  assert.equal(await table(), true);
  assert.deepEqual(await snapshot(), rowsBefore, 'the rows are as they were');
  const { rows } = await database.pool.query('select count(*)::int as n from connected_accounts');
  assert.deepEqual(rows, [{ n: 0 }], 'no account is taken as having revoked access');
  await database.pool.query(
    `insert into connected_accounts (stripe_account, livemode, deauthorized_at, event_created, event_id)
     values ($1, false, to_timestamp(1700000002), 1700000002, 'evt_revoked')`,
    [ACCOUNT],
  );
  await assert.rejects(
    database.pool.query(
      `insert into connected_accounts (stripe_account, livemode, event_created, event_id)
       values ('platform', false, 1, 'evt_platform')`,
    ),
    /connected_accounts_not_platform_check/,
  );
});
