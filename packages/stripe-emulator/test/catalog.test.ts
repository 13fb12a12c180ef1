import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { type Harness, startHarness } from './support.ts';

const rejectsWith =
  (expected: { status?: number; code?: string; param?: string; message?: RegExp }) =>
  (error: Stripe.errors.StripeError) => {
    assert.equal(error.type, 'StripeInvalidRequestError');
    if (expected.status !== undefined) assert.equal(error.statusCode, expected.status);
    if (expected.code !== undefined) assert.equal(error.code, expected.code);
    if (expected.param !== undefined) assert.equal(error.param, expected.param);
    if (expected.message !== undefined) assert.match(error.message, expected.message);
    return true;
  };

const PRODUCT_KEYS = [
  'active',
  'created',
  'default_price',
  'description',
  'id',
  'images',
  'livemode',
  'marketing_features',
  'metadata',
  'name',
  'object',
  'package_dimensions',
  'shippable',
  'statement_descriptor',
  'tax_code',
  'tax_details',
  'type',
  'unit_label',
  'updated',
  'url',
];

const PRICE_KEYS = [
  'active',
  'billing_scheme',
  'created',
  'currency',
  'custom_unit_amount',
  'id',
  'livemode',
  'lookup_key',
  'metadata',
  'nickname',
  'object',
  'product',
  'recurring',
  'tax_behavior',
  'tiers_mode',
  'transform_quantity',
  'type',
  'unit_amount',
  'unit_amount_decimal',
];

type StoredEvent = {
  id: string;
  type: string;
  data: { object: { id?: string }; previous_attributes?: unknown };
};

/** The events recorded about one object, oldest first (read from the emulator's store). */
const eventsAbout = (h: Harness, objectId: string) =>
  [...h.emulator.emulator.partition(null, false).table<StoredEvent>('event').values()].filter(
    (event) => event.data.object.id === objectId,
  );

/** The types of the events about any of the objects, in the order they were recorded. */
const eventOrder = (h: Harness, objectIds: string[]) =>
  [...h.emulator.emulator.partition(null, false).table<StoredEvent>('event').values()]
    .filter((event) => objectIds.includes(event.data.object.id ?? ''))
    .map((event) => event.type);

const eventTypes = async (h: Harness, objectId: string) =>
  eventsAbout(h, objectId).map((event) => event.type);

