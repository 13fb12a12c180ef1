import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import {
  advance,
  clockAt,
  customerWithCard,
  DAY,
  eventCount,
  events,
  recurringPrice,
  subscribedOnClock,
  typesSince,
  utc,
} from './billing-fixtures.ts';
import { type Harness, startHarness } from './support.ts';

const BILLING = ['customer.subscription.', 'invoice', 'payment_intent.'];

describe('subscriptions through the official SDK', () => {
  let h: Harness;
  let monthly: Stripe.Price;
  before(async () => {
    h = await startHarness();
    monthly = await recurringPrice(h, 2500);
  });
  after(() => h.close());

  it('starts active with pm_card_visa, emitting the events in Stripe order', async () => {
    const { customer } = await customerWithCard(h);
    const from = eventCount(h);
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      expand: ['latest_invoice.payments'],
    });
    assert.equal(subscription.status, 'active');
    const item = subscription.items.data[0];
    assert.ok(item);
    assert.equal(item.current_period_start, subscription.start_date);
    assert.equal(item.current_period_end - item.current_period_start >= 28 * DAY, true);
    const invoice = subscription.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.status, 'paid');
    assert.equal(invoice.billing_reason, 'subscription_create');
    assert.equal(invoice.amount_paid, 2500);
    assert.equal(invoice.attempt_count, 1);
    assert.equal(invoice.parent?.subscription_details?.subscription, subscription.id);
    assert.equal(invoice.lines.data[0]?.description, '1 × Pro (at $25.00 / month)');
    assert.equal(invoice.payments?.data[0]?.status, 'paid');
    assert.deepEqual(typesSince(h, from, BILLING), [
      'customer.subscription.created',
      'invoice.created',
      'invoice.finalized',
      'payment_intent.created',
      'payment_intent.succeeded',
      'invoice.paid',
      'invoice.payment_succeeded',
      'invoice_payment.paid',
      'customer.subscription.updated',
    ]);
    const updated = events(h)
      .filter((event) => event.type === 'customer.subscription.updated')
      .at(-1);
    assert.deepEqual(updated?.data.previous_attributes, { status: 'incomplete' });
    const payments = await h.stripe.invoicePayments.list({ invoice: invoice.id });
    assert.equal(payments.data[0]?.amount_paid, 2500);
  });

  it('refuses a charge-now subscription when the customer has no payment method', async () => {
    const customer = await h.stripe.customers.create({});
    await assert.rejects(
      h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] }),
      (error: Stripe.errors.StripeError) =>
        error.statusCode === 400 &&
        error.code === 'resource_missing' &&
        /no attached payment source or default payment method/.test(error.message),
    );
    const waiting = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      payment_behavior: 'default_incomplete',
      payment_settings: { save_default_payment_method: 'on_subscription' },
      expand: ['latest_invoice.confirmation_secret'],
    });
    assert.equal(waiting.status, 'incomplete');
    const invoice = waiting.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.status, 'open');
    assert.equal(invoice.attempt_count, 0);
    const secret = invoice.confirmation_secret?.client_secret ?? '';
    assert.match(secret, /^pi_.+_secret_/);
    const intentId = secret.split('_secret_')[0] ?? '';
    const confirmed = await h.stripe.paymentIntents.confirm(intentId, { payment_method: 'pm_card_visa' });
    assert.equal(confirmed.status, 'succeeded');
    const active = await h.stripe.subscriptions.retrieve(waiting.id);
    assert.equal(active.status, 'active');
    assert.equal(active.default_payment_method, confirmed.payment_method);
    assert.equal((await h.stripe.invoices.retrieve(invoice.id)).status, 'paid');
  });

  it('bills add_invoice_items on the first invoice, as recorded from Stripe', async () => {
    const { customer } = await customerWithCard(h);
    const shirt = await h.stripe.products.create({ name: 'T-Shirt' });
    const oneTime = await h.stripe.prices.create({ product: shirt.id, currency: 'usd', unit_amount: 1500 });
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      add_invoice_items: [{ price: oneTime.id }],
      expand: ['latest_invoice'],
    });
    const invoice = subscription.latest_invoice as Stripe.Invoice;
    assert.deepEqual(
      invoice.lines.data.map((line) => [line.amount, line.description, line.parent?.type]),
      [
        [1500, 'T-Shirt', 'invoice_item_details'],
        [2500, '1 × Pro (at $25.00 / month)', 'subscription_item_details'],
      ],
    );
    assert.equal(invoice.lines.data[0]?.parent?.invoice_item_details?.subscription, subscription.id);
    assert.equal(invoice.amount_paid, 4000);
  });

  it('answers 402 and keeps nothing with error_if_incomplete on a declining card', async () => {
    const { customer } = await customerWithCard(h, 'pm_card_chargeCustomerFail');
    await assert.rejects(
      h.stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: monthly.id }],
        payment_behavior: 'error_if_incomplete',
      }),
      (error: Stripe.errors.StripeError) => error.type === 'StripeCardError' && error.statusCode === 402,
    );
    assert.equal(
      (await h.stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data.length,
      0,
    );
    assert.equal((await h.stripe.invoices.list({ customer: customer.id })).data.length, 0);
  });

  it('stays incomplete after a declined first payment, then expires after 23 hours', async () => {
    const start = utc('2030-01-10T12:00:00Z');
    const clock = await clockAt(h, start);
    const { customer } = await customerWithCard(h, 'pm_card_chargeCustomerFail', clock.id);
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      expand: ['latest_invoice'],
    });
    assert.equal(subscription.status, 'incomplete');
    const invoice = subscription.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.status, 'open');
    assert.equal(invoice.next_payment_attempt, null);
    await advance(h, clock.id, start + 24 * 3600);
    const expired = await h.stripe.subscriptions.retrieve(subscription.id);
    assert.equal(expired.status, 'incomplete_expired');
    assert.equal(expired.ended_at, start + 23 * 3600);
    assert.equal((await h.stripe.invoices.retrieve(invoice.id)).status, 'void');
  });

  it('schedules a cancellation at period end and resumes it, as recorded from Stripe', async () => {
    const { customer } = await customerWithCard(h);
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
    });
    const scheduled = await h.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    assert.equal(scheduled.status, 'active');
    assert.equal(scheduled.cancel_at_period_end, true);
    assert.equal(scheduled.cancel_at, scheduled.items.data[0]?.current_period_end);
    assert.equal(typeof scheduled.canceled_at, 'number');
    assert.equal(scheduled.cancellation_details?.reason, 'cancellation_requested');
    const resumed = await h.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: false });
    assert.equal(resumed.cancel_at, null);
    assert.equal(resumed.canceled_at, null);
    assert.equal(resumed.cancellation_details?.reason, null);
  });

  it('cancels now; lists leave ended subscriptions out unless asked', async () => {
    const { customer } = await customerWithCard(h);
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
    });
    const from = eventCount(h);
    const canceled = await h.stripe.subscriptions.cancel(subscription.id, {
      invoice_now: false,
      prorate: false,
    });
    assert.equal(canceled.status, 'canceled');
    assert.equal(typeof canceled.ended_at, 'number');
    assert.deepEqual(typesSince(h, from, BILLING), ['customer.subscription.deleted']);
    assert.equal((await h.stripe.subscriptions.list({ customer: customer.id })).data.length, 0);
    assert.equal(
      (await h.stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data.length,
      1,
    );
    assert.equal(
      (await h.stripe.subscriptions.list({ customer: customer.id, status: 'canceled' })).data.length,
      1,
    );
    await assert.rejects(
      h.stripe.subscriptions.update(subscription.id, { items: [{ price: monthly.id }] }),
      (error: Stripe.errors.StripeError) => error.statusCode === 400,
    );
    const tagged = await h.stripe.subscriptions.update(subscription.id, { metadata: { note: 'gone' } });
    assert.equal(tagged.metadata.note, 'gone');
  });

  it('upgrades mid-period with an immediate proration invoice', async () => {
    const start = utc('2030-03-01T00:00:00Z');
    const clock = await clockAt(h, start);
    const { customer } = await customerWithCard(h, 'pm_card_visa', clock.id);
    const pro = await recurringPrice(h, 3000, { interval: 'month' }, 'Pro Plus');
    const basic = await recurringPrice(h, 1000, { interval: 'month' }, 'Basic');
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: basic.id }],
    });
    const itemId = subscription.items.data[0]?.id ?? '';
    const halfway = utc('2030-03-16T12:00:00Z');
    await advance(h, clock.id, halfway);
    const from = eventCount(h);
    const upgraded = await h.stripe.subscriptions.update(subscription.id, {
      items: [{ id: itemId, price: pro.id }],
      proration_behavior: 'always_invoice',
      expand: ['latest_invoice'],
    });
    assert.equal(upgraded.items.data[0]?.price.id, pro.id);
    assert.equal(upgraded.items.data[0]?.current_period_end, utc('2030-04-01T00:00:00Z'));
    const invoice = upgraded.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.billing_reason, 'subscription_update');
    assert.equal(invoice.status, 'paid');
    assert.deepEqual(
      invoice.lines.data.map((line) => [line.amount, line.description]),
      [
        [-500, 'Unused time on Basic after 16 Mar 2030'],
        [1500, 'Remaining time on Pro Plus after 16 Mar 2030'],
      ],
    );
    assert.equal(invoice.amount_paid, 1000);
    assert.deepEqual(typesSince(h, from, ['invoiceitem.', 'customer.subscription.', 'invoice.']), [
      'invoiceitem.created',
      'invoiceitem.created',
      'customer.subscription.updated',
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
    ]);
  });

  it('leaves prorations pending with create_prorations and bills them at renewal', async () => {
    const start = utc('2030-05-01T00:00:00Z');
    const { clock, customer, subscription } = await subscribedOnClock(h, start, monthly);
    const itemId = subscription.items.data[0]?.id ?? '';
    await advance(h, clock.id, utc('2030-05-16T12:00:00Z'));
    await h.stripe.subscriptions.update(subscription.id, { items: [{ id: itemId, quantity: 3 }] });
    const pending = await h.stripe.invoiceItems.list({ customer: customer.id, pending: true });
    assert.deepEqual(
      pending.data.map((item) => item.amount).sort((a, b) => a - b),
      [-1250, 3750],
    );
    await advance(h, clock.id, utc('2030-06-01T02:00:00Z'));
    const renewal = (await h.stripe.invoices.list({ subscription: subscription.id, limit: 1 })).data[0];
    assert.equal(renewal?.billing_reason, 'subscription_cycle');
    assert.equal(renewal?.status, 'paid');
    assert.equal(renewal?.amount_paid, 3 * 2500 + 3750 - 1250);
    assert.equal((await h.stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 0);
  });

  it('pauses collection: renewal invoices are voided until collection is cleared', async () => {
    const start = utc('2030-07-01T00:00:00Z');
    const { clock, subscription } = await subscribedOnClock(h, start, monthly);
    const paused = await h.stripe.subscriptions.update(subscription.id, {
      pause_collection: { behavior: 'void' },
    });
    assert.deepEqual(paused.pause_collection, { behavior: 'void', resumes_at: null });
    await advance(h, clock.id, utc('2030-08-01T02:00:00Z'));
    const renewal = (await h.stripe.invoices.list({ subscription: subscription.id, limit: 1 })).data[0];
    assert.equal(renewal?.status, 'void');
    assert.equal((await h.stripe.subscriptions.retrieve(subscription.id)).status, 'active');
    const cleared = await h.stripe.subscriptions.update(subscription.id, { pause_collection: '' });
    assert.equal(cleared.pause_collection, null);
  });

  it('pauses at trial end without a payment method, and resumes with a new period', async () => {
    const start = utc('2030-09-01T00:00:00Z');
    const clock = await clockAt(h, start);
    const customer = await h.stripe.customers.create({ test_clock: clock.id });
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      trial_period_days: 7,
      trial_settings: { end_behavior: { missing_payment_method: 'pause' } },
    });
    assert.equal(subscription.status, 'trialing');
    const from = eventCount(h);
    await advance(h, clock.id, start + 8 * DAY);
    const paused = await h.stripe.subscriptions.retrieve(subscription.id);
    assert.equal(paused.status, 'paused');
    assert.deepEqual(typesSince(h, from, ['customer.subscription.']), [
      'customer.subscription.trial_will_end',
      'customer.subscription.updated',
      'customer.subscription.paused',
    ]);
    const methods = await h.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await h.stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: methods.id },
    });
    const resumed = await h.stripe.subscriptions.resume(subscription.id, {
      billing_cycle_anchor: { type: 'now' },
    });
    assert.equal(resumed.status, 'active');
    assert.equal(resumed.items.data[0]?.current_period_start, start + 8 * DAY);
    const invoice = await h.stripe.invoices.retrieve(String(resumed.latest_invoice));
    assert.equal(invoice.status, 'paid');
    assert.ok(typesSince(h, from, ['customer.subscription.']).includes('customer.subscription.resumed'));
  });

  it('searches and filters subscriptions', async () => {
    const { customer } = await customerWithCard(h);
    const tagged = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      metadata: { account: 'acc_77' },
    });
    const found = await h.stripe.subscriptions.search({
      query: "metadata['account']:'acc_77' AND status:'active'",
    });
    assert.deepEqual(
      found.data.map((s) => s.id),
      [tagged.id],
    );
    const byPrice = await h.stripe.subscriptions.list({ price: monthly.id, customer: customer.id });
    assert.deepEqual(
      byPrice.data.map((s) => s.id),
      [tagged.id],
    );
  });

  it('cancels the subscriptions of a deleted customer', async () => {
    const { customer } = await customerWithCard(h);
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
    });
    await h.stripe.customers.del(customer.id);
    assert.equal((await h.stripe.subscriptions.retrieve(subscription.id)).status, 'canceled');
  });
});
