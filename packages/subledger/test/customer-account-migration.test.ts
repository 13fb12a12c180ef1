import assert from 'node:assert/strict';
import { test } from 'node:test';
import { migrate } from '../src/store/index.ts';
import { useDatabaseBefore } from './support/migrations.ts';

// The migration that adds `customers.account_id` fills it from the customers the mirror already holds:
// an account that loses its customer falls back on them (`linkAccounts`).

const databaseBefore0016 = useDatabaseBefore(/_customer_account$/);

test('the customer account migration fills the column from each customer’s metadata', async () => {
  const { database, migrateToBefore } = databaseBefore0016();
  const { pool } = database;
  await migrateToBefore();
  const customers = [
    ['cus_named', { subledger_account_id: 'team_m' }, false],
    ['cus_unnamed', { plan: 'pro' }, false],
    ['cus_emptied', { subledger_account_id: '' }, false],
    ['cus_deleted', { subledger_account_id: 'team_d' }, true],
  ] as const;
  for (const [id, metadata, deleted] of customers)
    await pool.query(
      `insert into customers (id, stripe_account, livemode, data, deleted, last_event_created, source)
       values ($1, 'platform', false, $2, $3, 1700000000, 'event')`,
      [id, { id, object: 'customer', metadata }, deleted],
    );

  await migrate(database);

  const { rows } = await pool.query('select id, account_id from customers order by id');
  assert.deepEqual(rows, [
    { id: 'cus_deleted', account_id: 'team_d' },
    { id: 'cus_emptied', account_id: null },
    { id: 'cus_named', account_id: 'team_m' },
    { id: 'cus_unnamed', account_id: null },
  ]);
  const index = await pool.query(
    `select indexdef from pg_indexes where tablename = 'customers' and indexname = 'customers_account_idx'`,
  );
  assert.match(index.rows[0]?.indexdef ?? '', /\(account_id\)/);
});
