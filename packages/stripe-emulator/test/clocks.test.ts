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
  switchCard,
  typesSince,
  utc,
} from './billing-fixtures.ts';
import { type Harness, startHarness } from './support.ts';

const HOUR = 3600;

describe('test clocks drive billing', () => {
  let h: Harness;
  let monthly: Stripe.Price;
  before(async () => {
    h = await startHarness();
    monthly = await recurringPrice(h, 2500);
  });
  after(() => h.close());

  it('lists customers and subscriptions on a clock only when the clock or customer is asked for', async () => {
    const clock = await h.stripe.testHelpers.testClocks.create({ frozen_time: utc('2031-06-01T00:00:00Z') });
    const { customer: clocked } = await customerWithCard(h, 'pm_card_visa', clock.id);
    const { customer: plain } = await customerWithCard(h, 'pm_card_visa');
    const onClock = await h.stripe.subscriptions.create({
      customer: clocked.id,
      items: [{ price: monthly.id }],
    });
    const offClock = await h.stripe.subscriptions.create({
      customer: plain.id,
      items: [{ price: monthly.id }],
    });
    const ids = (list: { data: { id: string }[] }) => list.data.map((object) => object.id);

    const customers = ids(await h.stripe.customers.list({ limit: 100 }));
    assert.ok(customers.includes(plain.id));
    assert.ok(!customers.includes(clocked.id), 'a plain list showed a customer on a test clock');
    assert.deepEqual(ids(await h.stripe.customers.list({ test_clock: clock.id })), [clocked.id]);

    const subscriptions = ids(await h.stripe.subscriptions.list({ limit: 100, status: 'all' }));
    assert.ok(subscriptions.includes(offClock.id));
    assert.ok(!subscriptions.includes(onClock.id), 'a plain list showed a subscription on a test clock');
    assert.deepEqual(ids(await h.stripe.subscriptions.list({ test_clock: clock.id })), [onClock.id]);
    assert.deepEqual(ids(await h.stripe.subscriptions.list({ customer: clocked.id })), [onClock.id]);
  });

  it('creates, lists, advances and deletes a clock, with its events', async () => {
    const start = utc('2031-01-01T00:00:00Z');
    const from = eventCount(h);
    const clock = await h.stripe.testHelpers.testClocks.create({ frozen_time: start, name: 'crud' });
    assert.equal(clock.status, 'ready');
    assert.equal(clock.deletes_after - clock.created, 30 * DAY);
    const response = await h.stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: start + DAY });
    assert.equal(response.status, 'advancing');
    assert.equal(response.status_details.advancing?.target_frozen_time, start + DAY);
    const ready = await h.stripe.testHelpers.testClocks.retrieve(clock.id);
    assert.equal(ready.status, 'ready');
    assert.equal(ready.frozen_time, start + DAY);
    await assert.rejects(
      h.stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: start }),
      (error: Stripe.errors.StripeError) => error.param === 'frozen_time',
    );
    assert.ok((await h.stripe.testHelpers.testClocks.list()).data.some((c) => c.id === clock.id));
    const { customer } = await customerWithCard(h, 'pm_card_visa', clock.id);
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
    });
    const deleted = await h.stripe.testHelpers.testClocks.del(clock.id);
    assert.equal(deleted.deleted, true);
    assert.equal(((await h.stripe.customers.retrieve(customer.id)) as Stripe.DeletedCustomer).deleted, true);
    await assert.rejects(
      h.stripe.subscriptions.retrieve(subscription.id),
      (e: Stripe.errors.StripeError) => e.statusCode === 404,
    );
    assert.deepEqual(typesSince(h, from, ['test_helpers.']), [
      'test_helpers.test_clock.created',
      'test_helpers.test_clock.advancing',
      'test_helpers.test_clock.ready',
      'test_helpers.test_clock.deleted',
    ]);
  });

  it('refuses every clock endpoint to a connected account, as Stripe does', async () => {
    const clock = await h.stripe.testHelpers.testClocks.create({ frozen_time: utc('2031-01-01T00:00:00Z') });
    const connected = { stripeAccount: 'acct_1ClockRefused' };
    const clocks = h.stripe.testHelpers.testClocks;
    const refused = (error: Stripe.errors.StripeError) =>
      error.statusCode === 400 &&
      error.type === 'StripeInvalidRequestError' &&
      error.message === 'Connected account impersonation is not allowed on this endpoint.';
    for (const call of [
      () => clocks.create({ frozen_time: clock.frozen_time }, connected),
      () => clocks.list({}, connected),
      () => clocks.retrieve(clock.id, {}, connected),
      () => clocks.advance(clock.id, { frozen_time: clock.frozen_time + DAY }, connected),
      () => clocks.del(clock.id, {}, connected),
    ])
      await assert.rejects(call(), refused);
    const platform = await clocks.retrieve(clock.id);
    assert.equal(platform.frozen_time, clock.frozen_time, 'the platform clock was left alone');
    assert.ok((await clocks.list()).data.some((listed) => listed.id === clock.id));
  });

  it('ends a trial: notice three days before, then active with a paid invoice', async () => {
    const start = utc('2031-02-01T00:00:00Z');
    const clock = await clockAt(h, start);
    const { customer } = await customerWithCard(h, 'pm_card_visa', clock.id);
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      trial_period_days: 14,
      expand: ['latest_invoice'],
    });
    assert.equal(subscription.status, 'trialing');
    assert.equal(subscription.trial_end, start + 14 * DAY);
    assert.equal((subscription.latest_invoice as Stripe.Invoice).amount_due, 0);
    assert.equal((subscription.latest_invoice as Stripe.Invoice).status, 'paid');
    await advance(h, clock.id, start + 11 * DAY);
    const notice = events(h).find(
      (event) =>
        event.type === 'customer.subscription.trial_will_end' && event.data.object.id === subscription.id,
    );
    assert.equal(notice?.created, start + 11 * DAY);
    await advance(h, clock.id, start + 14 * DAY + 2 * HOUR);
    const active = await h.stripe.subscriptions.retrieve(subscription.id, { expand: ['latest_invoice'] });
    assert.equal(active.status, 'active');
    assert.equal(active.billing_cycle_anchor, start + 14 * DAY);
    assert.equal(active.items.data[0]?.current_period_start, start + 14 * DAY);
    const invoice = active.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.billing_reason, 'subscription_cycle');
    assert.equal(invoice.status, 'paid');
    assert.equal(invoice.amount_paid, 2500);
    assert.equal(invoice.status_transitions.paid_at, start + 14 * DAY + HOUR);
  });

  it('renews monthly on the anchor day, clamped to short months, with a draft hour before charging', async () => {
    const start = utc('2031-01-31T09:00:00Z');
    const { clock, subscription } = await subscribedOnClock(h, start, monthly);
    const from = eventCount(h);
    await advance(h, clock.id, utc('2031-02-28T09:30:00Z'));
    const draft = (await h.stripe.invoices.list({ subscription: subscription.id, limit: 1 })).data[0];
    assert.equal(draft?.status, 'draft');
    assert.equal(draft?.automatically_finalizes_at, utc('2031-02-28T10:00:00Z'));
    assert.deepEqual(typesSince(h, from, ['customer.subscription.', 'invoice']), [
      'customer.subscription.updated',
      'invoice.created',
    ]);
    await advance(h, clock.id, utc('2031-04-01T00:00:00Z'));
    const renewed = await h.stripe.subscriptions.retrieve(subscription.id);
    assert.equal(renewed.items.data[0]?.current_period_start, utc('2031-03-31T09:00:00Z'));
    assert.equal(renewed.items.data[0]?.current_period_end, utc('2031-04-30T09:00:00Z'));
    const invoices = await h.stripe.invoices.list({ subscription: subscription.id });
    assert.deepEqual(
      invoices.data.map((invoice) => [
        invoice.billing_reason,
        invoice.status,
        invoice.lines.data[0]?.period.start,
      ]),
      [
        ['subscription_cycle', 'paid', utc('2031-03-31T09:00:00Z')],
        ['subscription_cycle', 'paid', utc('2031-02-28T09:00:00Z')],
        ['subscription_create', 'paid', start],
      ],
    );
  });

  it('renews yearly, weekly and every 3 days', async () => {
    const start = utc('2032-02-29T00:00:00Z');
    const table: [Stripe.PriceCreateParams.Recurring, number, number][] = [
      [{ interval: 'year' }, utc('2033-03-01T00:00:00Z'), utc('2033-02-28T00:00:00Z')],
      [{ interval: 'week' }, start + 15 * DAY, start + 14 * DAY],
      [{ interval: 'day', interval_count: 3 }, start + 10 * DAY, start + 9 * DAY],
    ];
    for (const [recurring, advanceTo, expectedStart] of table) {
      const clock = await clockAt(h, start);
      const { customer } = await customerWithCard(h, 'pm_card_visa', clock.id);
      const price = await recurringPrice(h, 100, recurring);
      const subscription = await h.stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: price.id }],
      });
      await advance(h, clock.id, advanceTo);
      const renewed = await h.stripe.subscriptions.retrieve(subscription.id);
      assert.equal(renewed.items.data[0]?.current_period_start, expectedStart, JSON.stringify(recurring));
      assert.equal(renewed.status, 'active');
    }
  });

  it('cancels at period end instead of renewing', async () => {
    const start = utc('2031-03-01T00:00:00Z');
    const { clock, subscription } = await subscribedOnClock(h, start, monthly);
    await h.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    const from = eventCount(h);
    await advance(h, clock.id, utc('2031-04-05T00:00:00Z'));
    const ended = await h.stripe.subscriptions.retrieve(subscription.id);
    assert.equal(ended.status, 'canceled');
    assert.equal(ended.ended_at, utc('2031-04-01T00:00:00Z'));
    assert.deepEqual(typesSince(h, from, ['customer.subscription.', 'invoice.']), [
      'customer.subscription.deleted',
    ]);
    assert.equal((await h.stripe.invoices.list({ subscription: subscription.id })).data.length, 1);
  });

  it('dunning: a failed renewal goes past_due, retries 3, 5, 7 days later, then cancels', async () => {
    const start = utc('2031-05-01T00:00:00Z');
    const { clock, customer, subscription } = await subscribedOnClock(h, start, monthly);
    await switchCard(h, customer.id, 'pm_card_chargeCustomerFail');
    const failedAt = utc('2031-06-01T01:00:00Z');
    await advance(h, clock.id, failedAt + HOUR);
    const pastDue = await h.stripe.subscriptions.retrieve(subscription.id, { expand: ['latest_invoice'] });
    assert.equal(pastDue.status, 'past_due');
    const invoice = pastDue.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.status, 'open');
    assert.equal(invoice.attempt_count, 1);
    assert.equal(invoice.next_payment_attempt, failedAt + 3 * DAY);
    await advance(h, clock.id, failedAt + 6 * DAY);
    const retried = await h.stripe.invoices.retrieve(invoice.id);
    assert.equal(retried.attempt_count, 3);
    assert.equal(retried.next_payment_attempt, failedAt + 7 * DAY);
    const from = eventCount(h);
    await advance(h, clock.id, failedAt + 8 * DAY);
    const canceled = await h.stripe.subscriptions.retrieve(subscription.id);
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.cancellation_details?.reason, 'payment_failed');
    assert.equal((await h.stripe.invoices.retrieve(invoice.id)).status, 'uncollectible');
    assert.deepEqual(typesSince(h, from, ['customer.subscription.', 'invoice.']), [
      'invoice.payment_failed',
      'invoice.updated',
      'invoice.marked_uncollectible',
      'customer.subscription.deleted',
    ]);
  });

  it('a retry that succeeds after the card is replaced makes the subscription active again', async () => {
    const start = utc('2031-07-01T00:00:00Z');
    const { clock, customer, subscription } = await subscribedOnClock(h, start, monthly);
    await switchCard(h, customer.id, 'pm_card_chargeCustomerFail');
    await advance(h, clock.id, utc('2031-08-02T00:00:00Z'));
    assert.equal((await h.stripe.subscriptions.retrieve(subscription.id)).status, 'past_due');
    await switchCard(h, customer.id, 'pm_card_visa');
    await advance(h, clock.id, utc('2031-08-05T00:00:00Z'));
    const recovered = await h.stripe.subscriptions.retrieve(subscription.id, { expand: ['latest_invoice'] });
    assert.equal(recovered.status, 'active');
    const invoice = recovered.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.status, 'paid');
    assert.equal(invoice.attempt_count, 2);
    const payments = await h.stripe.invoicePayments.list({ invoice: invoice.id });
    assert.deepEqual(payments.data.map((payment) => payment.status).sort(), ['canceled', 'paid']);
  });
});

