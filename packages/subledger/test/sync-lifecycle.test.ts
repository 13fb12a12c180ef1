import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
