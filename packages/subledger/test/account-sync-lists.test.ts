import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { syncAccount } from '../src/sync/account-sync.ts';
import { subscribedToManyPrices } from './support/billing-history.ts';
import { type Stack, startStack } from './support/stack.ts';

// Workers are off: what the mirror holds after the eager sync is what the sync wrote. Listed, the
// subscription embeds one page of its items and its invoice one page of its lines, as on Stripe.
let stack: Stack;
before(async () => {
  stack = await startStack({ workers: false });
});
after(() => stack.close());

test('the eager sync reads every item of a listed subscription and every line of a listed invoice', async () => {
  const { subscription } = await subscribedToManyPrices(stack.stripe, 12, {
    subledger_account_id: 'team_many_items',
  });

  const synced = await syncAccount({
    database: stack.database,
    stripe: stack.stripe,
    context: { accountKeys: [] },
    accountId: 'team_many_items',
    place: { stripeAccount: 'platform', livemode: false },
  });
  assert.equal(synced.ok, true);
  const row = async (table: string, id: string) =>
    (await stack.database.pool.query(`select data from ${table} where id = $1`, [id])).rows[0]?.data;
  const mirrored = await row('subscriptions', subscription.id);
  assert.deepEqual([mirrored.items.data.length, mirrored.items.has_more], [12, false]);
  const items = await stack.database.pool.query(
    'select id from subscription_items where subscription_id = $1',
    [subscription.id],
  );
  assert.equal(items.rowCount, 12);
  const invoice = await row('invoices', String(subscription.latest_invoice));
  assert.deepEqual([invoice.lines.data.length, invoice.lines.has_more], [12, false]);
});