describe('metered prices bill their usage in arrears', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('bills the meter total of the period just ended on the renewal invoice', async () => {
    // Meter events must be recent by the system clock, so this clock starts at the emulator's now.
    const start = h.emulator.emulator.clock.nowSeconds();
    const clock = await clockAt(h, start);
    const { customer } = await customerWithCard(h, 'pm_card_visa', clock.id);
    const meter = await h.stripe.billing.meters.create({
      display_name: 'API calls',
      event_name: 'api_call',
      default_aggregation: { formula: 'sum' },
    });
    const product = await h.stripe.products.create({ name: 'API' });
    const price = await h.stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 2,
      recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
    });
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      expand: ['latest_invoice'],
    });
    assert.equal(subscription.items.data[0]?.quantity, undefined);
    assert.equal((subscription.latest_invoice as Stripe.Invoice).amount_due, 0);
    for (const value of ['10', '20', '30'])
      await h.stripe.billing.meterEvents.create({
        event_name: 'api_call',
        payload: { stripe_customer_id: customer.id, value },
        timestamp: start + 60,
      });
    await advance(h, clock.id, start + 32 * DAY);
    const renewal = (await h.stripe.invoices.list({ subscription: subscription.id, limit: 1 })).data[0];
    assert.equal(renewal?.status, 'paid');
    assert.deepEqual(
      renewal?.lines.data.map((line) => [line.amount, line.quantity, line.period.start]),
      [[120, 60, start]],
    );
  });
});

