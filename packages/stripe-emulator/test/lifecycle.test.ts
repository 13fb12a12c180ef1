import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type Stripe from 'stripe';
import { advance, DAY } from './billing-fixtures.ts';
import { type Harness, startHarness } from './support.ts';
import { type Receiver, startReceiver } from './webhooks-receiver.ts';

/** Every event the emulator recorded, oldest first. */
async function allEvents(stripe: Stripe): Promise<Stripe.Event[]> {
  const events: Stripe.Event[] = [];
  for await (const event of stripe.events.list({ limit: 100 })) events.push(event);
  return events.reverse();
}

/**
 * A receiver as an app runs one: every delivery is verified with the SDK's `constructEvent`; the
 * verified events are kept, and anything that fails verification is refused with a 400.
 */
class VerifyingReceiver {
  readonly accepted: Stripe.Event[] = [];
  readonly refused: string[] = [];
  secret = '';
  receiver!: Receiver;

  async start(stripe: Stripe): Promise<string> {
    this.receiver = await startReceiver((request) => {
      try {
        const signature = String(request.headers['stripe-signature'] ?? '');
        this.accepted.push(stripe.webhooks.constructEvent(request.body, signature, this.secret));
        return 200;
      } catch (error) {
        this.refused.push((error as Error).message);
        return 400;
      }
    });
    return this.receiver.url;
  }
}

/** Waits until the receiver has accepted every recorded event (deliveries are asynchronous). */
async function untilDelivered(stripe: Stripe, receiver: VerifyingReceiver): Promise<Stripe.Event[]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const events = await allEvents(stripe);
    const received = new Set(receiver.accepted.map((event) => event.id));
    if (events.every((event) => received.has(event.id))) return events;
    await sleep(100);
  }
  throw new Error('webhooks were not all delivered within 10 s');
}

/** Asserts that `expected` occurs in `types` in this order (other types may sit between). */
function assertInOrder(types: string[], expected: string[]): void {
  let from = 0;
  for (const type of expected) {
    const index = types.indexOf(type, from);
    assert.ok(index >= 0, `expected ${type} after position ${from} in ${types.join(', ')}`);
    from = index + 1;
  }
}

describe('a subscription lifecycle through the official SDK, with verified webhooks', () => {
  let h: Harness;
  const receiver = new VerifyingReceiver();
  before(async () => {
    h = await startHarness();
    const url = await receiver.start(h.stripe);
    const endpoint = await h.stripe.webhookEndpoints.create({ url, enabled_events: ['*'] });
    receiver.secret = endpoint.secret ?? '';
  });
  after(async () => {
    await h.close();
    await receiver.receiver.close();
  });

  it('checkout → active → renewal paid → card fails → past_due → dunning → canceled', async () => {
    const { stripe } = h;
    const product = await stripe.products.create({ name: 'Pro' });
    const price = await stripe.prices.create({
      product: product.id,
      unit_amount: 2_500,
      currency: 'usd',
      recurring: { interval: 'month' },
      lookup_key: 'pro_monthly',
    });
    const start = Math.floor(Date.UTC(2026, 0, 15) / 1000);
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: start });
    const customer = await stripe.customers.create({ email: 'life@example.com', test_clock: clock.id });

    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: customer.id,
      client_reference_id: 'org_42',
      line_items: [{ price: price.id, quantity: 1 }],
      success_url: 'https://app.example.com/success?session={CHECKOUT_SESSION_ID}',
    });
    const completion = await fetch(`${h.emulator.url}/_emulator/checkout/sessions/${session.id}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payment_method: 'pm_card_visa' }),
    });
    assert.equal(completion.status, 200, await completion.clone().text());
    const completed = await stripe.checkout.sessions.retrieve(session.id);
    assert.equal(completed.status, 'complete');
    assert.equal(completed.payment_status, 'paid');
    const subscriptionId = String(completed.subscription);
    assert.equal((await stripe.subscriptions.retrieve(subscriptionId)).status, 'active');

    const checkoutTypes = (await untilDelivered(stripe, receiver)).map((event) => event.type);
    assertInOrder(checkoutTypes, [
      'customer.subscription.created',
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
      'customer.subscription.updated',
      'checkout.session.completed',
    ]);

    await advance(h, clock.id, start + 32 * DAY);
    const paid = await stripe.invoices.list({ subscription: subscriptionId, status: 'paid' });
    assert.equal(paid.data.length, 2, 'the first invoice and the renewal are paid');
    assert.equal((await stripe.subscriptions.retrieve(subscriptionId)).status, 'active');

    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: customer.id,
    });
    await stripe.subscriptions.update(subscriptionId, { default_payment_method: failing.id });
    const statuses = new Set<string>();
    let now = start + 32 * DAY;
    for (let day = 0; day < 60 && !statuses.has('canceled'); day++) {
      now += DAY;
      await advance(h, clock.id, now);
      statuses.add((await stripe.subscriptions.retrieve(subscriptionId)).status);
    }
    assert.ok(statuses.has('past_due'), `statuses seen: ${[...statuses].join(', ')}`);
    assert.ok(statuses.has('canceled'), `statuses seen: ${[...statuses].join(', ')}`);

    const events = await untilDelivered(stripe, receiver);
    const types = events.map((event) => event.type);
    assert.ok(types.filter((type) => type === 'invoice.payment_failed').length >= 2, 'dunning retried');
    assertInOrder(types, [
      'invoice.payment_failed',
      'customer.subscription.updated',
      'customer.subscription.deleted',
    ]);
    assert.equal(receiver.refused.length, 0, 'every delivery verified with constructEvent');
    for (const event of receiver.accepted) assert.equal(event.api_version, '2026-10-28.endive');
  });
});
