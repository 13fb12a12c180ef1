import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type Stripe from 'stripe';
import { API_VERSION } from '../src/stripe/index.ts';
import type { StripeObject } from '../src/sync/envelope.ts';
import { withWholeList } from '../src/sync/stripe-reads.ts';
import { subscribedToManyPrices } from './support/billing-history.ts';
import { type Stack, startStack } from './support/stack.ts';
import { webhookClient } from './support/webhook-client.ts';

// Stripe embeds one page (10 rows) of a subscription's items, an invoice's lines and a summary's
// entitlements, in events and answers alike, with `has_more` when there are more. Such an object is
// not whole: it is read from Stripe, every page, and never written as it came.

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const { deliver } = webhookClient(() => stack);

const row = async (table: string, id: string) =>
  (await stack.database.pool.query(`select * from ${table} where id = $1`, [id])).rows[0];

type PagedObject = StripeObject & Record<string, { data: unknown[]; has_more: boolean }>;

/** The object as Stripe sends one with more rows than a page: its first 10, and `has_more`. */
function firstPageOf(object: object, list: string): PagedObject {
  const whole = JSON.parse(JSON.stringify(object));
  whole[list] = { ...whole[list], data: whole[list].data.slice(0, 10), has_more: true };
  return whole;
}

/** Delivers an event of `object`, a few seconds newer than the mirror's, and waits until it is settled. */
async function deliverSettled(type: string, object: object): Promise<string | undefined> {
  const id = `evt_page_${type.replaceAll('.', '_')}`;
  const created = Math.floor(Date.now() / 1000) + 5;
  const event = { id, object: 'event', type, api_version: API_VERSION, created, livemode: false };
  assert.equal((await deliver({ ...event, data: { object } })).status, 200);
  await stack.settle();
  return (await stack.database.pool.query('select outcome from stripe_events where id = $1', [id])).rows[0]
    ?.outcome;
}

/** A customer subscribed to twelve prices, mirrored: more items and lines than Stripe embeds. */
async function subscribedToTwelvePrices() {
  const subscribed = await subscribedToManyPrices(stack.stripe, 12);
  await stack.settle();
  return subscribed;
}

test('an event listing one page of a subscription’s items is settled by a fetch that reads every item', async () => {
  const { subscription } = await subscribedToTwelvePrices();
  const itemCount = async () =>
    (
      await stack.database.pool.query('select id from subscription_items where subscription_id = $1', [
        subscription.id,
      ])
    ).rowCount;
  assert.equal(await itemCount(), 12);

  const current = firstPageOf(await stack.stripe.subscriptions.retrieve(subscription.id), 'items');
  assert.equal(await deliverSettled('customer.subscription.updated', current), 'refetched');
  assert.equal(await itemCount(), 12);
  const mirrored = await row('subscriptions', subscription.id);
  assert.equal(mirrored.data.items.data.length, 12);
  assert.equal(mirrored.data.items.has_more, false);
  // Backfill and reconcile complete listed subscriptions the same way.
  const completed = await withWholeList(stack.stripe, 'subscription', current, {});
  assert.equal(completed.items?.data.length, 12);
  assert.equal(completed.items?.has_more, false);
});

test('an event listing one page of an invoice’s lines is settled by a fetch that reads every line', async () => {
  const { subscription } = await subscribedToTwelvePrices();
  const invoiceId = String(subscription.latest_invoice);
  assert.equal((await row('invoices', invoiceId)).data.lines.data.length, 12);

  const current = firstPageOf(await stack.stripe.invoices.retrieve(invoiceId), 'lines');
  assert.equal(await deliverSettled('invoice.updated', current), 'refetched');
  const mirrored = await row('invoices', invoiceId);
  assert.deepEqual(
    mirrored.data.lines.data.map((line: Stripe.InvoiceLineItem) => line.id).sort(),
    (await stack.stripe.invoices.listLineItems(invoiceId, { limit: 100 })).data.map((line) => line.id).sort(),
    'every line, the 11th and 12th too: credits are granted from them',
  );
  assert.equal(mirrored.data.lines.has_more, false);
  const completed = await withWholeList(stack.stripe, 'invoice', current, {});
  assert.equal(completed.lines?.data.length, 12);
  assert.equal(completed.lines?.has_more, false);
});

test('an entitlement summary listing one page of entitlements is settled by reading every page', async () => {
  const { stripe } = stack;
  const product = await stripe.products.create({ name: 'Everything' });
  const features = await Promise.all(
    Array.from({ length: 12 }, (_, index) =>
      stripe.entitlements.features.create({ name: `Feature ${index}`, lookup_key: `feature_${index}` }),
    ),
  );
  for (const feature of features)
    await stripe.products.createFeature(product.id, { entitlement_feature: feature.id });
  const price = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 900,
    recurring: { interval: 'month' },
  });
  const customer = await stripe.customers.create({ payment_method: 'pm_card_visa' });
  const [card] = (await stripe.paymentMethods.list({ customer: customer.id })).data;
  await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id }],
    default_payment_method: card?.id ?? '',
  });
  await stack.settle();
  const keys = async () =>
    ((await row('active_entitlements', customer.id))?.feature_lookup_keys ?? []).length;
  assert.equal(await keys(), 12);

  const summary = (await row('active_entitlements', customer.id)).data;
  const outcome = await deliverSettled(
    'entitlements.active_entitlement_summary.updated',
    firstPageOf(summary, 'entitlements'),
  );
  assert.equal(outcome, 'refetched');
  assert.equal(await keys(), 12, 'features 11 and 12 are still the customer’s');
  assert.equal((await row('active_entitlements', customer.id)).data.entitlements.has_more, false);
});
