import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStripeClient } from '../src/stripe/index.ts';
import { reconcile } from '../src/sync/reconcile.ts';
import { subscribedToManyPrices } from './support/billing-history.ts';
import { type Stack, startStack } from './support/stack.ts';

// A customer deleted in Stripe bills no one: an account that a live customer's metadata still names
// goes to that customer, even when the deleted one was newer, on every path that links accounts.

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const linkedTo = async (accountId: string) =>
  (
    await stack.database.pool.query<{ customer_id: string }>(
      'select customer_id from account_customers where account_id = $1',
      [accountId],
    )
  ).rows[0]?.customer_id ?? null;

/**
 * An account paid for by its customer, then named by a newer customer (a duplicate made by hand), which
 * takes it, and which the operator deletes in Stripe.
 */
async function paidThenDuplicated(accountId: string) {
  const { customer: paying, subscription } = await subscribedToManyPrices(stack.stripe, 1, {
    subledger_account_id: accountId,
  });
  await sleep(1_100);
  const duplicate = await stack.stripe.customers.create({ metadata: { subledger_account_id: accountId } });
  await stack.settle();
  assert.equal(await linkedTo(accountId), duplicate.id, 'the newer customer takes the account');
  await stack.stripe.customers.del(duplicate.id);
  return { paying, subscription, duplicate };
}

test('the webhooks give the account back to its live customer once the newer one is deleted; billing agrees', async () => {
  const { paying, subscription } = await paidThenDuplicated('team_dup_webhooks');
  await stack.settle();
  assert.equal(await linkedTo('team_dup_webhooks'), paying.id);
  const view = await stack.subledger.accounts.view('team_dup_webhooks');
  assert.deepEqual(
    [view?.customer?.id, view?.subscriptions.map((each) => [each.id, each.status])],
    [paying.id, [[subscription.id, 'active']]],
  );
  assert.equal(await stack.subledger.billing.customer('team_dup_webhooks'), paying.id);
});

/** The account's link left to the deleted customer, as a rule that let the newer statement win left it. */
async function leftToDeleted(accountId: string) {
  const { paying, duplicate } = await paidThenDuplicated(accountId);
  await stack.settle();
  await stack.database.pool.query(
    `update account_customers set customer_id = $2, source = 'customer_metadata', stated_at = $3
     where account_id = $1`,
    [accountId, duplicate.id, duplicate.created],
  );
  return { paying, duplicate };
}

test('the eager sync of an account left to a deleted customer links the live customer naming it', async () => {
  const { paying } = await leftToDeleted('team_dup_sync');
  const synced = await stack.subledger.accounts.sync('team_dup_sync');
  assert.equal(synced.ok && synced.account.customer?.id, paying.id);
  assert.equal(await linkedTo('team_dup_sync'), paying.id);
});

const reconcileNow = (fix: boolean) =>
  reconcile({
    database: stack.database,
    stripe: createStripeClient({ secretKey: 'sk_test_reconcile', apiBase: stack.emulator.url }),
    context: { accountKeys: [] },
    place: stack.place,
    fix,
    requestsPerSecond: 1000,
    kinds: ['customer'],
  });

test('reconcile reports an account left to a deleted customer, and --fix moves it to the live customer naming it', async () => {
  const { paying, duplicate } = await leftToDeleted('team_dup_reconcile');
  const reported = await reconcileNow(false);
  assert.deepEqual(
    reported.drift.filter((item) => item.problem === 'account_link' && item.id === paying.id),
    [{ kind: 'customer', id: paying.id, problem: 'account_link', fields: ['team_dup_reconcile'] }],
  );
  assert.equal(await linkedTo('team_dup_reconcile'), duplicate.id, 'reported only');
  await reconcileNow(true);
  assert.equal(await linkedTo('team_dup_reconcile'), paying.id);
});
