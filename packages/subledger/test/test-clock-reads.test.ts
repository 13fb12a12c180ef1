import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createStripeClient } from '../src/stripe/index.ts';
import { backfill } from '../src/sync/backfill.ts';
import { reconcile } from '../src/sync/reconcile.ts';
import { assertMirrorEqualsStripe } from './support/auditor.ts';
import { completeCheckout, createCatalogPrices, teamCatalog } from './support/billing.ts';
import { type Stack, startStack } from './support/stack.ts';

/**
 * Events of objects on a test clock carry the clock's time. A clock set in the past stays behind
 * Stripe's own clock, so a read versioned by Stripe's clock would outrank every later event of the
 * object, and the mirror would ignore them until the next reconcile. Each way of reading an object
 * from Stripe is checked: after it, the clock's next change still reaches the mirror.
 */

const PLACE = { stripeAccount: 'platform', livemode: false };
const ACCOUNT = 'clocked_account';
const DAY = 86_400;

let stack: Stack;
let clockId: string;
let customerId: string;
let priceId: string;

before(async () => {
  stack = await startStack({ seed: 37, catalog: teamCatalog });
  priceId = (await createCatalogPrices(stack.stripe)).team.id;
  const clock = await stack.stripe.testHelpers.testClocks.create({
    frozen_time: Math.floor(Date.now() / 1000) - 60 * DAY,
  });
  clockId = clock.id;
  customerId = await clockedCustomer(ACCOUNT);
});
after(() => stack.close());

/** A customer on the clock, linked to `accountId` and mirrored. */
async function clockedCustomer(accountId: string): Promise<string> {
  const customer = await stack.stripe.customers.create({
    test_clock: clockId,
    metadata: { subledger_account_id: accountId },
  });
  await stack.settle();
  return customer.id;
}

const stripe = () => createStripeClient({ secretKey: 'sk_test_clock_reads', apiBase: stack.emulator.url });
const context = { accountKeys: ['subledger_account_id'] };

/**
 * A new subscription on the clock, mirrored, whose row then differs from Stripe, so that every reader
 * below rewrites it. Each test has its own, so that one reader's fault cannot fail another's test.
 */
async function driftedSubscription(): Promise<string> {
  const subscription = await stack.stripe.subscriptions.create({
    customer: customerId,
    items: [{ price: priceId }],
    trial_period_days: 14,
  });
  await stack.settle();
  await stack.database.pool.query(
    `update subscriptions set data = jsonb_set(data, '{metadata}', '{"drifted": "yes"}') where id = $1`,
    [subscription.id],
  );
  return subscription.id;
}

async function changeAfterRead(subscriptionId: string, step: string): Promise<void> {
  await stack.stripe.subscriptions.update(subscriptionId, { metadata: { after: step } });
  await stack.settle();
  const { rows } = await stack.database.pool.query<{ after: string | null }>(
    `select data->'metadata'->>'after' as after from subscriptions where id = $1`,
    [subscriptionId],
  );
  assert.equal(rows[0]?.after, step, `the change after the ${step} did not reach the mirror`);
  await assertMirrorEqualsStripe(stack.emulator.emulator, stack.database.pool);
}

describe('reads of objects on a test clock behind Stripe’s clock', () => {
  it('a reconcile’s fix does not hide the next event', async () => {
    const subscriptionId = await driftedSubscription();
    const result = await reconcile({
      database: stack.database,
      stripe: stripe(),
      context,
      place: PLACE,
      fix: true,
      requestsPerSecond: 1000,
    });
    assert.ok(result.fixed >= 1, 'the drifted subscription was fixed');
    await changeAfterRead(subscriptionId, 'reconcile');
  });

  it('a backfill does not hide the next event', async () => {
    const subscriptionId = await driftedSubscription();
    await backfill({
      database: stack.database,
      stripe: stripe(),
      context,
      place: PLACE,
      requestsPerSecond: 1000,
    });
    await changeAfterRead(subscriptionId, 'backfill');
  });

  it('an account sync does not hide the next event', async () => {
    const subscriptionId = await driftedSubscription();
    const synced = await stack.subledger.accounts.sync(ACCOUNT);
    assert.ok(synced.ok, 'the account was read from Stripe');
    await changeAfterRead(subscriptionId, 'account sync');
  });

  it('a checkout session Stripe answered with does not hide its completion', async () => {
    const accountId = 'clocked_checkout';
    await clockedCustomer(accountId);
    const checkout = await stack.client.POST('/v1/checkout', {
      body: {
        account_id: accountId,
        plan: 'team',
        success_url: 'https://app.example/ok',
        cancel_url: 'https://app.example/no',
      },
    });
    assert.equal(checkout.response.status, 200, JSON.stringify(checkout.error));
    const sessionId = String(checkout.data?.session_id);
    await completeCheckout(stack, sessionId);
    await stack.settle();
    const { rows } = await stack.database.pool.query<{ status: string }>(
      `select data->>'status' as status from checkout_sessions where id = $1`,
      [sessionId],
    );
    assert.equal(rows[0]?.status, 'complete', 'the completion did not reach the mirror');
    await assertMirrorEqualsStripe(stack.emulator.emulator, stack.database.pool);
  });

  it('a billing action’s answer does not hide the next event', async () => {
    const accountId = 'clocked_seats';
    const customer = await clockedCustomer(accountId);
    const subscription = await stack.stripe.subscriptions.create({
      customer,
      items: [{ price: priceId }],
      trial_period_days: 14,
    });
    await stack.settle();
    const changed = await stack.client.POST('/v1/accounts/{account_id}/subscription/quantity', {
      params: { path: { account_id: accountId } },
      body: { quantity: 3 },
    });
    assert.equal(changed.response.status, 200, JSON.stringify(changed.error));
    await changeAfterRead(subscription.id, 'seat change');
  });
});
