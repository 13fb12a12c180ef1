import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type Stripe from 'stripe';
import { createStripeClient } from '../src/stripe/index.ts';
import { reconcile } from '../src/sync/reconcile.ts';
import { teamMonthlyPrice } from './support/billing-history.ts';
import { type Stack, startStack } from './support/stack.ts';

const PLACE = { stripeAccount: 'platform', livemode: false };

let stack: Stack;
let price: Stripe.Price;
before(async () => {
  stack = await startStack();
  price = await teamMonthlyPrice(stack.stripe);
});
after(() => stack.close());

const reconcileNow = (fix: boolean) =>
  reconcile({
    database: stack.database,
    stripe: createStripeClient({ secretKey: 'sk_test_reconcile', apiBase: stack.emulator.url }),
    context: { accountKeys: [] },
    place: PLACE,
    fix,
    requestsPerSecond: 1000,
    kinds: ['customer', 'checkout.session'],
  });

/** A checkout of the price, completed in the emulator as a buyer would; it makes its own customer. */
async function completedCheckout(accountId: string): Promise<Stripe.Checkout.Session> {
  const session = await stack.stripe.checkout.sessions.create({
    mode: 'subscription',
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: 'https://app.example.com/welcome',
    client_reference_id: accountId,
  });
  const response = await fetch(`${stack.emulator.url}/_emulator/checkout/sessions/${session.id}/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payment_method: 'pm_card_visa' }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { session: Stripe.Checkout.Session }).session;
}

const links = async () =>
  (
    await stack.database.pool.query<{ account_id: string; customer_id: string; source: string }>(
      `select account_id, customer_id, source from account_customers
       where account_id like 'team_relink_%' order by account_id`,
    )
  ).rows;

test('reconcile reports the account links the mirror lost, and --fix makes them again', async () => {
  const byMetadata = await stack.stripe.customers.create({
    metadata: { subledger_account_id: 'team_relink_a' },
  });
  const session = await completedCheckout('team_relink_b');
  await stack.settle();
  const linked = await links();
  assert.deepEqual(linked, [
    { account_id: 'team_relink_a', customer_id: byMetadata.id, source: 'customer_metadata' },
    { account_id: 'team_relink_b', customer_id: String(session.customer), source: 'checkout_session' },
  ]);

  // The objects are all mirrored and equal Stripe's; only the links are gone.
  await stack.database.pool.query("delete from account_customers where account_id like 'team_relink_%'");
  const reported = await reconcileNow(false);
  const linkDrift = reported.drift.filter((item) => item.problem === 'account_link');
  assert.deepEqual(
    linkDrift.map((item) => [item.id, item.fields]).sort(),
    [
      [byMetadata.id, ['team_relink_a']],
      [String(session.customer), ['team_relink_b']],
    ].sort(),
  );
  assert.deepEqual(await links(), [], 'reported only');

  const fixed = await reconcileNow(true);
  assert.ok(fixed.fixed >= 2);
  assert.deepEqual(await links(), linked);
  const again = await reconcileNow(false);
  assert.deepEqual(
    again.drift.filter((item) => item.problem === 'account_link'),
    [],
    'links already there are no drift',
  );
});
