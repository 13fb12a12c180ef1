import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import {
  advance,
  DAY,
  eventCount,
  recurringPrice,
  subscribedOnClock,
  typesSince,
  utc,
} from './billing-fixtures.ts';
import { type Harness, startHarness } from './support.ts';

const SCHEDULE_EVENTS = ['subscription_schedule.', 'customer.subscription.', 'invoice.'];

const idOf = (value: string | { id: string } | null) =>
  typeof value === 'string' ? value : (value?.id ?? null);

const rejectsWith =
  (param: string, code?: string) =>
  (error: Stripe.errors.StripeError): boolean => {
    assert.equal(error.type, 'StripeInvalidRequestError', error.message);
    assert.equal(error.param, param, error.message);
    if (code) assert.equal(error.code, code);
    return true;
  };

describe('subscription schedules: downgrade at the end of the period', () => {
  let h: Harness;
  let pro: Stripe.Price;
  let basic: Stripe.Price;
  before(async () => {
    h = await startHarness();
    pro = await recurringPrice(h, 3000, { interval: 'month' }, 'Pro');
    basic = await recurringPrice(h, 1000, { interval: 'month' }, 'Basic');
  });
  after(() => h.close());

  it('takes over a subscription, moves to the cheaper price at renewal, then releases it', async () => {
    const start = utc('2032-01-15T00:00:00Z');
    const periodEnd = utc('2032-02-15T00:00:00Z');
    const { clock, customer, subscription } = await subscribedOnClock(h, start, pro);
    const from = eventCount(h);

    const schedule = await h.stripe.subscriptionSchedules.create({ from_subscription: subscription.id });
    assert.match(schedule.id, /^sub_sched_/);
    assert.equal(schedule.object, 'subscription_schedule');
    assert.equal(schedule.status, 'active');
    assert.equal(schedule.subscription, subscription.id);
    assert.equal(schedule.customer, customer.id);
    assert.equal(schedule.end_behavior, 'release');
    assert.equal(schedule.test_clock, clock.id);
    assert.deepEqual(schedule.current_phase, { start_date: start, end_date: periodEnd });
    assert.equal(schedule.phases.length, 1);
    const [current] = schedule.phases;
    assert.deepEqual(
      current?.items.map((item) => [item.price, item.quantity]),
      [[pro.id, 1]],
    );
    assert.equal(current?.start_date, start);
    assert.equal(current?.end_date, periodEnd);
    assert.equal((await h.stripe.subscriptions.retrieve(subscription.id)).schedule, schedule.id);

    const updated = await h.stripe.subscriptionSchedules.update(schedule.id, {
      end_behavior: 'release',
      phases: [
        { items: [{ price: pro.id, quantity: 1 }], start_date: start, end_date: periodEnd },
        {
          items: [{ price: basic.id, quantity: 1 }],
          duration: { interval: 'month' },
          proration_behavior: 'none',
        },
      ],
    });
    assert.equal(updated.phases.length, 2);
    assert.equal(updated.phases[1]?.start_date, periodEnd);
    assert.equal(updated.phases[1]?.end_date, utc('2032-03-15T00:00:00Z'));
    assert.equal(updated.phases[1]?.items[0]?.price, basic.id);
    assert.deepEqual(updated.current_phase, { start_date: start, end_date: periodEnd });
    const unchanged = await h.stripe.subscriptions.retrieve(subscription.id);
    assert.equal(unchanged.items.data[0]?.price.id, pro.id, 'the current phase keeps the current price');
    assert.deepEqual(typesSince(h, from, SCHEDULE_EVENTS), [
      'subscription_schedule.created',
      'customer.subscription.updated',
      'subscription_schedule.updated',
    ]);

    const beforeRenewal = eventCount(h);
    await advance(h, clock.id, periodEnd + DAY);
    const renewed = await h.stripe.subscriptions.retrieve(subscription.id, { expand: ['latest_invoice'] });
    assert.equal(renewed.status, 'active');
    assert.deepEqual(
      renewed.items.data.map((item) => item.price.id),
      [basic.id],
    );
    assert.equal(renewed.items.data[0]?.current_period_start, periodEnd);
    const invoice = renewed.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.billing_reason, 'subscription_cycle');
    assert.equal(invoice.amount_due, 1000);
    assert.equal(invoice.status, 'paid');
    assert.equal(invoice.lines.data.length, 1);
    assert.ok(invoice.lines.data.every((line) => !line.parent?.subscription_item_details?.proration));
    const inSecondPhase = await h.stripe.subscriptionSchedules.retrieve(schedule.id);
    assert.equal(inSecondPhase.status, 'active');
    assert.deepEqual(inSecondPhase.current_phase, {
      start_date: periodEnd,
      end_date: utc('2032-03-15T00:00:00Z'),
    });
    // The phase change, then the renewal at the new price (its own subscription update and invoice).
    assert.deepEqual(typesSince(h, beforeRenewal, SCHEDULE_EVENTS), [
      'subscription_schedule.updated',
      'customer.subscription.updated',
      'customer.subscription.updated',
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
    ]);

    const beforeRelease = eventCount(h);
    await advance(h, clock.id, utc('2032-03-15T00:00:00Z') + DAY);
    const released = await h.stripe.subscriptionSchedules.retrieve(schedule.id);
    assert.equal(released.status, 'released');
    assert.equal(released.released_subscription, subscription.id);
    assert.equal(released.released_at, utc('2032-03-15T00:00:00Z'));
    assert.equal(released.subscription, null);
    assert.equal(released.current_phase, null);
    const free = await h.stripe.subscriptions.retrieve(subscription.id, { expand: ['latest_invoice'] });
    assert.equal(free.schedule, null);
    assert.equal(free.status, 'active');
    assert.equal(free.items.data[0]?.price.id, basic.id);
    assert.equal((free.latest_invoice as Stripe.Invoice).amount_due, 1000);
    assert.deepEqual(typesSince(h, beforeRelease, SCHEDULE_EVENTS).slice(0, 4), [
      'subscription_schedule.released',
      'customer.subscription.updated',
      'customer.subscription.updated',
      'invoice.created',
    ]);

    const listed = await h.stripe.subscriptionSchedules.list({ customer: customer.id });
    assert.deepEqual(
      listed.data.map((s) => s.id),
      [schedule.id],
    );
  });

  it('refuses phases Stripe refuses, with the parameter at fault', async () => {
    const start = utc('2032-05-01T00:00:00Z');
    const periodEnd = utc('2032-06-01T00:00:00Z');
    const { subscription } = await subscribedOnClock(h, start, pro);
    const schedule = await h.stripe.subscriptionSchedules.create({ from_subscription: subscription.id });
    const update = (phases: Stripe.SubscriptionScheduleUpdateParams.Phase[]) =>
      h.stripe.subscriptionSchedules.update(schedule.id, { phases });
    await assert.rejects(
      update([{ items: [{ price: pro.id }], start_date: start + DAY, end_date: periodEnd }]),
      rejectsWith('phases[0][start_date]'),
    );
    await assert.rejects(
      update([
        { items: [{ price: pro.id }], start_date: start, end_date: periodEnd },
        { items: [{ price: basic.id }], start_date: periodEnd + DAY, duration: { interval: 'month' } },
      ]),
      rejectsWith('phases[1][start_date]'),
    );
    await assert.rejects(
      update([
        {
          items: [{ price: pro.id }],
          start_date: start,
          end_date: periodEnd,
          duration: { interval: 'month' },
        },
      ]),
      rejectsWith('phases[0]'),
    );
    await assert.rejects(
      update([{ items: [{ price: pro.id }], start_date: start, end_date: start - DAY }]),
      rejectsWith('phases[0][end_date]'),
    );
    await assert.rejects(
      update([{ items: [{ price: 'price_missing' }], start_date: start, end_date: periodEnd }]),
      rejectsWith('phases[0][items][0][price]', 'resource_missing'),
    );
    await assert.rejects(
      h.stripe.subscriptionSchedules.update(schedule.id, {
        phases: [{ items: [{ price: pro.id }], start_date: start, end_date: periodEnd }],
        colour: 'blue',
      } as Stripe.SubscriptionScheduleUpdateParams),
      rejectsWith('colour', 'parameter_unknown'),
    );
    await assert.rejects(
      h.stripe.subscriptionSchedules.create({ from_subscription: subscription.id }),
      rejectsWith('from_subscription'),
    );
    await assert.rejects(
      h.stripe.subscriptionSchedules.create({
        from_subscription: subscription.id,
        phases: [{ items: [{ price: pro.id }] }],
      }),
      rejectsWith('phases'),
    );
    await assert.rejects(
      h.stripe.subscriptionSchedules.retrieve('sub_sched_missing'),
      (error: Stripe.errors.StripeError) => error.statusCode === 404 && error.code === 'resource_missing',
    );
    const kept = await h.stripe.subscriptionSchedules.retrieve(schedule.id);
    assert.equal(kept.phases.length, 1, 'a refused update changes nothing');
  });

  it('releases on request: the subscription keeps its items and loses its schedule', async () => {
    const { subscription } = await subscribedOnClock(h, utc('2032-07-01T00:00:00Z'), pro);
    const schedule = await h.stripe.subscriptionSchedules.create({ from_subscription: subscription.id });
    const from = eventCount(h);
    const released = await h.stripe.subscriptionSchedules.release(schedule.id);
    assert.equal(released.status, 'released');
    assert.equal(released.released_subscription, subscription.id);
    const after = await h.stripe.subscriptions.retrieve(subscription.id);
    assert.equal(after.schedule, null);
    assert.equal(after.items.data[0]?.price.id, pro.id);
    assert.deepEqual(typesSince(h, from, SCHEDULE_EVENTS), [
      'subscription_schedule.released',
      'customer.subscription.updated',
    ]);
    await assert.rejects(
      h.stripe.subscriptionSchedules.release(schedule.id),
      (error: Stripe.errors.StripeError) => /released/.test(error.message),
    );
    await assert.rejects(
      h.stripe.subscriptionSchedules.update(schedule.id, { metadata: { a: 'b' } }),
      (error: Stripe.errors.StripeError) => error.statusCode === 400,
    );
  });

  it('cancels on request, and a subscription canceled otherwise cancels its schedule', async () => {
    const first = await subscribedOnClock(h, utc('2032-08-01T00:00:00Z'), pro);
    const schedule = await h.stripe.subscriptionSchedules.create({
      from_subscription: first.subscription.id,
    });
    const from = eventCount(h);
    const canceled = await h.stripe.subscriptionSchedules.cancel(schedule.id, {
      invoice_now: false,
      prorate: false,
    });
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.canceled_at, utc('2032-08-01T00:00:00Z'));
    assert.equal(canceled.current_phase, null);
    assert.equal((await h.stripe.subscriptions.retrieve(first.subscription.id)).status, 'canceled');
    assert.deepEqual(typesSince(h, from, SCHEDULE_EVENTS), [
      'customer.subscription.deleted',
      'subscription_schedule.canceled',
    ]);

    const second = await subscribedOnClock(h, utc('2032-09-01T00:00:00Z'), pro);
    const other = await h.stripe.subscriptionSchedules.create({ from_subscription: second.subscription.id });
    await h.stripe.subscriptions.cancel(second.subscription.id);
    assert.equal((await h.stripe.subscriptionSchedules.retrieve(other.id)).status, 'canceled');
  });

  it('with end_behavior cancel, ends the subscription when the last phase ends', async () => {
    const start = utc('2032-10-01T00:00:00Z');
    const { clock, subscription } = await subscribedOnClock(h, start, pro);
    const schedule = await h.stripe.subscriptionSchedules.create({
      from_subscription: subscription.id,
      end_behavior: 'cancel',
    });
    await advance(h, clock.id, utc('2032-11-01T00:00:00Z') + DAY);
    const ended = await h.stripe.subscriptions.retrieve(subscription.id);
    assert.equal(ended.status, 'canceled');
    assert.equal(ended.ended_at, utc('2032-11-01T00:00:00Z'));
    const completed = await h.stripe.subscriptionSchedules.retrieve(schedule.id);
    assert.equal(completed.status, 'completed');
    assert.equal(idOf(completed.subscription), subscription.id);
  });
});
