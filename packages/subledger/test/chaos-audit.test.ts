import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import { readWriteLog } from './support/apply-audit.ts';
import { assertMirrorEqualsStripe, audit, type Difference } from './support/auditor.ts';
import { chaosRun } from './support/chaos.ts';

/**
 * The proof's own proof: a mirror tampered with in every way the chaos tests look for (a changed field
 * or typed column, a missing or invented row, a wrong deletion, a lost, invented or wrong account link,
 * a lowered version, an event written twice) is noticed by the auditor and the write log.
 */

/** What the auditor must report: kind, id, problem and, when given, the start of one of its fields. */
type Expected = [kind: string, id: string, problem: Difference['problem'], field?: string];

const reported = (differences: Difference[], [kind, id, problem, field]: Expected) =>
  differences.some(
    (d) =>
      d.kind === kind &&
      d.id === id &&
      d.problem === problem &&
      (field === undefined || d.fields.some((found) => found.startsWith(field))),
  );

/** The first id of a table (after `skip` others) that matches `where`. */
async function firstId(pool: pg.Pool, table: string, where = 'true', skip = 0): Promise<string> {
  const { rows } = await pool.query(`select id from ${table} where ${where} order by id limit 1 offset $1`, [
    skip,
  ]);
  assert.ok(rows[0], `no row of ${table} where ${where}`);
  return String(rows[0].id);
}

test('the auditor and the write log notice a tampered mirror', async () => {
  await chaosRun({}, 10, async (stack) => {
    const { pool } = stack.database;
    await assertMirrorEqualsStripe(stack.emulator.emulator, pool);
    const subscription = await firstId(pool, 'subscriptions');
    const invoice = await firstId(pool, 'invoices', 'not deleted');
    const overpaid = await firstId(pool, 'invoices', 'not deleted', 1);
    const product = await firstId(pool, 'products', 'not deleted');
    const item = await firstId(pool, 'subscription_items');
    const otherItem = await firstId(pool, 'subscription_items', 'quantity is not null', 1);
    const summary = await firstId(pool, 'active_entitlements', 'cardinality(feature_lookup_keys) > 0');
    const customer = await firstId(pool, 'customers', 'not deleted');
    const price = await firstId(pool, 'prices', `source = 'event'`);
    const [lost, moved] = (
      await pool.query<{ account_id: string; customer_id: string }>(
        'select account_id, customer_id from account_customers order by account_id limit 2',
      )
    ).rows;
    assert.ok(lost && moved, 'the workload linked fewer than two accounts');

    await pool.query(
      `update subscriptions set data = jsonb_set(data, '{status}', '"paused"') where id = $1`,
      [subscription],
    );
    await pool.query('delete from invoices where id = $1', [invoice]);
    await pool.query('update invoices set amount_paid = amount_paid + 1 where id = $1', [overpaid]);
    await pool.query('update products set deleted = true where id = $1', [product]);
    await pool.query('delete from subscription_items where id = $1', [item]);
    await pool.query('update subscription_items set quantity = quantity + 1 where id = $1', [otherItem]);
    await pool.query(
      `update active_entitlements set data = data - 'customer', feature_lookup_keys = feature_lookup_keys[2:]
       where id = $1`,
      [summary],
    );
    await pool.query(`insert into customers (id, stripe_account, livemode, data, last_event_created, source)
      values ('cus_invented', 'platform', false, '{}', 1, 'fetch')`);
    await pool.query('update customers set last_event_created = last_event_created - 1 where id = $1', [
      customer,
    ]);
    await pool.query('update prices set synced_at = now() where id = $1', [price]);
    await pool.query('delete from account_customers where account_id = $1', [lost.account_id]);
    await pool.query('update account_customers set customer_id = $1 where account_id = $2', [
      lost.customer_id,
      moved.account_id,
    ]);
    await pool.query(`insert into account_customers (account_id, stripe_account, livemode, customer_id, source)
      values ('acct_invented', 'platform', false, 'cus_invented', 'customer_metadata')`);

    const differences = await audit(stack.emulator.emulator, pool);
    const expected: Expected[] = [
      ['subscription', subscription, 'different', 'status:'],
      ['invoice', invoice, 'missing'],
      ['invoice', overpaid, 'different', 'column amount_paid:'],
      ['product', product, 'wrongly_deleted'],
      ['subscription_item', item, 'missing'],
      ['subscription_item', otherItem, 'different', 'column quantity:'],
      ['entitlements.active_entitlement_summary', summary, 'different', 'customer:'],
      ['entitlements.active_entitlement_summary', summary, 'different', 'column feature_lookup_keys'],
      ['customer', 'cus_invented', 'unexpected'],
      ['account_link', lost.account_id, 'missing', `customer_id: ${lost.customer_id}`],
      ['account_link', moved.account_id, 'different', 'customer_id:'],
      ['account_link', 'acct_invented', 'unexpected', 'customer_id: cus_invented'],
    ];
    const lines = differences.map((d) => `${d.kind} ${d.id} ${d.problem} ${d.fields.join(' | ')}`);
    for (const one of expected)
      assert.ok(reported(differences, one), `the auditor missed ${one.join(' ')} in:\n${lines.join('\n')}`);
    const log = await readWriteLog(pool);
    assert.deepEqual(
      log.backwards.map((write) => write.id),
      [customer],
    );
    const priceEvent = (await pool.query('select last_event_id from prices where id = $1', [price])).rows[0];
    assert.ok(
      log.appliedTwice.some((twice) => twice.eventId === priceEvent?.last_event_id),
      `the price's event written twice is not reported: ${JSON.stringify(log.appliedTwice)}`,
    );

    // A typed column the audit does not predict would go unchecked: the audit refuses to run instead.
    await pool.query('alter table invoices add column amount_remaining bigint');
    await assert.rejects(
      audit(stack.emulator.emulator, pool),
      /invoices\.amount_remaining \(no prediction\)/,
    );
  });
});
