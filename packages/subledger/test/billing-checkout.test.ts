import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { faultsOf } from 'stripe-emulator';
import { teamCatalog as catalog, completeCheckout, createCatalogPrices } from './support/billing.ts';
import { type Stack, startStack } from './support/stack.ts';

let stack: Stack;
let topUpPrice: string;

before(async () => {
  // No webhook endpoint: what the mirror knows here, billing actions and eager syncs wrote themselves.
  stack = await startStack({ catalog, webhookEndpoint: false });
  await createCatalogPrices(stack.stripe);

  const credits = await stack.stripe.products.create({ name: '100 credits' });
  topUpPrice = (
    await stack.stripe.prices.create({
      product: credits.id,
      currency: 'usd',
      unit_amount: 1000,
      lookup_key: 'credits_100',
    })
  ).id;
});

after(() => stack.close());

const URLS = { success_url: 'https://app.example/welcome', cancel_url: 'https://app.example/pricing' };

const customersOf = async (accountId: string) =>
  (await stack.stripe.customers.list({ limit: 100 })).data.filter(
    (customer) => customer.metadata.subledger_account_id === accountId,
  );

test('50 concurrent checkouts for one account: one customer, one session, one subscription', async () => {
  const answers = await Promise.all(
    Array.from({ length: 50 }, () =>
      stack.client.POST('/v1/checkout', { body: { account_id: 'team_50', plan: 'team', ...URLS } }),
    ),
  );
  assert.ok(
    answers.every((answer) => answer.response.status === 200),
    JSON.stringify(answers[0]?.error),
  );
  const sessions = new Set(answers.map((answer) => answer.data?.session_id));
  assert.equal(sessions.size, 1, 'every caller is sent to the same session');
  assert.equal(answers.filter((answer) => answer.data?.reused === false).length, 1);
  assert.equal((await customersOf('team_50')).length, 1, 'exactly one Stripe customer');
  const sessionId = String(answers[0]?.data?.session_id);
  await completeCheckout(stack, sessionId);
  const customer = answers[0]?.data?.customer_id as string;
  const subscriptions = await stack.stripe.subscriptions.list({ customer });
  assert.equal(subscriptions.data.length, 1);

  // The success page: fresh entitlements although no webhook reached Subledger.
  const synced = await stack.client.POST('/v1/checkout/{session_id}/sync', {
    params: { path: { session_id: sessionId } },
  });
  assert.equal(synced.response.status, 200, JSON.stringify(synced.error));
  assert.deepEqual([synced.data?.entitlements.state, synced.data?.entitlements.plan], ['active', 'team']);
  assert.equal(synced.data?.entitlements.features.members?.allowed, true);

  const again = await stack.client.POST('/v1/checkout', {
    body: { account_id: 'team_50', plan: 'team', ...URLS },
  });
  assert.equal(again.response.status, 409);
  assert.equal(again.error?.error.code, 'subscription_exists');
});

test('a new purchase closes the account’s other open subscription session, so only one can complete', async () => {
  const first = await stack.client.POST('/v1/checkout', {
    body: { account_id: 'team_two', plan: 'team', ...URLS },
  });
  const second = await stack.client.POST('/v1/checkout', {
    body: { account_id: 'team_two', plan: 'team', quantity: 3, ...URLS },
  });
  assert.notEqual(first.data?.session_id, second.data?.session_id);
  const closed = await stack.stripe.checkout.sessions.retrieve(first.data?.session_id as string);
  assert.equal(closed.status, 'expired');
  assert.equal((await customersOf('team_two')).length, 1);
});

test('the same request retried, or the same Idempotency-Key, never acts twice', async () => {
  const body = { account_id: 'team_retry', price: 'team_monthly', ...URLS };
  const first = await stack.client.POST('/v1/checkout', {
    body,
    params: { header: { 'idempotency-key': 'k-1' } },
  });
  const retried = await stack.client.POST('/v1/checkout', {
    body,
    params: { header: { 'idempotency-key': 'k-1' } },
  });
  assert.equal(first.data?.session_id, retried.data?.session_id);
  const sessions = await stack.stripe.checkout.sessions.list({ customer: first.data?.customer_id as string });
  assert.equal(sessions.data.length, 1);
});

test('a customer deleted in Stripe is recreated and linked again', async () => {
  const first = await stack.client.POST('/v1/checkout', {
    body: { account_id: 'team_gone', plan: 'team', ...URLS },
  });
  const deleted = first.data?.customer_id as string;
  await stack.stripe.customers.del(deleted);
  const second = await stack.client.POST('/v1/checkout', {
    body: { account_id: 'team_gone', plan: 'team', quantity: 2, ...URLS },
  });
  assert.equal(second.response.status, 200, JSON.stringify(second.error));
  assert.notEqual(second.data?.customer_id, deleted);
  const [customer] = await customersOf('team_gone');
  assert.equal(customer?.id, second.data?.customer_id);
  const link = await stack.database.pool.query(
    'select customer_id from account_customers where account_id = $1',
    ['team_gone'],
  );
  assert.equal(link.rows[0]?.customer_id, second.data?.customer_id);
});

test('a one-time top-up checks out in payment mode; a price of the wrong kind is refused', async () => {
  const topUp = await stack.client.POST('/v1/checkout', {
    body: { account_id: 'team_topup', price: 'credits_100', mode: 'payment', ...URLS },
  });
  assert.equal(topUp.response.status, 200, JSON.stringify(topUp.error));
  const session = await stack.stripe.checkout.sessions.retrieve(topUp.data?.session_id as string);
  assert.equal(session.mode, 'payment');
  const refusals = [
    [{ price: topUpPrice }, 'price_mode_mismatch', 'price'],
    [{ price: 'team_monthly', mode: 'payment' as const }, 'price_mode_mismatch', 'price'],
    [{ plan: 'enterprise' }, 'price_not_found', 'plan'],
    [{ price: 'no_such_lookup_key' }, 'price_not_found', 'price'],
  ] as const;
  for (const [choice, code, param] of refusals) {
    const answer = await stack.client.POST('/v1/checkout', {
      body: { account_id: 'team_topup', ...choice, ...URLS },
    });
    assert.equal(answer.response.status, 400, code);
    assert.deepEqual([answer.error?.error.code, answer.error?.error.param], [code, param]);
  }
});

test('Stripe down: checkout fails fast with 503 stripe_unavailable, reads still answer from the mirror', async () => {
  faultsOf(stack.emulator.emulator).configure({
    next: {
      api: [
        { fault: '503', count: 20, path: '/v1/customers/*' },
        { fault: '503', count: 20, path: '/v1/customers' },
      ],
    },
  });
  try {
    const started = Date.now();
    const down = await stack.client.POST('/v1/checkout', {
      body: { account_id: 'team_down', plan: 'team', ...URLS },
    });
    assert.equal(down.response.status, 503);
    assert.equal(down.error?.error.code, 'stripe_unavailable');
    assert.doesNotMatch(JSON.stringify(down.error), /sk_test|cus_/);
    assert.ok(Date.now() - started < 10_000, `answered after ${Date.now() - started} ms`);
    const read = await stack.client.GET('/v1/accounts/{account_id}/entitlements', {
      params: { path: { account_id: 'team_50' } },
    });
    assert.equal(read.data?.state, 'active');
  } finally {
    faultsOf(stack.emulator.emulator).reset();
  }
});
