import assert from 'node:assert/strict';
import { test } from 'node:test';
import { migrate } from '../src/store/index.ts';
import { useDatabaseBefore } from './support/migrations.ts';

// Links stored before `stated_at` existed hold 0: any statement wins over them, and an eager sync of
// their account reads checkout sessions from the first. The migration gives each the time of the
// statement that made it, as far as the mirror holds it.

const databaseBefore0017 = useDatabaseBefore(/_link_statement_times$/);

const mirrorRow = (table: string, columns: Record<string, unknown>) => {
  const names = ['stripe_account', 'livemode', 'last_event_created', 'source', ...Object.keys(columns)];
  const values = ['platform', false, 1700000000, 'event', ...Object.values(columns)];
  return {
    text: `insert into ${table} (${names.join(', ')}) values (${names.map((_, i) => `$${i + 1}`).join(', ')})`,
    values,
  };
};

const customer = (id: string, created: unknown, accountId: string | null) =>
  mirrorRow('customers', { id, account_id: accountId, data: { id, object: 'customer', created } });

const session = (id: string, customerId: string, accountId: string, created: number, status: string) =>
  mirrorRow('checkout_sessions', {
    id,
    customer_id: customerId,
    account_id: accountId,
    status,
    data: { id, object: 'checkout.session', created, customer: customerId, status },
  });

const link = (accountId: string, customerId: string, source: string, statedAt: number) => ({
  text: `insert into account_customers (account_id, stripe_account, livemode, customer_id, source, stated_at)
         values ($1, 'platform', false, $2, $3, $4)`,
  values: [accountId, customerId, source, statedAt],
});

test('the link statement times migration dates each old link by the statement the mirror holds', async () => {
  const { database, migrateToBefore } = databaseBefore0017();
  const { pool } = database;
  await migrateToBefore();
  const rows = [
    customer('cus_meta', 1_700_000_100, 'team_meta'),
    link('team_meta', 'cus_meta', 'customer_metadata', 0),
    // The newest completed session on the linked customer made the link; an open one, a newer one on
    // another customer, and one naming another account did not.
    customer('cus_buyer', 1_700_000_200, null),
    session('cs_old', 'cus_buyer', 'team_buy', 1_700_000_300, 'complete'),
    session('cs_new', 'cus_buyer', 'team_buy', 1_700_000_400, 'complete'),
    session('cs_open', 'cus_buyer', 'team_buy', 1_700_000_900, 'open'),
    session('cs_other_customer', 'cus_other', 'team_buy', 1_700_000_800, 'complete'),
    session('cs_other_account', 'cus_buyer', 'team_else', 1_700_000_700, 'complete'),
    link('team_buy', 'cus_buyer', 'checkout_session', 0),
    // Already dated: kept.
    customer('cus_dated', 1_700_000_500, 'team_dated'),
    link('team_dated', 'cus_dated', 'customer_metadata', 1_600_000_000),
    // Nothing in the mirror states these: they keep 0.
    link('team_gone', 'cus_gone', 'customer_metadata', 0),
    customer('cus_undated', 'not a number', 'team_undated'),
    link('team_undated', 'cus_undated', 'customer_metadata', 0),
    link('team_no_session', 'cus_meta_only', 'checkout_session', 0),
    customer('cus_meta_only', 1_700_000_600, null),
  ];
  for (const row of rows) await pool.query(row);

  await migrate(database);

  const { rows: links } = await pool.query<{ account_id: string; stated_at: string }>(
    'select account_id, stated_at from account_customers order by account_id',
  );
  assert.deepEqual(
    links.map((row) => [row.account_id, Number(row.stated_at)]),
    [
      ['team_buy', 1_700_000_400],
      ['team_dated', 1_600_000_000],
      ['team_gone', 0],
      ['team_meta', 1_700_000_100],
      ['team_no_session', 0],
      ['team_undated', 0],
    ],
  );
});
