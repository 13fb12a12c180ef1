import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { customerWithCard } from './billing-fixtures.ts';
import { type Harness, startHarness } from './support.ts';

// Stripe embeds the first page (10 rows) of a subscription's items, an invoice's lines and an
// entitlement summary's entitlements, in its answers and its events alike, with `has_more` when there
// are more; the rest is read from the list's own endpoint.

const PAGE = 10;

type EmbeddedList<T> = { data: T[]; has_more: boolean; total_count?: number; url: string };

const ids = (rows: { id: string }[]) => rows.map((row) => row.id);

/** Stripe's embedded item and line lists carry `total_count`; the SDK's list type leaves it out. */
const totalCount = (list: object) => (list as { total_count?: number }).total_count;

/** The first page of a list of more, as Stripe embeds it: 10 rows, `has_more`, every other field kept. */
function assertFirstPage<T extends { id: string }>(
  embedded: EmbeddedList<T>,
  every: T[],
  url: string,
  message: string,
): void {
  assert.ok(every.length > PAGE, `${message}: the whole list is longer than a page`);
  assert.deepEqual(ids(embedded.data), ids(every.slice(0, PAGE)), message);
  assert.equal(embedded.has_more, true, message);
  assert.equal(embedded.url, url, message);
}

describe('embedded lists are one page, as on Stripe', () => {
  let h: Harness;
  let prices: Stripe.Price[];
  before(async () => {
    h = await startHarness();
    const product = await h.stripe.products.create({ name: 'Seats and add-ons' });
    prices = [];
    for (let index = 0; index < 12; index++)
      prices.push(
        await h.stripe.prices.create({
          product: product.id,
          currency: 'usd',
          unit_amount: 100 + index,
          recurring: { interval: 'month' },
        }),
      );
  });
  after(() => h.close());

  /** A customer with a card, subscribed to the first `count` prices (one item each). */
  async function subscribed(count: number, expand: string[] = []): Promise<Stripe.Subscription> {
    const { customer } = await customerWithCard(h);
    return h.stripe.subscriptions.create({
      customer: customer.id,
      items: prices.slice(0, count).map((price) => ({ price: price.id })),
      expand,
    });
  }

  /** The newest event of `type` about `id`, read back through the API. */
  async function newestEvent(type: string, id: string): Promise<Stripe.Event> {
    const listed = await h.stripe.events.list({ type, limit: 100 });
    const event = listed.data.find((candidate) => (candidate.data.object as { id?: string }).id === id);
    assert.ok(event, `no ${type} event for ${id}`);
    return event;
  }

  it('a subscription of 12 items embeds the first 10 everywhere; the item list pages all 12', async () => {
    const created = await subscribed(12);
    const url = `/v1/subscription_items?subscription=${created.id}`;
    const every = await h.stripe.subscriptionItems
      .list({ subscription: created.id, limit: 5 })
      .autoPagingToArray({ limit: 100 });
    assert.equal(every.length, 12, 'five rows a page, cursor by cursor, reach every item');
    assert.deepEqual(
      every.map((item) => item.price.id),
      prices.map((price) => price.id),
      'in the order they were given',
    );
    assertFirstPage(created.items, every, url, 'the create answer');
    assert.equal(totalCount(created.items), 12, 'total_count counts every item, not the page');
    assertFirstPage((await h.stripe.subscriptions.retrieve(created.id)).items, every, url, 'a retrieve');
    const listed = (await h.stripe.subscriptions.list({ customer: String(created.customer) })).data[0];
    assert.ok(listed);
    assertFirstPage(listed.items, every, url, 'a subscription in a list');
    const event = await newestEvent('customer.subscription.created', created.id);
    assertFirstPage((event.data.object as Stripe.Subscription).items, every, url, 'the created event');
  });

  it('a change beyond the first page is billed, yet the page its events embed does not show it', async () => {
    const created = await subscribed(12);
    const every = await h.stripe.subscriptionItems
      .list({ subscription: created.id })
      .autoPagingToArray({ limit: 100 });
    const eleventh = every[PAGE] as Stripe.SubscriptionItem;
    const updated = await h.stripe.subscriptions.update(created.id, {
      items: [{ id: eleventh.id, quantity: 3 }],
      proration_behavior: 'none',
    });
    assert.deepEqual(updated.items.data, created.items.data, 'the first page is unchanged');
    assert.equal(updated.items.has_more, true);
    const event = await newestEvent('customer.subscription.updated', created.id);
    const previous = event.data.previous_attributes as { items?: EmbeddedList<Stripe.SubscriptionItem> };
    assert.equal(previous.items?.data.length, PAGE, 'previous attributes embed one page too');
    assert.equal((await h.stripe.subscriptionItems.retrieve(eleventh.id)).quantity, 3);
    const upcoming = await h.stripe.invoices.createPreview({ subscription: created.id });
    const perMonth = prices.reduce((sum, price) => sum + (price.unit_amount ?? 0), 0);
    assert.equal(upcoming.amount_due, perMonth + 2 * (prices[PAGE]?.unit_amount ?? 0), 'every item billed');
  });

  it('an invoice of 12 lines embeds the first 10 everywhere; its line list pages all 12', async () => {
    const created = await subscribed(12, ['latest_invoice']);
    const invoice = created.latest_invoice as Stripe.Invoice;
    const url = `/v1/invoices/${invoice.id}/lines`;
    const every = await h.stripe.invoices
      .listLineItems(invoice.id, { limit: 4 })
      .autoPagingToArray({ limit: 100 });
    assert.equal(every.length, 12);
    assertFirstPage(invoice.lines, every, url, 'an invoice expanded into the subscription');
    assert.equal(totalCount(invoice.lines), 12);
    assertFirstPage((await h.stripe.invoices.retrieve(invoice.id)).lines, every, url, 'a retrieve');
    const event = await newestEvent('invoice.created', invoice.id);
    assertFirstPage((event.data.object as Stripe.Invoice).lines, every, url, 'the created event');
    assert.equal(
      invoice.amount_due,
      every.reduce((sum, line) => sum + line.amount, 0),
      'the amount is every line’s, not the page’s',
    );
  });

  it('a summary of 12 entitlements embeds the first 10; the active entitlement list pages all 12', async () => {
    const product = await h.stripe.products.create({ name: 'Everything' });
    for (let index = 0; index < 12; index++) {
      const feature = await h.stripe.entitlements.features.create({
        name: `Feature ${index}`,
        lookup_key: `feature_${index}`,
      });
      await h.stripe.products.createFeature(product.id, { entitlement_feature: feature.id });
    }
    const price = await h.stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 900,
      recurring: { interval: 'month' },
    });
    const { customer } = await customerWithCard(h);
    await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const every = await h.stripe.entitlements.activeEntitlements
      .list({ customer: customer.id, limit: 3 })
      .autoPagingToArray({ limit: 100 });
    assert.equal(every.length, 12);
    const listed = await h.stripe.events.list({
      type: 'entitlements.active_entitlement_summary.updated',
      limit: 100,
    });
    const summary = listed.data
      .map((event) => event.data.object as Stripe.Entitlements.ActiveEntitlementSummary)
      .find((candidate) => candidate.customer === customer.id);
    assert.ok(summary);
    assertFirstPage(summary.entitlements, every, `/v1/customer/${customer.id}/entitlements`, 'the event');
    assert.equal('total_count' in summary.entitlements, false, 'Stripe’s summary list has no total_count');
  });

  it('a list of 10 or fewer is embedded whole, with has_more false', async () => {
    const created = await subscribed(PAGE, ['latest_invoice']);
    assert.equal(created.items.data.length, PAGE);
    assert.equal(created.items.has_more, false);
    assert.equal(totalCount(created.items), PAGE);
    const invoice = created.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.lines.data.length, PAGE);
    assert.equal(invoice.lines.has_more, false);
    const event = await newestEvent('customer.subscription.created', created.id);
    assert.equal((event.data.object as Stripe.Subscription).items.has_more, false);
  });
});
