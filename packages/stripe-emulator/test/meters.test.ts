import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { meterUsage } from '../src/catalog/index.ts';
import { type Harness, startHarness } from './support.ts';

const invalid =
  (expected: { status?: number; code?: string; param?: string; message?: RegExp }) =>
  (error: Stripe.errors.StripeError) => {
    assert.equal(error.type, 'StripeInvalidRequestError');
    if (expected.status !== undefined) assert.equal(error.statusCode, expected.status);
    if (expected.code !== undefined) assert.equal(error.code, expected.code);
    if (expected.param !== undefined) assert.equal(error.param, expected.param);
    if (expected.message !== undefined) assert.match(error.message, expected.message);
    return true;
  };

const HOUR = 3600;
const DAY = 86_400;

describe('billing meters, meter events and summaries', () => {
  let h: Harness;
  let customer: Stripe.Customer;
  /** Midnight UTC two days ago: every event below sits inside the 35-day window. */
  let day0: number;
  before(async () => {
    h = await startHarness();
    customer = await h.stripe.customers.create({ email: 'usage@example.com' });
    day0 = Math.floor(h.emulator.emulator.clock.nowSeconds() / DAY) * DAY - 2 * DAY;
  });
  after(() => h.close());

  const meter = (event_name: string, formula: 'sum' | 'count' | 'last') =>
    h.stripe.billing.meters.create({
      display_name: `${event_name} meter`,
      event_name,
      default_aggregation: { formula },
    });

  const report = (event_name: string, value: number, timestamp: number, identifier?: string) =>
    h.stripe.billing.meterEvents.create({
      event_name,
      payload: { stripe_customer_id: customer.id, value: String(value) },
      timestamp,
      ...(identifier ? { identifier } : {}),
    });

  it('creates, retrieves, updates, lists, deactivates and reactivates a meter', async () => {
    const created = await h.stripe.billing.meters.create({
      display_name: 'API calls',
      event_name: 'api_call',
      default_aggregation: { formula: 'sum' },
      customer_mapping: { type: 'by_id', event_payload_key: 'stripe_customer_id' },
      value_settings: { event_payload_key: 'value' },
    });
    assert.match(created.id, /^mtr_test_/);
    assert.deepEqual(Object.keys(created).sort(), [
      'created',
      'customer_mapping',
      'default_aggregation',
      'display_name',
      'event_name',
      'event_time_window',
      'id',
      'livemode',
      'object',
      'status',
      'status_transitions',
      'updated',
      'value_settings',
    ]);
    assert.equal(created.status, 'active');
    assert.equal((await h.stripe.billing.meters.retrieve(created.id)).event_name, 'api_call');
    const renamed = await h.stripe.billing.meters.update(created.id, { display_name: 'Requests' });
    assert.equal(renamed.display_name, 'Requests');
    const inactive = await h.stripe.billing.meters.deactivate(created.id);
    assert.equal(inactive.status, 'inactive');
    assert.equal(typeof inactive.status_transitions.deactivated_at, 'number');
    const listed = await h.stripe.billing.meters.list({ status: 'inactive' });
    assert.deepEqual(
      listed.data.map((m) => m.id),
      [created.id],
    );
    await assert.rejects(
      report('api_call', 1, day0),
      invalid({ status: 400, param: 'event_name', message: /No active meter/ }),
    );
    const active = await h.stripe.billing.meters.reactivate(created.id);
    assert.equal(active.status, 'active');
    assert.equal(active.status_transitions.deactivated_at, null);
    const types = [
      ...h.emulator.emulator.partition(null, false).table<{ id: string; type: string }>('event').values(),
    ]
      .map((e) => e.type)
      .filter((type) => type.startsWith('billing.meter.'));
    assert.deepEqual(types, [
      'billing.meter.created',
      'billing.meter.updated',
      'billing.meter.deactivated',
      'billing.meter.reactivated',
    ]);
  });

  it('records a meter event shaped like Stripe and refuses a repeated identifier', async () => {
    await meter('dedupe_event', 'sum');
    const event = await report('dedupe_event', 5, day0 + 10, 'evt-1');
    assert.deepEqual(event, {
      object: 'billing.meter_event',
      created: event.created,
      event_name: 'dedupe_event',
      identifier: 'evt-1',
      livemode: false,
      payload: { stripe_customer_id: customer.id, value: '5' },
      timestamp: day0 + 10,
    });
    await assert.rejects(
      report('dedupe_event', 5, day0 + 10, 'evt-1'),
      invalid({ status: 400, message: /^An event already exists with identifier evt-1\.$/ }),
    );
    const generated = await report('dedupe_event', 1, day0 + 20);
    assert.ok(generated.identifier.length > 0);
  });

  it('aggregates sum, count and last over the whole range and per window', async () => {
    const sum = await meter('tokens', 'sum');
    const count = await meter('requests', 'count');
    const last = await meter('seats', 'last');
    const times = [day0 + 60, day0 + HOUR + 5, day0 + HOUR + 50, day0 + DAY + 10];
    const values = [3, 4, 6, 10];
    for (const [i, t] of times.entries()) {
      await report('tokens', values[i] as number, t);
      await report('requests', 1, t);
      await report('seats', values[i] as number, t);
    }
    const summaries = async (
      id: string,
      params: Partial<Stripe.Billing.MeterListEventSummariesParams> = {},
    ) =>
      (
        await h.stripe.billing.meters.listEventSummaries(id, {
          customer: customer.id,
          start_time: day0,
          end_time: day0 + 2 * DAY,
          ...params,
        })
      ).data;

    const whole = await summaries(sum.id);
    assert.equal(whole.length, 1);
    assert.deepEqual(
      { ...whole[0], id: undefined },
      {
        id: undefined,
        object: 'billing.meter_event_summary',
        aggregated_value: 23,
        end_time: day0 + 2 * DAY,
        livemode: false,
        meter: sum.id,
        start_time: day0,
      },
    );
    assert.equal((await summaries(count.id))[0]?.aggregated_value, 4);
    assert.equal((await summaries(last.id))[0]?.aggregated_value, 10);

    const daily = await summaries(sum.id, { value_grouping_window: 'day' });
    assert.deepEqual(
      daily.map((s) => [s.start_time, s.end_time, s.aggregated_value]),
      [
        [day0 + DAY, day0 + 2 * DAY, 10],
        [day0, day0 + DAY, 13],
      ],
    );
    const hourly = await summaries(last.id, { value_grouping_window: 'hour', end_time: day0 + DAY });
    assert.deepEqual(
      hourly.map((s) => [s.start_time, s.aggregated_value]),
      [
        [day0 + HOUR, 6],
        [day0, 3],
      ],
    );
    const hourlyCount = await summaries(count.id, { value_grouping_window: 'hour', limit: 1 });
    assert.equal(hourlyCount.length, 1);
    const next = await summaries(count.id, {
      value_grouping_window: 'hour',
      starting_after: hourlyCount[0]?.id as string,
    });
    assert.deepEqual(
      next.map((s) => s.aggregated_value),
      [2, 1],
    );
    assert.equal(
      meterUsage(
        h.emulator.emulator.scope(h.emulator.emulator.partition(null, false)),
        sum.id,
        customer.id,
        day0,
        day0 + DAY,
      ),
      13,
    );
  });

  it('cancels an event with a meter event adjustment', async () => {
    const cancellable = await meter('cancellable', 'sum');
    await report('cancellable', 7, day0 + 100, 'keep');
    await report('cancellable', 9, day0 + 200, 'drop');
    const adjustment = await h.stripe.billing.meterEventAdjustments.create({
      event_name: 'cancellable',
      type: 'cancel',
      cancel: { identifier: 'drop' },
    });
    assert.deepEqual(adjustment, {
      object: 'billing.meter_event_adjustment',
      cancel: { identifier: 'drop' },
      event_name: 'cancellable',
      livemode: false,
      status: 'pending',
      type: 'cancel',
    });
    const [summary] = (
      await h.stripe.billing.meters.listEventSummaries(cancellable.id, {
        customer: customer.id,
        start_time: day0,
        end_time: day0 + DAY,
      })
    ).data;
    assert.equal(summary?.aggregated_value, 7);
    await assert.rejects(
      h.stripe.billing.meterEventAdjustments.create({
        event_name: 'cancellable',
        type: 'cancel',
        cancel: { identifier: 'drop' },
      }),
      invalid({ status: 400, param: 'cancel[identifier]' }),
    );
  });

  it('answers bad meter and event parameters with Stripe error shapes', async () => {
    await meter('strict', 'sum');
    await assert.rejects(meter('strict', 'sum'), invalid({ status: 400, param: 'event_name' }));
    await assert.rejects(
      h.stripe.billing.meters.create({
        display_name: 'x',
        event_name: 'y',
        default_aggregation: { formula: 'median' as 'sum' },
      }),
      invalid({ param: 'default_aggregation[formula]' }),
    );
    await assert.rejects(
      h.stripe.billing.meters.create({
        display_name: 'x',
        event_name: 'z',
      } as Stripe.Billing.MeterCreateParams),
      invalid({ code: 'parameter_missing', param: 'default_aggregation' }),
    );
    await assert.rejects(report('nobody_listens', 1, day0), invalid({ status: 400, param: 'event_name' }));
    await assert.rejects(
      h.stripe.billing.meterEvents.create({
        event_name: 'strict',
        payload: { stripe_customer_id: customer.id, value: 'ten' },
      }),
      invalid({ status: 400, param: 'payload[value]' }),
    );
    await assert.rejects(
      h.stripe.billing.meterEvents.create({ event_name: 'strict', payload: { value: '1' } }),
      invalid({ code: 'parameter_missing', param: 'payload[stripe_customer_id]' }),
    );
    await assert.rejects(report('strict', 1, day0 - 40 * DAY), invalid({ status: 400, param: 'timestamp' }));
    await assert.rejects(
      h.stripe.billing.meters.listEventSummaries('mtr_missing', {
        customer: customer.id,
        start_time: day0,
        end_time: day0 + 60,
      }),
      invalid({ status: 404, code: 'resource_missing' }),
    );
    const strict = (await h.stripe.billing.meters.list({ status: 'active' })).data.find(
      (m) => m.event_name === 'strict',
    );
    await assert.rejects(
      h.stripe.billing.meters.listEventSummaries(strict?.id as string, {
        customer: customer.id,
        start_time: day0 + 1,
        end_time: day0 + 60,
      }),
      invalid({ status: 400, param: 'start_time' }),
    );
  });
});