describe('dunning configured to mark subscriptions unpaid', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      billing: {
        dunning: { retryDays: [1, 2], subscriptionOutcome: 'mark_unpaid', invoiceOutcome: 'leave_open' },
      },
    });
  });
  after(() => h.close());

  it('retries on the configured days, then leaves the subscription unpaid and the invoice open', async () => {
    const start = utc('2031-09-01T00:00:00Z');
    const clock = await clockAt(h, start);
    const price = await recurringPrice(h, 900);
    const { customer } = await customerWithCard(h, 'pm_card_visa', clock.id);
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
    });
    await switchCard(h, customer.id, 'pm_card_chargeCustomerFail');
    await advance(h, clock.id, utc('2031-10-04T00:00:00Z'));
    const unpaid = await h.stripe.subscriptions.retrieve(subscription.id, { expand: ['latest_invoice'] });
    assert.equal(unpaid.status, 'unpaid');
    const invoice = unpaid.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.status, 'open');
    assert.equal(invoice.attempt_count, 3);
    assert.equal(invoice.next_payment_attempt, null);
    await advance(h, clock.id, utc('2031-11-02T00:00:00Z'));
    const next = (await h.stripe.invoices.list({ subscription: subscription.id, limit: 1 })).data[0];
    assert.equal(next?.status, 'draft');
    assert.equal(next?.auto_advance, false);
  });
});

describe('the system clock drives subscriptions without a test clock', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ billing: { renewalDraftSeconds: 0 } });
  });
  after(() => h.close());

  it('renews when the emulator time is advanced through the control path', async () => {
    const price = await recurringPrice(h, 700, { interval: 'day' });
    const { customer } = await customerWithCard(h);
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
    });
    const response = await fetch(`${h.emulator.url}/_emulator/time/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seconds: DAY + 60 }),
    });
    assert.equal(response.status, 200);
    const invoices = await h.stripe.invoices.list({ subscription: subscription.id });
    assert.deepEqual(
      invoices.data.map((invoice) => [invoice.billing_reason, invoice.status]),
      [
        ['subscription_cycle', 'paid'],
        ['subscription_create', 'paid'],
      ],
    );
  });
});
