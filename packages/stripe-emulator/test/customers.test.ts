import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import type { StripeError } from '../src/core/errors.ts';
import { createCustomer } from '../src/customers/index.ts';
import { createEmulator } from '../src/index.ts';
import { type Harness, sdkFor, startHarness } from './support.ts';

describe('customers through the official SDK', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('creates, retrieves, updates and deletes a customer', async () => {
    const created = await h.stripe.customers.create({
      email: 'a@example.com',
      metadata: { subledger_account_id: 'acc_1' },
    });
    assert.match(created.id, /^cus_/);
    assert.equal(created.livemode, false);
    const fetched = await h.stripe.customers.retrieve(created.id);
    assert.equal((fetched as Stripe.Customer).email, 'a@example.com');
    const updated = await h.stripe.customers.update(created.id, {
      name: 'Ada',
      metadata: { subledger_account_id: '' },
    });
    assert.equal(updated.name, 'Ada');
    assert.deepEqual(updated.metadata, {});
    const deleted = await h.stripe.customers.del(created.id);
    assert.equal(deleted.deleted, true);
    const again = await h.stripe.customers.retrieve(created.id);
    assert.equal(again.deleted, true);
  });

  it('finds customers by metadata and email with search', async () => {
    await h.stripe.customers.create({ email: 'search@example.com', metadata: { org: 'org_9' } });
    const byMetadata = await h.stripe.customers.search({ query: "metadata['org']:'org_9'" });
    assert.equal(byMetadata.data.length, 1);
    const byEmail = await h.stripe.customers.search({
      query: "email:'search@example.com' AND metadata['org']:'org_9'",
    });
    assert.equal(byEmail.data[0]?.email, 'search@example.com');
  });

  it('paginates newest first with cursors and has_more', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await h.stripe.customers.create({ email: `page${i}@example.com` })).id);
    const first = await h.stripe.customers.list({ limit: 2 });
    assert.equal(first.has_more, true);
    assert.deepEqual(
      first.data.map((c) => c.id),
      [ids[4], ids[3]],
    );
    const next = await h.stripe.customers.list({ limit: 2, starting_after: ids[3] });
    assert.deepEqual(
      next.data.map((c) => c.id),
      [ids[2], ids[1]],
    );
    const back = await h.stripe.customers.list({ limit: 2, ending_before: ids[2] });
    assert.deepEqual(
      back.data.map((c) => c.id),
      [ids[4], ids[3]],
    );
    const all: string[] = [];
    for await (const c of h.stripe.customers.list({ limit: 3, email: 'page1@example.com' })) all.push(c.id);
    assert.deepEqual(all, [ids[1]]);
  });

  it('answers unknown ids and parameters with Stripe error shapes', async () => {
    await assert.rejects(h.stripe.customers.retrieve('cus_missing'), (error: Stripe.errors.StripeError) => {
      assert.equal(error.type, 'StripeInvalidRequestError');
      assert.equal(error.statusCode, 404);
      assert.equal(error.code, 'resource_missing');
      assert.equal(error.param, 'id');
      return true;
    });
    await assert.rejects(
      h.stripe.customers.create({ emial: 'x' } as Stripe.CustomerCreateParams),
      (error: Stripe.errors.StripeError) => error.code === 'parameter_unknown' && error.param === 'emial',
    );
    await assert.rejects(
      h.stripe.customers.create({ balance: 'lots' as unknown as number }),
      (error: Stripe.errors.StripeError) =>
        error.code === 'parameter_invalid_integer' && error.param === 'balance',
    );
  });

  it('refuses an unknown payment_method on create without storing a customer or an event', async () => {
    const partition = h.emulator.emulator.partition(null, false);
    const customers = () => partition.table('customer').size;
    const events = () => [...partition.table<Stripe.Event>('event').values()].map((event) => event.type);
    const [customersBefore, eventsBefore] = [customers(), events().length];
    await assert.rejects(
      h.stripe.customers.create({ email: 'nopm@example.com', payment_method: 'pm_missing' }),
      (error: Stripe.errors.StripeError) =>
        error.statusCode === 404 && error.code === 'resource_missing' && error.param === 'payment_method',
    );
    await assert.rejects(
      h.stripe.customers.create({ payment_method: 'pm_card_chargeDeclined' }),
      (error: Stripe.errors.StripeError) => error.statusCode === 402,
    );
    assert.equal(customers(), customersBefore);
    assert.deepEqual(events().slice(eventsBefore), []);
  });

  it('replays an idempotent request and rejects the key with other parameters', async () => {
    const first = await h.stripe.customers.create({ email: 'idem@example.com' }, { idempotencyKey: 'key-1' });
    const second = await h.stripe.customers.create(
      { email: 'idem@example.com' },
      { idempotencyKey: 'key-1' },
    );
    assert.equal(second.id, first.id);
    await assert.rejects(
      h.stripe.customers.create({ email: 'other@example.com' }, { idempotencyKey: 'key-1' }),
      (error: Stripe.errors.StripeError) => error.type === 'StripeIdempotencyError',
    );
  });

  it('keeps connected accounts and live mode apart', async () => {
    const platform = await h.stripe.customers.create({ email: 'platform@example.com' });
    const connected = await h.stripe.customers.create(
      { email: 'c@example.com' },
      { stripeAccount: 'acct_123' },
    );
    await assert.rejects(h.stripe.customers.retrieve(connected.id));
    const seen = await h.stripe.customers.retrieve(connected.id, {}, { stripeAccount: 'acct_123' });
    assert.equal(seen.id, connected.id);
    const live = sdkFor(h.emulator, 'sk_live_emulator');
    await assert.rejects(live.customers.retrieve(platform.id));
    assert.equal((await live.customers.create({})).livemode, true);
  });

  it('rejects a request without a valid key', async () => {
    const bad = sdkFor(h.emulator, 'not_a_key');
    await assert.rejects(
      bad.customers.list(),
      (error: Stripe.errors.StripeError) => error.statusCode === 401,
    );
  });
});

describe('creating a customer, at the function', () => {
  /** Straight on a scope: no HTTP layer, so nothing rolls a refused create back. */
  function setup() {
    const { emulator } = createEmulator({ seed: 7 });
    const scope = emulator.scope(emulator.partition(null, false));
    const size = (table: string) => scope.partition.table(table).size;
    return { scope, size };
  }

  it('checks payment_method before storing anything', () => {
    const { scope, size } = setup();
    assert.throws(
      () => createCustomer(scope, { payment_method: 'pm_missing' }),
      (error: StripeError) => error.status === 404 && error.body.param === 'payment_method',
    );
    assert.throws(
      () => createCustomer(scope, { payment_method: 'pm_card_chargeDeclined' }),
      (error: StripeError) => error.status === 402 && error.body.code === 'card_declined',
    );
    const owner = createCustomer(scope, { payment_method: 'pm_card_visa' });
    const [attached] = [...scope.partition.table<{ id: string }>('payment_method').values()];
    assert.throws(
      () => createCustomer(scope, { payment_method: attached?.id ?? '' }),
      (error: StripeError) => error.status === 400 && error.body.code === 'payment_method_unexpected_state',
    );
    assert.deepEqual(
      [...scope.partition.table<{ id: string }>('customer').values()].map((c) => c.id),
      [owner.id],
    );
    assert.equal(size('payment_method'), 1);
    assert.deepEqual(
      [...scope.partition.table<Stripe.Event>('event').values()].map((event) => event.type),
      ['customer.created', 'payment_method.attached'],
    );
  });
});