describe('products through the official SDK', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('creates, retrieves, updates and deletes a product, with events', async () => {
    const product = await h.stripe.products.create({
      name: 'Pro',
      description: 'The pro plan',
      metadata: { plan: 'pro' },
      tax_code: 'txcd_10103001',
    });
    assert.match(product.id, /^prod_/);
    assert.deepEqual(Object.keys(product).sort(), PRODUCT_KEYS);
    assert.equal(product.type, 'service');
    assert.equal(product.tax_code, 'txcd_10103001');
    assert.equal((await h.stripe.products.retrieve(product.id)).name, 'Pro');
    const updated = await h.stripe.products.update(product.id, {
      name: 'Pro+',
      description: '',
      metadata: { plan: '' },
    });
    assert.equal(updated.name, 'Pro+');
    assert.equal(updated.description, null);
    assert.deepEqual(updated.metadata, {});
    const deleted = await h.stripe.products.del(product.id);
    assert.deepEqual(deleted, { id: product.id, object: 'product', deleted: true });
    assert.equal((await h.stripe.products.retrieve(product.id)).deleted, true);
    assert.deepEqual(await eventTypes(h, product.id), [
      'product.created',
      'product.updated',
      'product.deleted',
    ]);
  });

  it('accepts a custom id and refuses to reuse it', async () => {
    const product = await h.stripe.products.create({ id: 'plan_custom', name: 'Custom', active: false });
    assert.equal(product.id, 'plan_custom');
    assert.equal(product.active, false);
    await assert.rejects(
      h.stripe.products.create({ id: 'plan_custom', name: 'Again' }),
      rejectsWith({ status: 400, code: 'resource_already_exists', param: 'id' }),
    );
  });

  it('creates the default price from default_price_data', async () => {
    const product = await h.stripe.products.create({
      name: 'With price',
      default_price_data: { currency: 'USD', unit_amount: 1500, recurring: { interval: 'month' } },
      expand: ['default_price'],
    });
    const price = product.default_price as Stripe.Price;
    assert.equal(price.object, 'price');
    assert.equal(price.product, product.id);
    assert.equal(price.currency, 'usd');
    assert.equal(price.unit_amount, 1500);
    assert.equal(price.recurring?.interval, 'month');
    assert.deepEqual(eventOrder(h, [product.id, price.id]), ['product.created', 'price.created']);
  });

  it('refuses to delete a product that has prices', async () => {
    const product = await h.stripe.products.create({
      name: 'Priced',
      default_price_data: { currency: 'usd', unit_amount: 100 },
    });
    await assert.rejects(
      h.stripe.products.del(product.id),
      rejectsWith({ status: 400, message: /cannot be deleted/ }),
    );
  });

  it('sets default_price only to an active price of the same product', async () => {
    const product = await h.stripe.products.create({ name: 'Switch' });
    const other = await h.stripe.products.create({ name: 'Other' });
    const mine = await h.stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 10 });
    const theirs = await h.stripe.prices.create({ product: other.id, currency: 'usd', unit_amount: 10 });
    const updated = await h.stripe.products.update(product.id, { default_price: mine.id });
    assert.equal(updated.default_price, mine.id);
    await assert.rejects(
      h.stripe.products.update(product.id, { default_price: theirs.id }),
      rejectsWith({ status: 400, param: 'default_price' }),
    );
    await assert.rejects(
      h.stripe.products.update(product.id, { default_price: 'price_missing' }),
      rejectsWith({ status: 404, code: 'resource_missing', param: 'default_price' }),
    );
  });

  it('lists with active, ids and created filters', async () => {
    const a = await h.stripe.products.create({ name: 'List A' });
    const b = await h.stripe.products.create({ name: 'List B', active: false });
    const byIds = await h.stripe.products.list({ ids: [a.id, b.id] });
    assert.deepEqual(
      byIds.data.map((p) => p.id),
      [b.id, a.id],
    );
    const inactive = await h.stripe.products.list({ ids: [a.id, b.id], active: false });
    assert.deepEqual(
      inactive.data.map((p) => p.id),
      [b.id],
    );
    const future = await h.stripe.products.list({ created: { gt: a.created + 3600 } });
    assert.equal(future.data.length, 0);
  });

  it('searches by name, active and metadata', async () => {
    await h.stripe.products.create({ name: 'Searchable Gold', metadata: { tier: 'gold' } });
    await h.stripe.products.create({
      name: 'Searchable Silver',
      active: false,
      metadata: { tier: 'silver' },
    });
    const gold = await h.stripe.products.search({ query: "metadata['tier']:'gold'" });
    assert.deepEqual(
      gold.data.map((p) => p.name),
      ['Searchable Gold'],
    );
    const active = await h.stripe.products.search({ query: "name~'Searchable' AND active:'true'" });
    assert.deepEqual(
      active.data.map((p) => p.name),
      ['Searchable Gold'],
    );
    const exact = await h.stripe.products.search({ query: "name:'Searchable Silver'" });
    assert.equal(exact.data[0]?.active, false);
  });

  it('rejects a missing name and unknown parameters', async () => {
    await assert.rejects(
      h.stripe.products.create({} as Stripe.ProductCreateParams),
      rejectsWith({ code: 'parameter_missing', param: 'name' }),
    );
    await assert.rejects(
      h.stripe.products.create({ name: 'x', colour: 'red' } as Stripe.ProductCreateParams),
      rejectsWith({ code: 'parameter_unknown', param: 'colour' }),
    );
    await assert.rejects(
      h.stripe.products.retrieve('prod_missing'),
      rejectsWith({ status: 404, code: 'resource_missing', param: 'id' }),
    );
  });
});

