import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { accessOf, DEFAULT_ACCESS_POLICY, readAccountFacts } from '../src/access/index.ts';
import { createDemoAccounts, DEMO_ACCOUNTS, type DemoAccountId } from '../src/cli/demo-accounts.ts';
import { PLATFORM } from '../src/store/index.ts';
import { type Stack, startStack } from './support/stack.ts';

const place = { stripeAccount: PLATFORM, livemode: false };
let stack: Stack;
let subscriptions: Record<DemoAccountId, string>;
let price: string;

before(async () => {
  stack = await startStack();
  const product = await stack.stripe.products.create({ name: 'Team', metadata: { subledger_plan: 'team' } });
  price = (
    await stack.stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 1500,
      recurring: { interval: 'month' },
      lookup_key: 'team_monthly',
    })
  ).id;
  subscriptions = await createDemoAccounts(stack.stripe, price);
  await stack.settle();
});

after(() => stack.close());

const accountIds = Object.keys(DEMO_ACCOUNTS) as DemoAccountId[];

test('access from the mirror: each demo account, synced by webhooks, is in its state', async () => {
  const facts = await readAccountFacts(stack.database, [...accountIds, 'nobody'], place);
  assert.equal(facts.has('nobody'), false);
  // The past-due account lives on a test clock a month ahead: its grace is counted on that clock.
  const clockNow = (facts.get('demo_past_due')?.subscriptions[0]?.facts.pastDueSince ?? 0) + 60;
  for (const accountId of accountIds) {
    const account = facts.get(accountId);
    assert.ok(account, `${accountId} is linked`);
    const now = accountId === 'demo_past_due' ? clockNow : Math.floor(Date.now() / 1000);
    const access = accessOf(
      account.subscriptions.map((subscription) => subscription.facts),
      now,
    );
    assert.equal(access.state, DEMO_ACCOUNTS[accountId], accountId);
    assert.equal(access.subscriptionId, subscriptions[accountId], accountId);
  }
});

test("access from the mirror: prices are named by id, lookup_key and their product's plan", async () => {
  const facts = await readAccountFacts(stack.database, ['demo_active'], place);
  assert.deepEqual(facts.get('demo_active')?.subscriptions[0]?.prices, [
    { id: price, lookupKey: 'team_monthly', productPlan: 'team' },
  ]);
});

test('access from the mirror: a past-due account loses access when its grace is over', async () => {
  const account = (await readAccountFacts(stack.database, ['demo_past_due'], place)).get('demo_past_due');
  const facts = account?.subscriptions.map((subscription) => subscription.facts) ?? [];
  const since = facts[0]?.pastDueSince;
  assert.ok(since, 'the open renewal invoice dates the fall into past_due');
  const graceEnds = since + DEFAULT_ACCESS_POLICY.graceDays * 86_400;
  assert.equal(accessOf(facts, graceEnds - 1).state, 'past_due');
  assert.equal(accessOf(facts, graceEnds).state, 'restricted');
});

test('access from the mirror: an account is decided by its newest facts after a change in Stripe', async () => {
  await stack.stripe.subscriptions.update(subscriptions.demo_canceling, { cancel_at_period_end: false });
  await stack.settle();
  const account = (await readAccountFacts(stack.database, ['demo_canceling'], place)).get('demo_canceling');
  const facts = account?.subscriptions.map((subscription) => subscription.facts) ?? [];
  assert.equal(accessOf(facts, Math.floor(Date.now() / 1000)).state, 'active');
});
