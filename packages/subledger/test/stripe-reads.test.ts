import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Stripe from 'stripe';
import { startEmulator } from 'stripe-emulator';
import { createStripeClient } from '../src/stripe/index.ts';
import { createLimiter, retrieveListed } from '../src/sync/listing.ts';
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