describe('prices through the official SDK', () => {
  let h: Harness;
  let product: Stripe.Product;
  before(async () => {
    h = await startHarness();
    product = await h.stripe.products.create({ name: 'Catalog' });
  });
  after(() => h.close());

  it('creates recurring and one-time prices shaped like Stripe', async () => {
    const monthly = await h.stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 2000,
      recurring: { interval: 'month' },
      nickname: 'Monthly',
      metadata: { plan: 'pro' },
      tax_behavior: 'exclusive',
    });
    assert.match(monthly.id, /^price_/);
    assert.deepEqual(Object.keys(monthly).sort(), PRICE_KEYS);
    assert.equal(monthly.type, 'recurring');
    assert.deepEqual(monthly.recurring, {
      interval: 'month',
      interval_count: 1,
      meter: null,
      trial_period_days: null,
      usage_type: 'licensed',
    });
    assert.equal(String(monthly.unit_amount_decimal), '2000');
    assert.equal(monthly.tax_behavior, 'exclusive');
    const once = await h.stripe.prices.create({
      product: product.id,
      currency: 'eur',
      unit_amount_decimal: Stripe.Decimal.from('12.50'),
    });
    assert.equal(once.type, 'one_time');
    assert.equal(once.recurring, null);
    assert.equal(once.unit_amount, null);
    assert.equal(String(once.unit_amount_decimal), '12.5');
    assert.equal(once.tax_behavior, 'unspecified');
    const whole = await h.stripe.prices.create({
      product: product.id,
      currency: 'eur',
      unit_amount_decimal: Stripe.Decimal.from('300'),
    });
    assert.equal(whole.unit_amount, 300);
    assert.deepEqual(await eventTypes(h, monthly.id), ['price.created']);
  });

  it('creates a metered price backed by a meter', async () => {
    const meter = await h.stripe.billing.meters.create({
      display_name: 'Tokens',
      event_name: 'catalog_tokens',
      default_aggregation: { formula: 'sum' },
    });
    const metered = await h.stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount_decimal: Stripe.Decimal.from('0.5'),
      recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
    });
    assert.equal(metered.recurring?.usage_type, 'metered');
    assert.equal(metered.recurring?.meter, meter.id);
    const byMeter = await h.stripe.prices.list({ recurring: { meter: meter.id } });
    assert.deepEqual(
      byMeter.data.map((p) => p.id),
      [metered.id],
    );
  });

  it('creates the product from product_data', async () => {
    const price = await h.stripe.prices.create({
      product_data: { name: 'Inline', metadata: { source: 'inline' } },
      currency: 'usd',
      unit_amount: 500,
      expand: ['product'],
    });
    const inline = price.product as Stripe.Product;
    assert.equal(inline.name, 'Inline');
    assert.deepEqual(inline.metadata, { source: 'inline' });
  });

  it('accepts tiered prices and shows tiers only when expanded', async () => {
    const tiered = await h.stripe.prices.create({
      product: product.id,
      currency: 'usd',
      billing_scheme: 'tiered',
      tiers_mode: 'graduated',
      recurring: { interval: 'month' },
      tiers: [
        { up_to: 10, unit_amount: 100 },
        { up_to: 'inf', unit_amount: 50, flat_amount: 1000 },
      ],
    });
    assert.equal(tiered.billing_scheme, 'tiered');
    assert.equal(tiered.unit_amount, null);
    assert.equal('tiers' in tiered, false);
    const expanded = await h.stripe.prices.retrieve(tiered.id, { expand: ['tiers'] });
    const tiers = expanded.tiers?.map((tier) => ({
      ...tier,
      flat_amount_decimal: tier.flat_amount_decimal && String(tier.flat_amount_decimal),
      unit_amount_decimal: tier.unit_amount_decimal && String(tier.unit_amount_decimal),
    }));
    assert.deepEqual(tiers, [
      {
        flat_amount: null,
        flat_amount_decimal: null,
        unit_amount: 100,
        unit_amount_decimal: '100',
        up_to: 10,
      },
      {
        flat_amount: 1000,
        flat_amount_decimal: '1000',
        unit_amount: 50,
        unit_amount_decimal: '50',
        up_to: null,
      },
    ]);
    const listed = await h.stripe.prices.list({ product: product.id, expand: ['data.tiers'] });
    assert.ok(listed.data.length > 1);
    await assert.rejects(
      h.stripe.prices.create({
        product: product.id,
        currency: 'usd',
        billing_scheme: 'tiered',
        tiers_mode: 'volume',
        recurring: { interval: 'month' },
        tiers: [{ up_to: 10, unit_amount: 100 }],
      }),
      rejectsWith({ param: 'tiers[0][up_to]' }),
    );
  });

  it('keeps lookup keys unique and moves them with transfer_lookup_key', async () => {
    const first = await h.stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 1000,
      lookup_key: 'pro_monthly',
    });
    await assert.rejects(
      h.stripe.prices.create({
        product: product.id,
        currency: 'usd',
        unit_amount: 1200,
        lookup_key: 'pro_monthly',
      }),
      rejectsWith({ status: 400, param: 'lookup_key', message: /already uses that lookup key/ }),
    );
    const second = await h.stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 1200,
      lookup_key: 'pro_monthly',
      transfer_lookup_key: true,
    });
    assert.equal(second.lookup_key, 'pro_monthly');
    assert.equal((await h.stripe.prices.retrieve(first.id)).lookup_key, null);
    assert.deepEqual(await eventTypes(h, first.id), ['price.created', 'price.updated']);
    await assert.rejects(
      h.stripe.prices.update(first.id, { lookup_key: 'pro_monthly' }),
      rejectsWith({ param: 'lookup_key' }),
    );
    const back = await h.stripe.prices.update(first.id, {
      lookup_key: 'pro_monthly',
      transfer_lookup_key: true,
    });
    assert.equal(back.lookup_key, 'pro_monthly');
    const productsBefore = (await h.stripe.products.list({ limit: 100 })).data.length;
    await assert.rejects(
      h.stripe.prices.create({
        product_data: { name: 'Orphan' },
        currency: 'usd',
        unit_amount: 1,
        lookup_key: 'pro_monthly',
      }),
      rejectsWith({ param: 'lookup_key' }),
    );
    assert.equal((await h.stripe.products.list({ limit: 100 })).data.length, productsBefore);
    const byKey = await h.stripe.prices.list({ lookup_keys: ['pro_monthly', 'nothing'] });
    assert.deepEqual(
      byKey.data.map((p) => p.id),
      [first.id],
    );
  });

  it('updates active, nickname and metadata and emits price.updated', async () => {
    const price = await h.stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 1 });
    const updated = await h.stripe.prices.update(price.id, {
      active: false,
      nickname: 'Old',
      metadata: { a: '1' },
    });
    assert.equal(updated.active, false);
    assert.equal(updated.nickname, 'Old');
    assert.deepEqual(updated.metadata, { a: '1' });
    const event = eventsAbout(h, price.id).find((e) => e.type === 'price.updated');
    assert.deepEqual(event?.data.previous_attributes, { active: true, metadata: {}, nickname: null });
  });

  it('lists with product, type, currency, active and recurring filters', async () => {
    const own = await h.stripe.products.create({ name: 'Filters' });
    const monthly = await h.stripe.prices.create({
      product: own.id,
      currency: 'usd',
      unit_amount: 1,
      recurring: { interval: 'month' },
    });
    const yearly = await h.stripe.prices.create({
      product: own.id,
      currency: 'usd',
      unit_amount: 10,
      recurring: { interval: 'year' },
      active: false,
    });
    const once = await h.stripe.prices.create({ product: own.id, currency: 'gbp', unit_amount: 5 });
    const ids = async (params: Stripe.PriceListParams) =>
      (await h.stripe.prices.list({ product: own.id, ...params })).data.map((p) => p.id);
    assert.deepEqual(await ids({}), [once.id, yearly.id, monthly.id]);
    assert.deepEqual(await ids({ type: 'one_time' }), [once.id]);
    assert.deepEqual(await ids({ currency: 'usd' }), [yearly.id, monthly.id]);
    assert.deepEqual(await ids({ active: true }), [once.id, monthly.id]);
    assert.deepEqual(await ids({ recurring: { interval: 'year' } }), [yearly.id]);
    assert.deepEqual(await ids({ created: { lt: monthly.created } }), []);
  });

  it('searches prices', async () => {
    const price = await h.stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 77,
      lookup_key: 'searchable_key',
      metadata: { kind: 'searchable' },
    });
    const hits = await h.stripe.prices.search({ query: "lookup_key:'searchable_key' AND active:'true'" });
    assert.deepEqual(
      hits.data.map((p) => p.id),
      [price.id],
    );
    const byMeta = await h.stripe.prices.search({ query: "metadata['kind']:'searchable'" });
    assert.equal(byMeta.data[0]?.id, price.id);
  });

  it('answers bad parameters with Stripe error shapes', async () => {
    await assert.rejects(
      h.stripe.prices.create({ currency: 'usd', unit_amount: 1 }),
      rejectsWith({ status: 400, param: 'product' }),
    );
    await assert.rejects(
      h.stripe.prices.create({ product: 'prod_missing', currency: 'usd', unit_amount: 1 }),
      rejectsWith({ status: 404, code: 'resource_missing', param: 'product' }),
    );
    await assert.rejects(
      h.stripe.prices.create({ product: product.id, currency: 'usd' }),
      rejectsWith({ code: 'parameter_missing', param: 'unit_amount' }),
    );
    await assert.rejects(
      h.stripe.prices.create({
        product: product.id,
        currency: 'usd',
        unit_amount: 1,
        unit_amount_decimal: Stripe.Decimal.from('1'),
      }),
      rejectsWith({ param: 'unit_amount_decimal', message: /only specify one/ }),
    );
    await assert.rejects(
      h.stripe.prices.create({
        product: product.id,
        currency: 'usd',
        unit_amount: 1,
        recurring: { interval: 'fortnight' as 'week' },
      }),
      rejectsWith({ param: 'recurring[interval]' }),
    );
    await assert.rejects(
      h.stripe.prices.create({
        product: product.id,
        currency: 'usd',
        unit_amount: 1,
        recurring: { interval: 'month', usage_type: 'metered' },
      }),
      rejectsWith({ code: 'parameter_missing', param: 'recurring[meter]' }),
    );
    await assert.rejects(
      h.stripe.prices.create({
        product: product.id,
        currency: 'usd',
        unit_amount: 1,
        recurring: { interval: 'month', usage_type: 'metered', meter: 'mtr_missing' },
      }),
      rejectsWith({ status: 404, param: 'recurring[meter]' }),
    );
    await assert.rejects(
      h.stripe.prices.retrieve('price_missing'),
      rejectsWith({ status: 404, code: 'resource_missing' }),
    );
  });
});
