import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { refreshActiveEntitlements } from '../src/catalog/index.ts';
import { type Harness, startHarness } from './support.ts';

type StoredEvent = {
  type: string;
  request: unknown;
  data: { object: unknown; previous_attributes?: unknown };
};
type SubscriptionRow = {
  id: string;
  object: 'subscription';
  customer: string;
  status: string;
  items: unknown;
};

const invalid =
  (expected: { status?: number; code?: string; param?: string }) => (error: Stripe.errors.StripeError) => {
    assert.equal(error.type, 'StripeInvalidRequestError');
    if (expected.status !== undefined) assert.equal(error.statusCode, expected.status);
    if (expected.code !== undefined) assert.equal(error.code, expected.code);
    if (expected.param !== undefined) assert.equal(error.param, expected.param);
    return true;
  };

describe('entitlement features and product features', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('creates, retrieves, updates and lists features', async () => {
    const feature = await h.stripe.entitlements.features.create({
      name: 'API access',
      lookup_key: 'api_access',
      metadata: { tier: 'pro' },
    });
    assert.match(feature.id, /^feat_test_[A-Za-z0-9]{32}$/);
    assert.deepEqual(Object.keys(feature).sort(), [
      'active',
      'id',
      'livemode',
      'lookup_key',
      'metadata',
      'name',
      'object',
    ]);
    assert.equal(feature.object, 'entitlements.feature');
    assert.equal((await h.stripe.entitlements.features.retrieve(feature.id)).lookup_key, 'api_access');
    const renamed = await h.stripe.entitlements.features.update(feature.id, {
      name: 'API',
      metadata: { tier: '' },
    });
    assert.equal(renamed.name, 'API');
    assert.deepEqual(renamed.metadata, {});
    const other = await h.stripe.entitlements.features.create({ name: 'SSO', lookup_key: 'sso' });
    await h.stripe.entitlements.features.update(other.id, { active: false });
    const byKey = await h.stripe.entitlements.features.list({ lookup_key: 'api_access' });
    assert.deepEqual(
      byKey.data.map((f) => f.id),
      [feature.id],
    );
    const archived = await h.stripe.entitlements.features.list({ archived: true });
    assert.deepEqual(
      archived.data.map((f) => f.id),
      [other.id],
    );
    const live = await h.stripe.entitlements.features.list({ archived: false });
    assert.ok(live.data.every((f) => f.active));
  });

  it('keeps lookup keys unique among active features', async () => {
    const first = await h.stripe.entitlements.features.create({ name: 'Seats', lookup_key: 'seats' });
    await assert.rejects(
      h.stripe.entitlements.features.create({ name: 'Seats again', lookup_key: 'seats' }),
      invalid({ status: 400, param: 'lookup_key' }),
    );
    await h.stripe.entitlements.features.update(first.id, { active: false });
    const second = await h.stripe.entitlements.features.create({ name: 'Seats v2', lookup_key: 'seats' });
    assert.equal(second.lookup_key, 'seats');
    await assert.rejects(
      h.stripe.entitlements.features.update(first.id, { active: true }),
      invalid({ status: 400, param: 'lookup_key' }),
    );
  });

  it('attaches, lists, retrieves and detaches product features', async () => {
    const product = await h.stripe.products.create({ name: 'Team' });
    const feature = await h.stripe.entitlements.features.create({
      name: 'Audit log',
      lookup_key: 'audit_log',
    });
    const attached = await h.stripe.products.createFeature(product.id, { entitlement_feature: feature.id });
    assert.match(attached.id, /^prodft_/);
    assert.equal(attached.object, 'product_feature');
    assert.deepEqual(attached.entitlement_feature, feature);
    const listed = await h.stripe.products.listFeatures(product.id);
    assert.deepEqual(
      listed.data.map((f) => f.id),
      [attached.id],
    );
    assert.equal((await h.stripe.products.retrieveFeature(product.id, attached.id)).id, attached.id);
    await assert.rejects(
      h.stripe.products.createFeature(product.id, { entitlement_feature: feature.id }),
      invalid({ status: 400, param: 'entitlement_feature' }),
    );
    const deleted = await h.stripe.products.deleteFeature(product.id, attached.id);
    assert.deepEqual(deleted, { id: attached.id, object: 'product_feature', deleted: true });
    assert.equal((await h.stripe.products.listFeatures(product.id)).data.length, 0);
    await assert.rejects(
      h.stripe.products.retrieveFeature(product.id, attached.id),
      invalid({ status: 404, code: 'resource_missing' }),
    );
  });

  it('refuses unknown and archived features', async () => {
    const product = await h.stripe.products.create({ name: 'Refusals' });
    await assert.rejects(
      h.stripe.products.createFeature(product.id, { entitlement_feature: 'feat_missing' }),
      invalid({ status: 404, code: 'resource_missing', param: 'entitlement_feature' }),
    );
    const archived = await h.stripe.entitlements.features.create({ name: 'Old', lookup_key: 'old' });
    await h.stripe.entitlements.features.update(archived.id, { active: false });
    await assert.rejects(
      h.stripe.products.createFeature(product.id, { entitlement_feature: archived.id }),
      invalid({ status: 400, param: 'entitlement_feature' }),
    );
    await assert.rejects(
      h.stripe.products.listFeatures('prod_missing'),
      invalid({ status: 404, code: 'resource_missing' }),
    );
  });
});

