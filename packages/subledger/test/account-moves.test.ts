import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type Stripe from 'stripe';
import { teamMonthlyPrice } from './support/billing-history.ts';
import { type Stack, startStack } from './support/stack.ts';

// A customer changing accounts, end to end: webhooks applied by the workers, access and the timeline
// recorder running as in `subledger start`.
let stack: Stack;
let price: Stripe.Price;
before(async () => {
  stack = await startStack();
  price = await teamMonthlyPrice(stack.stripe);
});
after(() => stack.close());

async function subscribedCustomer(metadata: Record<string, string>) {
  const created = await stack.stripe.customers.create({ payment_method: 'pm_card_visa', metadata });
  const [card] = (await stack.stripe.paymentMethods.list({ customer: created.id })).data;
  await stack.stripe.customers.update(created.id, {
    invoice_settings: { default_payment_method: card?.id ?? '' },
  });
  await stack.stripe.subscriptions.create({ customer: created.id, items: [{ price: price.id }] });
  return created;
}

const stateOf = async (accountId: string) => (await stack.subledger.access.entitlements(accountId)).state;
const transitionsOf = async (accountId: string) =>
  (await stack.subledger.accounts.timeline(accountId)).map((entry) => `${entry.from}->${entry.to}`);

/**
 * Until the newest transition of the account's timeline matches: the recorder runs on change notices,
 * off the request path. What came before (a subscription `incomplete` for a moment, if the recorder
 * looked then) is not asked about.
 */
async function untilNewest(accountId: string, newest: RegExp) {
  const latest = async () => (await transitionsOf(accountId))[0] ?? '';
  for (let attempt = 0; attempt < 50 && !newest.test(await latest()); attempt++) await sleep(100);
  assert.match(await latest(), newest, `the newest transition of ${accountId}`);
}

test('a customer moved to another account in Stripe: the account it left loses access, and its timeline says so', async () => {
  const customer = await subscribedCustomer({ subledger_account_id: 'team_t1' });
  await stack.settle();
  await untilNewest('team_t1', /->active$/);
  await stack.stripe.customers.update(customer.id, { metadata: { subledger_account_id: 'team_t2' } });
  await stack.settle();
  assert.deepEqual([await stateOf('team_t1'), await stateOf('team_t2')], ['none', 'active']);
  await untilNewest('team_t1', /^active->none$/);
  await untilNewest('team_t2', /^none->active$/);
});

test('an account whose newer customer stops naming it falls back on its older one at once, not at the next reconcile', async () => {
  await subscribedCustomer({ subledger_account_id: 'team_f1' });
  await stack.settle();
  await untilNewest('team_f1', /->active$/);
  // A second later, so that the new customer's statement is the newer: the account moves to it, unpaid.
  await sleep(1_100);
  const newer = await stack.stripe.customers.create({ metadata: { subledger_account_id: 'team_f1' } });
  await stack.settle();
  assert.equal(await stateOf('team_f1'), 'none');
  await stack.stripe.customers.update(newer.id, { metadata: { subledger_account_id: '' } });
  await stack.settle();
  assert.equal(await stateOf('team_f1'), 'active');
  await untilNewest('team_f1', /^none->active$/);
});

test('a checkout on an account’s own customer that names another account leaves the customer with its account', async () => {
  const customerId = await stack.subledger.billing.customer('team_c1');
  await stack.settle();
  // A second later (a session of the customer's own second would tie with it): the app's own Checkout
  // on that customer, its client_reference_id naming the buyer.
  await sleep(1_100);
  const session = await stack.stripe.checkout.sessions.create({
    mode: 'subscription',
    customer: customerId,
    client_reference_id: 'user_c9',
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: 'https://app.example.com/welcome',
  });
  const response = await fetch(`${stack.emulator.url}/_emulator/checkout/sessions/${session.id}/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payment_method: 'pm_card_visa' }),
  });
  assert.equal(response.status, 200);
  await stack.settle();
  const { rows } = await stack.database.pool.query<{ account_id: string }>(
    'select account_id from account_customers where customer_id = $1',
    [customerId],
  );
  assert.deepEqual(
    rows.map((row) => row.account_id),
    ['team_c1'],
  );
  assert.equal(await stack.subledger.billing.customer('team_c1'), customerId);
  assert.deepEqual([await stateOf('team_c1'), await stateOf('user_c9')], ['active', 'none']);
});
