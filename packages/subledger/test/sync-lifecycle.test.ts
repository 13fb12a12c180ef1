import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Stripe from 'stripe';
import { API_VERSION } from '../src/stripe/index.ts';
import { withAllItems } from '../src/sync/stripe-reads.ts';
import { type Stack, startStack } from './support/stack.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const row = async (table: string, id: string) =>
  (await stack.database.pool.query(`select * from ${table} where id = $1`, [id])).rows[0];

test('a subscription started through the SDK reaches the mirror with its customer, items, invoice and account', async () => {
  const { stripe } = stack;
  const product = await stripe.products.create({ name: 'Pro' });
  const price = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 2000,
    recurring: { interval: 'month' },
    lookup_key: 'pro_monthly',
  });
  const created = await stripe.customers.create({
    email: 'team@example.com',
    payment_method: 'pm_card_visa',
    metadata: { subledger_account_id: 'team_42' },
  });
  const [card] = (await stripe.paymentMethods.list({ customer: created.id })).data;
  const customer = await stripe.customers.update(created.id, {
    invoice_settings: { default_payment_method: card?.id ?? '' },
  });
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id }],
  });
  await stack.settle();

  const mirroredPrice = await row('prices', price.id);
  assert.equal(mirroredPrice.lookup_key, 'pro_monthly');
  assert.equal(mirroredPrice.unit_amount, 2000);

  const current = await stripe.subscriptions.retrieve(subscription.id);
  const mirrored = await row('subscriptions', subscription.id);
  assert.equal(mirrored.status, 'active');
  assert.equal(mirrored.customer_id, customer.id);
  assert.deepEqual(mirrored.data, JSON.parse(JSON.stringify(current)));
  const items = await stack.database.pool.query(
    'select * from subscription_items where subscription_id = $1',
    [subscription.id],
  );
  assert.equal(items.rowCount, 1);
  assert.equal(items.rows[0].price_id, price.id);

  const invoice = await row('invoices', String(current.latest_invoice));
  assert.equal(invoice.status, 'paid');
  assert.equal(invoice.subscription_id, subscription.id);

  const link = await stack.database.pool.query('select * from account_customers where account_id = $1', [
    'team_42',
  ]);
  assert.equal(link.rows[0]?.customer_id, customer.id);
  assert.equal(link.rows[0]?.source, 'customer_metadata');

  const events = await stack.database.pool.query<{ status: string; n: number }>(
    'select status, count(*)::int as n from stripe_events group by status',
  );
  assert.deepEqual(
    events.rows.map((r) => r.status),
    ['processed'],
  );
});

test('an event listing one page of a subscription’s items is settled by a fetch that reads every item', async () => {
  const { stripe } = stack;
  const product = await stripe.products.create({ name: 'Seats and add-ons' });
  const prices = await Promise.all(
    Array.from({ length: 12 }, (_, index) =>
      stripe.prices.create({
        product: product.id,
        currency: 'usd',
        unit_amount: 100 + index,
        recurring: { interval: 'month' },
      }),
    ),
  );
  const customer = await stripe.customers.create({ payment_method: 'pm_card_visa' });
  const [card] = (await stripe.paymentMethods.list({ customer: customer.id })).data;
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: prices.map((price) => ({ price: price.id })),
    default_payment_method: card?.id ?? '',
  });
  await stack.settle();
  const itemCount = async () =>
    (
      await stack.database.pool.query('select id from subscription_items where subscription_id = $1', [
        subscription.id,
      ])
    ).rowCount;
  assert.equal(await itemCount(), 12);

  // As Stripe sends it: the first page of the items, and has_more.
  const current = JSON.parse(JSON.stringify(await stripe.subscriptions.retrieve(subscription.id)));
  current.items = { ...current.items, data: current.items.data.slice(0, 10), has_more: true };
  const event = {
    id: 'evt_items_page_1',
    object: 'event',
    type: 'customer.subscription.updated',
    api_version: API_VERSION,
    created: Math.floor(Date.now() / 1000) + 5,
    livemode: false,
    data: { object: current },
  };
  const payload = JSON.stringify(event);
  const secret = stack.subledger.config.webhookSecrets[0]?.secret as string;
  const response = await fetch(`${stack.url}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret }) },
    body: payload,
  });
  assert.equal(response.status, 200);
  await stack.settle();

  const settled = await stack.database.pool.query('select outcome from stripe_events where id = $1', [
    event.id,
  ]);
  assert.equal(settled.rows[0]?.outcome, 'refetched');
  assert.equal(await itemCount(), 12);
  const mirrored = await row('subscriptions', subscription.id);
  assert.equal(mirrored.data.items.data.length, 12);
  assert.equal(mirrored.data.items.has_more, false);
  // Backfill and reconcile complete listed subscriptions the same way.
  const completed = await withAllItems(stack.stripe, current, {});
  assert.equal(completed.items.data.length, 12);
  assert.equal(completed.items.has_more, false);
});
