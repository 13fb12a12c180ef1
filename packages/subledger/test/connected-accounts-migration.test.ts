import assert from 'node:assert/strict';
import { test } from 'node:test';
import { migrate } from '../src/store/index.ts';
import { useDatabaseBefore } from './support/migrations.ts';

// The migration that adds `connected_accounts`, applied to a database that already holds rows.

const ACCOUNT = 'acct_1MigratedWithRows';

const databaseBefore0015 = useDatabaseBefore(/_connected_accounts$/);

test('the connected_accounts migration applies to a database with rows, and leaves them as they were', async () => {
  const { database, migrateToBefore } = databaseBefore0015();
  await migrateToBefore();
  // Written as a database of that schema holds it: today's writer knows columns added since.
  await database.pool.query(
    `insert into customers (id, stripe_account, livemode, data, last_event_id, last_event_created, source)
     values ('cus_migrated', $1, false, '{"id": "cus_migrated", "object": "customer", "description": "history"}',
       'evt_migrated_customer', 1700000000, 'event')`,
    [ACCOUNT],
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
