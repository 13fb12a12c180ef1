import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { eventMatcher, typePattern } from '../src/webhooks/index.ts';
import { type Harness, startHarness } from './support.ts';

describe('the events API through the official SDK', () => {
  let h: Harness;
  let customer: Stripe.Customer;
  before(async () => {
    h = await startHarness();
    customer = await h.stripe.customers.create({ email: 'events@example.com' });
    await h.stripe.customers.update(customer.id, { name: 'Eve' });
    await h.stripe.customers.update(customer.id, { name: 'Eva' });
    await h.stripe.customers.del(customer.id);
  });
  after(() => h.close());

  it('lists events newest first and retrieves one by id', async () => {
    const events = await h.stripe.events.list();
    assert.deepEqual(
      events.data.map((event) => event.type),
      ['customer.deleted', 'customer.updated', 'customer.updated', 'customer.created'],
    );
    const [newest] = events.data;
    assert.ok(newest);
    const fetched = await h.stripe.events.retrieve(newest.id);
    assert.deepEqual(fetched, newest);
    assert.equal(fetched.object, 'event');
    assert.equal(fetched.pending_webhooks, 0);
    assert.match(fetched.request?.id ?? '', /^req_/);
  });

  it('filters by type, a wildcard type and a list of types', async () => {
    const updated = await h.stripe.events.list({ type: 'customer.updated' });
    assert.equal(updated.data.length, 2);
    assert.deepEqual(updated.data[0]?.data.previous_attributes, { name: 'Eve' });
    assert.equal((await h.stripe.events.list({ type: 'customer.*' })).data.length, 4);
    assert.equal((await h.stripe.events.list({ type: 'invoice.*' })).data.length, 0);
    const some = await h.stripe.events.list({ types: ['customer.created', 'customer.deleted'] });
    assert.deepEqual(
      some.data.map((event) => event.type),
      ['customer.deleted', 'customer.created'],
    );
    await assert.rejects(
      h.stripe.events.list({ type: 'customer.created', types: ['customer.deleted'] }),
      (error: Stripe.errors.StripeError) => error.statusCode === 400 && error.param === 'type',
    );
  });

  it('filters by created and by delivery_success', async () => {
    const [oldest] = (await h.stripe.events.list({ type: 'customer.created' })).data;
    assert.ok(oldest);
    assert.equal((await h.stripe.events.list({ created: { gte: oldest.created } })).data.length, 4);
    assert.equal((await h.stripe.events.list({ created: { lt: oldest.created } })).data.length, 0);
    assert.equal((await h.stripe.events.list({ delivery_success: true })).data.length, 4);
    assert.equal((await h.stripe.events.list({ delivery_success: false })).data.length, 0);
  });

  it('paginates with cursors and auto-pagination', async () => {
    const first = await h.stripe.events.list({ limit: 3 });
    assert.equal(first.has_more, true);
    const rest = await h.stripe.events.list({ limit: 3, starting_after: first.data[2]?.id });
    assert.equal(rest.data.length, 1);
    assert.equal(rest.has_more, false);
    const all: string[] = [];
    for await (const event of h.stripe.events.list({ limit: 2 })) all.push(event.id);
    assert.equal(all.length, 4);
    assert.equal(new Set(all).size, 4);
  });

  it('answers an unknown event with resource_missing and keeps accounts apart', async () => {
    await assert.rejects(
      h.stripe.events.retrieve('evt_missing'),
      (error: Stripe.errors.StripeError) => error.code === 'resource_missing' && error.statusCode === 404,
    );
    const connected = await h.stripe.events.list({}, { stripeAccount: 'acct_1Elsewhere' });
    assert.equal(connected.data.length, 0);
  });
});

describe('event filters (pure)', () => {
  it('turns type patterns into anchored expressions', () => {
    const cases: [string, string, boolean][] = [
      ['customer.created', 'customer.created', true],
      ['customer.created', 'customer.created.extra', false],
      ['customer.*', 'customer.subscription.updated', true],
      ['*.updated', 'invoice.updated', true],
      ['customer.*', 'customerx.created', false],
      ['invoice.paid', 'invoiceXpaid', false],
    ];
    for (const [pattern, type, expected] of cases)
      assert.equal(typePattern(pattern).test(type), expected, `${pattern} vs ${type}`);
  });

  it('matches delivery_success on pending_webhooks', () => {
    const event = (pending: number) =>
      ({ type: 'customer.created', created: 10, pending_webhooks: pending }) as never;
    assert.equal(eventMatcher({ delivery_success: true })(event(0)), true);
    assert.equal(eventMatcher({ delivery_success: true })(event(2)), false);
    assert.equal(eventMatcher({ delivery_success: false })(event(2)), true);
    assert.equal(eventMatcher({ created: { gt: 10 } })(event(0)), false);
  });
});
