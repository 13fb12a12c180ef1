import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { customerWithCard, recurringPrice } from './billing-fixtures.ts';
import { type Harness, startHarness } from './support.ts';

describe('subscription items through the official SDK', () => {
  let h: Harness;
  let monthly: Stripe.Price;
  before(async () => {
    h = await startHarness();
    monthly = await recurringPrice(h, 2500);
  });
  after(() => h.close());

  it('manages subscription items on their own', async () => {
    const { customer } = await customerWithCard(h);
    const seats = await recurringPrice(h, 500, { interval: 'month' }, 'Seats');
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
    });
    const added = await h.stripe.subscriptionItems.create({
      subscription: subscription.id,
      price: seats.id,
      quantity: 2,
      proration_behavior: 'none',
    });
    assert.equal(added.quantity, 2);
    const changed = await h.stripe.subscriptionItems.update(added.id, {
      quantity: 5,
      proration_behavior: 'none',
    });
    assert.equal(changed.quantity, 5);
    assert.equal((await h.stripe.subscriptionItems.retrieve(added.id)).quantity, 5);
    const listed = await h.stripe.subscriptionItems.list({ subscription: subscription.id });
    assert.equal(listed.data.length, 2);
    const deleted = await h.stripe.subscriptionItems.del(added.id, { proration_behavior: 'none' });
    assert.equal(deleted.deleted, true);
    assert.equal((await h.stripe.subscriptions.retrieve(subscription.id)).items.data.length, 1);
    await assert.rejects(
      h.stripe.subscriptionItems.create({ subscription: subscription.id, price: monthly.id }),
      (error: Stripe.errors.StripeError) => /same price/.test(error.message),
    );
  });

  it('holds at most 20 items, whether created with them or given them one at a time', async () => {
    const { customer } = await customerWithCard(h);
    const prices = await Promise.all(
      Array.from({ length: 21 }, (_, index) =>
        recurringPrice(h, 100 + index, { interval: 'month' }, `Add-on ${index}`),
      ),
    );
    const refusedAsTooMany = (error: Stripe.errors.StripeError) =>
      error.statusCode === 400 &&
      error.type === 'StripeInvalidRequestError' &&
      /at most 20 items/.test(error.message);
    await assert.rejects(
      h.stripe.subscriptions.create({
        customer: customer.id,
        items: prices.map((price) => ({ price: price.id })),
      }),
      refusedAsTooMany,
    );
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: prices.slice(0, 20).map((price) => ({ price: price.id })),
    });
    const itemCount = async () =>
      (await h.stripe.subscriptionItems.list({ subscription: subscription.id, limit: 100 })).data.length;
    assert.equal(await itemCount(), 20);
    const last = prices[20] as Stripe.Price;
    await assert.rejects(
      h.stripe.subscriptionItems.create({ subscription: subscription.id, price: last.id }),
      refusedAsTooMany,
    );
    await assert.rejects(
      h.stripe.subscriptions.update(subscription.id, { items: [{ price: last.id }] }),
      refusedAsTooMany,
    );
    assert.equal(await itemCount(), 20, 'a refused change leaves the items as they were');
  });
});
