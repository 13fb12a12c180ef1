import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import {
  advance,
  clockAt,
  customerWithCard,
  eventCount,
  recurringPrice,
  switchCard,
  typesSince,
  utc,
} from './billing-fixtures.ts';
import { type Harness, startHarness } from './support.ts';

describe('invoices through the official SDK', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('bills pending invoice items on a manual invoice: draft → open → paid', async () => {
    const { customer } = await customerWithCard(h);
    const from = eventCount(h);
    const item = await h.stripe.invoiceItems.create({
      customer: customer.id,
      amount: 1000,
      currency: 'usd',
      description: 'One-time setup fee',
    });
    assert.equal(item.invoice, null);
    const draft = await h.stripe.invoices.create({
      customer: customer.id,
      pending_invoice_items_behavior: 'include',
    });
    assert.equal(draft.status, 'draft');
    assert.equal(draft.billing_reason, 'manual');
    assert.equal(draft.amount_due, 1000);
    assert.equal(draft.lines.data[0]?.parent?.invoice_item_details?.invoice_item, item.id);
    assert.equal(draft.number, null);
    const finalized = await h.stripe.invoices.finalizeInvoice(draft.id, { auto_advance: false });
    assert.equal(finalized.status, 'open');
    assert.match(finalized.number ?? '', /^[A-Z0-9]{8}-0001$/);
    const paid = await h.stripe.invoices.pay(finalized.id);
    assert.equal(paid.status, 'paid');
    assert.equal(paid.amount_paid, 1000);
    assert.equal(paid.attempt_count, 1);
    const expanded = await h.stripe.invoices.retrieve(paid.id, { expand: ['payments'] });
    const payment = expanded.payments?.data[0];
    assert.equal(payment?.status, 'paid');
    assert.equal((await h.stripe.invoicePayments.retrieve(payment?.id ?? '')).invoice, paid.id);
    assert.deepEqual(typesSince(h, from, ['invoice']), [
      'invoiceitem.created',
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
      'invoice_payment.paid',
    ]);
    await assert.rejects(
      h.stripe.invoices.pay(paid.id),
      (e: Stripe.errors.StripeError) => e.statusCode === 400,
    );
  });

  it('gives an item made from `amount` an ad-hoc inactive price and product, reused for the same terms', async () => {
    const { customer } = await customerWithCard(h);
    const from = eventCount(h);
    const terms = { customer: customer.id, amount: 1000, currency: 'usd', description: 'One-time setup fee' };
    const item = await h.stripe.invoiceItems.create(terms);
    const details = item.pricing?.price_details;
    assert.match(String(details?.price), /^price_\w{24}$/);
    assert.match(String(details?.product), /^prod_\w{14}$/);
    const price = await h.stripe.prices.retrieve(String(details?.price));
    assert.deepEqual(
      [
        price.active,
        price.type,
        price.unit_amount,
        String(price.unit_amount_decimal),
        price.currency,
        price.product,
      ],
      [false, 'one_time', 1000, '1000', 'usd', details?.product],
    );
    assert.equal((await h.stripe.products.retrieve(String(details?.product))).active, false);
    assert.deepEqual(typesSince(h, from, ['price.', 'product.']), []);
    const again = await h.stripe.invoiceItems.create(terms);
    assert.deepEqual(again.pricing?.price_details, details);
    const other = await h.stripe.invoiceItems.create({ ...terms, amount: 1500 });
    assert.notEqual(other.pricing?.price_details?.price, details?.price);
    const draft = await h.stripe.invoices.create({
      customer: customer.id,
      pending_invoice_items_behavior: 'include',
    });
    const line = draft.lines.data.find((l) => l.parent?.invoice_item_details?.invoice_item === item.id);
    assert.deepEqual(line?.pricing?.price_details, details);
  });

  it('pays with a declining card: 402, the attempt is recorded, another card then pays', async () => {
    const { customer } = await customerWithCard(h, 'pm_card_chargeCustomerFail');
    await h.stripe.invoiceItems.create({ customer: customer.id, amount: 400, currency: 'usd' });
    const invoice = await h.stripe.invoices.create({
      customer: customer.id,
      pending_invoice_items_behavior: 'include',
    });
    await assert.rejects(
      h.stripe.invoices.pay(invoice.id),
      (error: Stripe.errors.StripeError) => error.type === 'StripeCardError',
    );
    const failed = await h.stripe.invoices.retrieve(invoice.id);
    assert.equal(failed.status, 'open');
    assert.equal(failed.attempt_count, 1);
    const card = await switchCard(h, customer.id, 'pm_card_visa');
    const paid = await h.stripe.invoices.pay(invoice.id, { payment_method: card });
    assert.equal(paid.status, 'paid');
  });

  it('voids, marks uncollectible and deletes drafts', async () => {
    const { customer } = await customerWithCard(h);
    const make = async () => {
      await h.stripe.invoiceItems.create({ customer: customer.id, amount: 300, currency: 'usd' });
      return h.stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    };
    const toVoid = await h.stripe.invoices.finalizeInvoice((await make()).id);
    const voided = await h.stripe.invoices.voidInvoice(toVoid.id);
    assert.equal(voided.status, 'void');
    assert.equal(typeof voided.status_transitions.voided_at, 'number');
    const toForget = await h.stripe.invoices.finalizeInvoice((await make()).id);
    const forgotten = await h.stripe.invoices.markUncollectible(toForget.id);
    assert.equal(forgotten.status, 'uncollectible');
    const draft = await make();
    const itemId = draft.lines.data[0]?.parent?.invoice_item_details?.invoice_item ?? '';
    const deleted = await h.stripe.invoices.del(draft.id);
    assert.equal(deleted.deleted, true);
    assert.equal((await h.stripe.invoiceItems.retrieve(itemId)).invoice, null);
    await assert.rejects(
      h.stripe.invoices.voidInvoice(voided.id),
      (e: Stripe.errors.StripeError) => e.statusCode === 400,
    );
    const listed = await h.stripe.invoices.list({ customer: customer.id, status: 'void' });
    assert.deepEqual(
      listed.data.map((invoice) => invoice.id),
      [voided.id],
    );
  });

  it('pages through invoice lines', async () => {
    const { customer } = await customerWithCard(h);
    for (const amount of [100, 200, 300])
      await h.stripe.invoiceItems.create({ customer: customer.id, amount, currency: 'usd' });
    const invoice = await h.stripe.invoices.create({
      customer: customer.id,
      pending_invoice_items_behavior: 'include',
    });
    const first = await h.stripe.invoices.listLineItems(invoice.id, { limit: 2 });
    assert.equal(first.data.length, 2);
    assert.equal(first.has_more, true);
    const all: number[] = [];
    for await (const line of h.stripe.invoices.listLineItems(invoice.id, { limit: 2 })) all.push(line.amount);
    assert.deepEqual(
      all.sort((a, b) => a - b),
      [100, 200, 300],
    );
  });

  it('previews a plan change without changing anything', async () => {
    const start = utc('2032-01-01T00:00:00Z');
    const clock = await clockAt(h, start);
    const { customer } = await customerWithCard(h, 'pm_card_visa', clock.id);
    const basic = await recurringPrice(h, 1000, { interval: 'month' }, 'Basic');
    const plus = await recurringPrice(h, 4000, { interval: 'month' }, 'Plus');
    const subscription = await h.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: basic.id }],
    });
    await advance(h, clock.id, utc('2032-01-16T12:00:00Z'));
    const itemId = subscription.items.data[0]?.id ?? '';
    const now = await h.stripe.invoices.createPreview({
      subscription: subscription.id,
      subscription_details: { items: [{ id: itemId, price: plus.id }], proration_behavior: 'always_invoice' },
    });
    assert.match(now.id ?? '', /^upcoming_in_/);
    assert.deepEqual(
      now.lines.data.map((line) => line.amount),
      [-500, 2000],
    );
    assert.equal(now.amount_due, 1500);
    assert.equal(now.parent?.subscription_details?.subscription_proration_date, utc('2032-01-16T12:00:00Z'));
    const next = await h.stripe.invoices.createPreview({
      subscription: subscription.id,
      subscription_details: { items: [{ id: itemId, price: plus.id }] },
    });
    assert.equal(next.created, utc('2032-02-01T00:00:00Z'));
    assert.deepEqual(
      next.lines.data.map((line) => line.amount),
      [-500, 2000, 4000],
    );
    const unchanged = await h.stripe.subscriptions.retrieve(subscription.id);
    assert.equal(unchanged.items.data[0]?.price.id, basic.id);
    assert.equal((await h.stripe.invoiceItems.list({ customer: customer.id })).data.length, 0);
    const fresh = await h.stripe.invoices.createPreview({
      customer: customer.id,
      subscription_details: { items: [{ price: plus.id, quantity: 2 }] },
    });
    assert.equal(fresh.amount_due, 8000);
  });

  it('searches invoices', async () => {
    const { customer } = await customerWithCard(h);
    await h.stripe.invoiceItems.create({ customer: customer.id, amount: 1234, currency: 'usd' });
    const invoice = await h.stripe.invoices.create({
      customer: customer.id,
      pending_invoice_items_behavior: 'include',
    });
    const found = await h.stripe.invoices.search({ query: `customer:'${customer.id}' AND status:'draft'` });
    assert.deepEqual(
      found.data.map((i) => i.id),
      [invoice.id],
    );
  });
});