describe('active entitlements', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  const partition = () => h.emulator.emulator.partition(null, false);
  const scope = () => h.emulator.emulator.scope(partition());
  const summaryEvents = (customer: string) =>
    [...partition().table<StoredEvent & { id: string }>('event').values()].filter(
      (event) =>
        event.type === 'entitlements.active_entitlement_summary.updated' &&
        (event.data.object as Stripe.Entitlements.ActiveEntitlementSummary).customer === customer,
    );

  /**
   * Subscriptions belong to the billing engine; these tests write the rows it would write, with
   * only the fields entitlements read.
   */
  let subscriptions = 0;
  function subscribe(customer: string, priceOrProduct: unknown, status: string): SubscriptionRow {
    subscriptions += 1;
    return partition()
      .table<SubscriptionRow>('subscription')
      .insert({
        id: `sub_test_${subscriptions}`,
        object: 'subscription',
        customer,
        status,
        items: { object: 'list', data: [{ price: priceOrProduct }] },
      });
  }
  const setStatus = (row: SubscriptionRow, status: string) =>
    partition()
      .table<SubscriptionRow>('subscription')
      .replace({ ...row, status });

  async function productWithFeatures(name: string, keys: string[]) {
    const product = await h.stripe.products.create({
      name,
      default_price_data: { currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' } },
    });
    const features = [];
    for (const key of keys) {
      const feature = await h.stripe.entitlements.features.create({ name: key, lookup_key: key });
      await h.stripe.products.createFeature(product.id, { entitlement_feature: feature.id });
      features.push(feature);
    }
    return { product, features };
  }

  it('derives entitlements from entitling subscriptions and emits the summary on change', async () => {
    const { product, features } = await productWithFeatures('Pro', ['pro_reports', 'pro_exports']);
    const customer = await h.stripe.customers.create({ email: 'ent@example.com' });
    const empty = await h.stripe.entitlements.activeEntitlements.list({ customer: customer.id });
    assert.deepEqual(empty.data, []);

    const sub = subscribe(customer.id, { id: product.default_price, product: product.id }, 'trialing');
    const summary = refreshActiveEntitlements(scope(), customer.id);
    assert.equal(summary.object, 'entitlements.active_entitlement_summary');
    assert.deepEqual(summary.entitlements.data.map((e) => e.lookup_key).sort(), [
      'pro_exports',
      'pro_reports',
    ]);
    const listed = await h.stripe.entitlements.activeEntitlements.list({ customer: customer.id });
    assert.deepEqual(listed.data.map((e) => e.feature).sort(), features.map((f) => f.id).sort());
    const one = listed.data[0] as Stripe.Entitlements.ActiveEntitlement;
    assert.match(one.id, /^ent_test_/);
    assert.deepEqual(Object.keys(one).sort(), ['feature', 'id', 'livemode', 'lookup_key', 'object']);
    const fetched = await h.stripe.entitlements.activeEntitlements.retrieve(one.id, { expand: ['feature'] });
    assert.equal((fetched.feature as Stripe.Entitlements.Feature).object, 'entitlements.feature');

    const events = summaryEvents(customer.id);
    assert.equal(events.length, 1);
    assert.deepEqual(events[0]?.request, { id: null, idempotency_key: null });
    assert.deepEqual(events[0]?.data.previous_attributes, { entitlements: { data: [] } });

    refreshActiveEntitlements(scope(), customer.id);
    assert.equal(summaryEvents(customer.id).length, 1, 'an unchanged set emits nothing');

    setStatus(sub, 'past_due');
    assert.equal(refreshActiveEntitlements(scope(), customer.id).entitlements.data.length, 2);
    setStatus(sub, 'canceled');
    assert.deepEqual(refreshActiveEntitlements(scope(), customer.id).entitlements.data, []);
    const after = summaryEvents(customer.id);
    assert.equal(after.length, 2);
    const previous = after[1]?.data.previous_attributes as { entitlements: { data: { id: string }[] } };
    assert.deepEqual(previous.entitlements.data.map((e) => e.id).sort(), listed.data.map((e) => e.id).sort());
    await assert.rejects(
      h.stripe.entitlements.activeEntitlements.retrieve(one.id),
      invalid({ status: 404, code: 'resource_missing' }),
    );
  });

  it('follows features attached to, detached from and archived on subscribed products', async () => {
    const { product } = await productWithFeatures('Plus', []);
    const customer = await h.stripe.customers.create({});
    subscribe(customer.id, product.default_price, 'active');
    const keys = async () =>
      (await h.stripe.entitlements.activeEntitlements.list({ customer: customer.id })).data.map(
        (e) => e.lookup_key,
      );
    assert.deepEqual(await keys(), []);
    const feature = await h.stripe.entitlements.features.create({
      name: 'Plus chat',
      lookup_key: 'plus_chat',
    });
    const attached = await h.stripe.products.createFeature(product.id, { entitlement_feature: feature.id });
    assert.equal(summaryEvents(customer.id).length, 1, 'attaching grants at once');
    assert.deepEqual(await keys(), ['plus_chat']);
    await h.stripe.entitlements.features.update(feature.id, { active: false });
    assert.deepEqual(await keys(), []);
    await h.stripe.entitlements.features.update(feature.id, { active: true });
    assert.deepEqual(await keys(), ['plus_chat']);
    await h.stripe.products.deleteFeature(product.id, attached.id);
    assert.deepEqual(await keys(), []);
  });

  it('requires an existing customer', async () => {
    await assert.rejects(
      h.stripe.entitlements.activeEntitlements.list({} as Stripe.Entitlements.ActiveEntitlementListParams),
      invalid({ code: 'parameter_missing', param: 'customer' }),
    );
    await assert.rejects(
      h.stripe.entitlements.activeEntitlements.list({ customer: 'cus_missing' }),
      invalid({ status: 404, param: 'customer' }),
    );
  });
});
