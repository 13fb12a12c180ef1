import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Stripe from 'stripe';
import { startEmulator } from 'stripe-emulator';
import { customerWithCard } from '../src/cli/demo-accounts.ts';
import { createStripeClient } from '../src/stripe/index.ts';
import { createLimiter } from '../src/sync/limiter.ts';
import { retrieveListed } from '../src/sync/listing.ts';
import { retrieveObject } from '../src/sync/stripe-reads.ts';

const items = (count: number) => Array.from({ length: count }, (_, index) => ({ id: `si_${index}` }));

/** A Stripe client that knows one subscription of 12 items, embedding the first 10 as Stripe does. */
function stripeWithTwelveItems() {
  const listed: unknown[] = [];
  const subscription = {
    id: 'sub_12',
    object: 'subscription',
    items: {
      object: 'list',
      data: items(10),
      has_more: true,
      url: '/v1/subscription_items?subscription=sub_12',
    },
  };
  Object.defineProperty(subscription, 'lastResponse', {
    enumerable: false,
    value: { headers: { date: 'Sat, 21 Nov 2026 10:00:00 GMT' } },
  });
  const stripe = {
    subscriptions: { retrieve: async () => subscription },
    subscriptionItems: {
      list: (params: unknown) => {
        listed.push(params);
        return { autoPagingToArray: async () => items(12) };
      },
    },
  } as unknown as Stripe;
  return { stripe, listed };
}

test('a subscription read from Stripe comes with every item and the time of the read', async () => {
  const { stripe, listed } = stripeWithTwelveItems();
  const fetched = await retrieveObject(stripe, 'subscription', 'sub_12', {
    stripeAccount: 'platform',
    livemode: false,
  });
  const list = fetched.object?.items as { data: unknown[]; has_more: boolean };
  assert.equal(list.data.length, 12);
  assert.equal(list.has_more, false);
  assert.deepEqual(listed, [{ subscription: 'sub_12', limit: 100 }]);
  assert.equal(fetched.asOf, Date.parse('2026-11-21T10:00:00Z') / 1000);
  assert.equal('lastResponse' in (fetched.object ?? {}), false);
});

test('a live customer’s entitlement summary says live mode, even with no entitlement to take it from', async () => {
  const emulator = await startEmulator({ port: 0, seed: 1 });
  try {
    const stripe = createStripeClient({ secretKey: 'sk_live_stripe_reads', apiBase: emulator.url });
    const customer = await stripe.customers.create({ email: 'live@example.test' });
    const place = { stripeAccount: 'platform', livemode: true };
    const kind = 'entitlements.active_entitlement_summary';
    // A refetch or an account sync reads it so; reconcile compares it with the listed read.
    const refetched = await retrieveObject(stripe, kind, customer.id, place);
    const listed = await retrieveListed(stripe, kind, customer.id, place, createLimiter(100));
    assert.equal(refetched.object?.livemode, true);
    assert.equal(listed.object?.livemode, true);
  } finally {
    await emulator.close();
  }
});

test('an entitlement that ends between two pages of a summary makes the read start over, not a tombstone', async () => {
  const emulator = await startEmulator({ port: 0, seed: 2 });
  try {
    const stripe = createStripeClient({ secretKey: 'sk_test_stripe_reads', apiBase: emulator.url });
    const product = await stripe.products.create({ name: 'Everything' });
    const productFeatures = new Map<string, string>();
    for (let index = 0; index < 101; index++) {
      const feature = await stripe.entitlements.features.create({
        name: `Feature ${index}`,
        lookup_key: `feature_${index}`,
      });
      const attached = await stripe.products.createFeature(product.id, { entitlement_feature: feature.id });
      productFeatures.set(feature.id, attached.id);
    }
    const price = await stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 100,
      recurring: { interval: 'month' },
    });
    const customer = await customerWithCard(stripe, 'acct_pages', 'pm_card_visa');
    await stripe.subscriptions.create({ customer, items: [{ price: price.id }] });

    let calls = 0;
    let ended: string | undefined;
    // Before the second page is read, the entitlement the first page ended on ends.
    const limiter = async <T>(call: () => Promise<T>): Promise<T> => {
      calls++;
      if (calls === 2 && ended)
        await stripe.products.deleteFeature(product.id, productFeatures.get(ended) ?? '');
      const page = await call();
      if (calls === 1) ended = String((page as { data: { feature: string }[] }).data.at(-1)?.feature);
      return page;
    };
    const place = { stripeAccount: 'platform', livemode: false };
    const read = await retrieveListed(
      stripe,
      'entitlements.active_entitlement_summary',
      customer,
      place,
      limiter,
    );
    assert.equal(read.deleted, false, 'the summary was read as deleted');
    const summary = read.object as { entitlements: { data: { feature: string }[] } };
    const entitlements = summary.entitlements.data;
    assert.equal(entitlements.length, 100);
    assert.ok(!entitlements.some((entitlement) => entitlement.feature === ended));
    assert.equal(calls, 3, 'a page, the next refused for its lost cursor, then the 100 left on one page');
  } finally {
    await emulator.close();
  }
});
