import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readWriteLog } from './support/apply-audit.ts';
import { assertMirrorEqualsStripe, audit } from './support/auditor.ts';
import { chaosRun } from './support/chaos.ts';

/**
 * The proof's own proof: a mirror tampered with in every way the chaos tests look for (a changed field,
 * a missing or invented row, a wrong deletion, a lowered version, an event written twice) is noticed by
 * the auditor and the write log.
 */

test('the auditor and the write log notice a tampered mirror', async () => {
  await chaosRun({}, 10, async (stack) => {
    const { pool } = stack.database;
    await assertMirrorEqualsStripe(stack.emulator.emulator, pool);
    const one = async (table: string, where = 'true') =>
      String((await pool.query(`select id from ${table} where ${where} order by id limit 1`)).rows[0]?.id);
    const subscription = await one('subscriptions');
    const invoice = await one('invoices', 'not deleted');
    const product = await one('products', 'not deleted');
    const item = await one('subscription_items');
    const summary = await one('active_entitlements');
    const customer = await one('customers', 'not deleted');
    const price = await one('prices', `source = 'event'`);
    await pool.query(
      `update subscriptions set data = jsonb_set(data, '{status}', '"paused"') where id = $1`,
      [subscription],
    );
    await pool.query('delete from invoices where id = $1', [invoice]);
    await pool.query('update products set deleted = true where id = $1', [product]);
    await pool.query('delete from subscription_items where id = $1', [item]);
    await pool.query(`update active_entitlements set data = data - 'customer' where id = $1`, [summary]);
    await pool.query(`insert into customers (id, stripe_account, livemode, data, last_event_created, source)
      values ('cus_invented', 'platform', false, '{}', 1, 'fetch')`);
    await pool.query('update customers set last_event_created = last_event_created - 1 where id = $1', [
      customer,
    ]);
    await pool.query('update prices set synced_at = now() where id = $1', [price]);

    const found = (await audit(stack.emulator.emulator, pool)).map(
      (d) => `${d.kind} ${d.id} ${d.problem} ${d.fields}`,
    );
    for (const expected of [
      `subscription ${subscription} different status:`,
      `invoice ${invoice} missing`,
      `product ${product} wrongly_deleted`,
      `subscription_item ${item} missing`,
      `entitlements.active_entitlement_summary ${summary} different customer:`,
      'customer cus_invented unexpected',
    ])
      assert.ok(
        found.some((line) => line.startsWith(expected)),
        `the auditor missed "${expected}" in:\n${found.join('\n')}`,
      );
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
  });
});
