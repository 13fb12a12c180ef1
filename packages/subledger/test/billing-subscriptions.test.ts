import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { teamCatalog as catalog, createCatalogPrices, subscribe } from './support/billing.ts';
import { type Stack, startStack } from './support/stack.ts';

let stack: Stack;

before(async () => {
  // No webhook endpoint: every change seen here was written by the action itself.
  stack = await startStack({ catalog, webhookEndpoint: false });
  await createCatalogPrices(stack.stripe);
});

after(() => stack.close());

const account = (account_id: string) => ({ params: { path: { account_id } } });

test('seats: the quantity changes in Stripe and in the mirror at once; the same quantity is refused', async () => {
  const subscription = await subscribe(stack, 'team_seats', 'team', 2);
  const changed = await stack.client.POST('/v1/accounts/{account_id}/subscription/quantity', {
    ...account('team_seats'),
    body: { quantity: 5 },
  });
  assert.equal(changed.response.status, 200, JSON.stringify(changed.error));
  assert.deepEqual([changed.data?.id, changed.data?.quantity], [subscription, 5]);
  assert.equal((await stack.stripe.subscriptions.retrieve(subscription)).items.data[0]?.quantity, 5);
  const view = await stack.client.GET('/v1/accounts/{account_id}', account('team_seats'));
  assert.equal(view.data?.subscriptions[0]?.items[0]?.quantity, 5);
  const same = await stack.client.POST('/v1/accounts/{account_id}/subscription/quantity', {
    ...account('team_seats'),
    body: { quantity: 5 },
  });
  assert.equal(same.response.status, 409);
  assert.equal(same.error?.error.code, 'plan_unchanged');
});

test('cancel at period end, resume, then cancel now: access follows each step', async () => {
  const subscription = await subscribe(stack, 'team_cancel', 'team', 2);
  const state = async () =>
    (await stack.client.GET('/v1/accounts/{account_id}/entitlements', account('team_cancel'))).data?.state;
  const scheduled = await stack.client.POST('/v1/accounts/{account_id}/subscription/cancel', {
    ...account('team_cancel'),
    body: {},
  });
  assert.equal(scheduled.data?.cancel_at_period_end, true, JSON.stringify(scheduled.error));
  assert.ok(Number(scheduled.data?.cancel_at) > Date.now() / 1000);
  assert.equal(await state(), 'canceled', 'canceled, with access until the period ends');

  const resumed = await stack.client.POST('/v1/accounts/{account_id}/subscription/resume', {
    ...account('team_cancel'),
    body: {},
  });
  assert.equal(resumed.data?.cancel_at_period_end, false);
  assert.equal(await state(), 'active');
  const again = await stack.client.POST('/v1/accounts/{account_id}/subscription/resume', {
    ...account('team_cancel'),
    body: {},
  });
  assert.equal(again.error?.error.code, 'plan_unchanged');

  const ended = await stack.client.POST('/v1/accounts/{account_id}/subscription/cancel', {
    ...account('team_cancel'),
    body: { at_period_end: false },
  });
  assert.equal(ended.data?.status, 'canceled');
  assert.equal((await stack.stripe.subscriptions.retrieve(subscription)).status, 'canceled');
  assert.equal(await state(), 'expired');
  const none = await stack.client.POST('/v1/accounts/{account_id}/subscription/cancel', {
    ...account('team_cancel'),
    body: {},
  });
  assert.deepEqual([none.response.status, none.error?.error.code], [404, 'subscription_not_found']);
});

test('a retried action acts once: the retry finds the change made and changes nothing', async () => {
  const subscription = await subscribe(stack, 'team_retry_seats', 'team', 2);
  const send = () =>
    stack.client.POST('/v1/accounts/{account_id}/subscription/quantity', {
      ...account('team_retry_seats'),
      params: { path: { account_id: 'team_retry_seats' }, header: { 'idempotency-key': 'seats-7' } },
      body: { quantity: 7 },
    });
  const [first, retried] = [await send(), await send()];
  assert.equal(first.data?.quantity, 7);
  assert.equal(retried.response.status, 409, 'the mirror already shows 7 seats');
  assert.equal((await stack.stripe.subscriptions.retrieve(subscription)).items.data[0]?.quantity, 7);
});

test('the billing portal: a URL for the account’s customer', async () => {
  await subscribe(stack, 'team_portal', 'team', 2);
  const portal = await stack.client.POST('/v1/accounts/{account_id}/portal', {
    ...account('team_portal'),
    body: { return_url: 'https://app.example/settings' },
  });
  assert.equal(portal.response.status, 200, JSON.stringify(portal.error));
  assert.match(String(portal.data?.url), /^https?:\/\//);
});
