import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type Stripe from 'stripe';
import { teamCatalog as catalog, createCatalogPrices, subscribe } from './support/billing.ts';
import { type Stack, startStack } from './support/stack.ts';

let stack: Stack;
let prices: Record<'team' | 'pro', Stripe.Price>;

before(async () => {
  // No webhook endpoint: every change seen here was written by the action itself.
  stack = await startStack({ catalog, webhookEndpoint: false });
  prices = await createCatalogPrices(stack.stripe);
});

after(() => stack.close());

const path = (account_id: string) => ({ path: { account_id } });

const entitlements = async (accountId: string) =>
  (await stack.client.GET('/v1/accounts/{account_id}/entitlements', { params: path(accountId) })).data;

test('an upgrade takes effect now, prorated and invoiced at once; its preview said so', async () => {
  const subscription = await subscribe(stack, 'team_up', 'team');
  const preview = await stack.client.POST('/v1/accounts/{account_id}/subscription/plan/preview', {
    params: path('team_up'),
    body: { plan: 'pro' },
  });
  assert.equal(preview.response.status, 200, JSON.stringify(preview.error));
  assert.equal(preview.data?.timing, 'now');
  assert.ok(
    Number(preview.data?.amount_due) > 0 && Number(preview.data?.amount_due) <= 3000,
    'the prorated difference',
  );
  const invoicesBefore = (await stack.stripe.invoices.list({ subscription })).data.length;

  const changed = await stack.client.POST('/v1/accounts/{account_id}/subscription/plan', {
    params: path('team_up'),
    body: { plan: 'pro' },
  });
  assert.equal(changed.response.status, 200, JSON.stringify(changed.error));
  assert.deepEqual([changed.data?.timing, changed.data?.price], ['now', prices.pro.id]);
  assert.equal(
    (await stack.stripe.subscriptions.retrieve(subscription)).items.data[0]?.price.id,
    prices.pro.id,
  );
  const invoices = (await stack.stripe.invoices.list({ subscription })).data;
  assert.equal(invoices.length, invoicesBefore + 1, 'the proration is invoiced now');
  assert.equal(invoices[0]?.amount_due, preview.data?.amount_due, 'as previewed');
  const now = await entitlements('team_up');
  assert.deepEqual([now?.plan, now?.features.sso?.allowed], ['pro', true], 'the new plan, at once');

  const same = await stack.client.POST('/v1/accounts/{account_id}/subscription/plan', {
    params: path('team_up'),
    body: { plan: 'pro' },
  });
  assert.equal(same.error?.error.code, 'plan_unchanged');
});

test('a plan change needs a live subscription and a recurring price', async () => {
  const none = await stack.client.POST('/v1/accounts/{account_id}/subscription/plan', {
    params: path('nobody_here'),
    body: { plan: 'pro' },
  });
  assert.deepEqual([none.response.status, none.error?.error.code], [404, 'subscription_not_found']);
  await subscribe(stack, 'team_odd', 'team');
  const unknown = await stack.client.POST('/v1/accounts/{account_id}/subscription/plan/preview', {
    params: path('team_odd'),
    body: { price: 'no_such_price' },
  });
  assert.deepEqual([unknown.response.status, unknown.error?.error.code], [400, 'price_not_found']);
});

test('a downgrade waits for the end of the period, through a subscription schedule', async () => {
  const subscription = await subscribe(stack, 'pro_down', 'pro');
  const preview = await stack.client.POST('/v1/accounts/{account_id}/subscription/plan/preview', {
    params: path('pro_down'),
    body: { plan: 'team' },
  });
  assert.equal(preview.response.status, 200, JSON.stringify(preview.error));
  assert.equal(preview.data?.timing, 'period_end');
  assert.equal(preview.data?.amount_due, 1500, 'the first invoice at the new price');

  const changed = await stack.client.POST('/v1/accounts/{account_id}/subscription/plan', {
    params: path('pro_down'),
    body: { plan: 'team' },
  });
  assert.equal(changed.response.status, 200, JSON.stringify(changed.error));
  assert.deepEqual([changed.data?.timing, changed.data?.price], ['period_end', prices.pro.id], 'still pro');
  assert.equal(changed.data?.effective_at, preview.data?.effective_at);
  const scheduled = await stack.stripe.subscriptions.retrieve(subscription);
  assert.ok(scheduled.schedule, 'a schedule holds the change');
  assert.equal(
    (await entitlements('pro_down'))?.features.sso?.allowed,
    true,
    'paid for until the period ends',
  );

  // The period ends: the renewal is at the new price (the schedule lets go after one period of it).
  const advanced = await fetch(`${stack.emulator.url}/_emulator/time/advance`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ seconds: 32 * 24 * 3600 }),
  });
  assert.equal(advanced.status, 200);
  const renewed = await stack.stripe.subscriptions.retrieve(subscription);
  assert.equal(renewed.items.data[0]?.price.id, prices.team.id);
  const [latest] = (await stack.stripe.invoices.list({ subscription, limit: 1 })).data;
  assert.equal(latest?.amount_due, 1500);
  await stack.client.POST('/v1/accounts/{account_id}/sync', { params: path('pro_down') });
  const after = await entitlements('pro_down');
  assert.deepEqual([after?.plan, after?.features.sso?.allowed], ['team', false]);
});

test('an upgrade while a downgrade waits replaces it', async () => {
  const subscription = await subscribe(stack, 'pro_back', 'pro');
  await stack.client.POST('/v1/accounts/{account_id}/subscription/plan', {
    params: path('pro_back'),
    body: { plan: 'team' },
  });
  const schedule = (await stack.stripe.subscriptions.retrieve(subscription)).schedule;
  assert.ok(schedule);

  const back = await stack.client.POST('/v1/accounts/{account_id}/subscription/plan', {
    params: path('pro_back'),
    body: { plan: 'pro', quantity: 2 },
  });
  assert.equal(back.response.status, 200, JSON.stringify(back.error));
  assert.equal(back.data?.timing, 'now');
  const released = await stack.stripe.subscriptionSchedules.retrieve(String(schedule));

  assert.equal(released.status, 'released');
  const now = await stack.stripe.subscriptions.retrieve(subscription);
  assert.deepEqual(
    [now.items.data[0]?.price.id, now.items.data[0]?.quantity, now.schedule],
    [prices.pro.id, 2, null],
  );
});
