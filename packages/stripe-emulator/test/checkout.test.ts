import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { type Harness, startHarness } from './support.ts';

const recorded = (test: string, file: string) =>
  JSON.parse(
    readFileSync(
      new URL(`../../../../shared/stripe-reference/recorded/pay-rails/${test}/${file}`, import.meta.url),
      'utf8',
    ),
  ) as { body: Record<string, unknown> };

/** The types of the last `count` events recorded, oldest first. */
const eventTypes = (h: Harness, count: number) =>
  [...h.emulator.emulator.partition(null, false).table<Stripe.Event>('event').values()]
    .slice(-count)
    .map((event) => event.type);

type Completed = { session: Stripe.Checkout.Session; redirect_url: string | null };

async function complete(h: Harness, sessionId: string, paymentMethod: string) {
  const response = await fetch(`${h.emulator.url}/_emulator/checkout/sessions/${sessionId}/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payment_method: paymentMethod, email: 'buyer@example.com' }),
  });
  return {
    status: response.status,
    body: (await response.json()) as Completed & { error?: { type: string; code?: string; message: string } },
  };
}

describe('checkout sessions through the official SDK', () => {
  let h: Harness;
  let oneTime: Stripe.Price;
  before(async () => {
    h = await startHarness();
    const product = await h.stripe.products.create({ name: 'T-shirt' });
    oneTime = await h.stripe.prices.create({ product: product.id, unit_amount: 1500, currency: 'usd' });
  });
  after(() => h.close());

  const paymentSession = (extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) =>
    h.stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ price: oneTime.id, quantity: 2 }],
      success_url: 'http://localhost:3000/?session={CHECKOUT_SESSION_ID}',
      cancel_url: 'http://localhost:3000/cancel',
      ...extra,
    });

  it('creates a payment session shaped like the recorded one', async () => {
    const customer = await h.stripe.customers.create({ email: 'stripe@example.org' });
    const session = await paymentSession({
      customer: customer.id,
      client_reference_id: 'order_1',
      metadata: { a: 'b' },
    });
    assert.match(session.id, /^cs_test_a1[A-Za-z0-9]{56}$/);
    assert.equal(session.status, 'open');
    assert.equal(session.payment_status, 'unpaid');
    assert.equal(session.amount_total, 3000);
    assert.equal(session.currency, 'usd');
    assert.equal(session.customer, customer.id);
    assert.equal(session.customer_details?.email, 'stripe@example.org');
    assert.equal(session.client_reference_id, 'order_1');
    assert.equal(session.success_url, 'http://localhost:3000/?session={CHECKOUT_SESSION_ID}');
    assert.equal(session.url, `${h.emulator.url}/_emulator/checkout/${session.id}`);
    assert.ok(session.expires_at - session.created === 24 * 60 * 60);
    const real = recorded('test_checkout_payment_session', '01-POST-v1_checkout_sessions.json').body;
    const missing = Object.keys(real).filter(
      (key) => !(key in session) && key !== 'branding_settings' && !key.startsWith('client_<'),
    );
    assert.deepEqual(missing, []);
    const page = await fetch(session.url ?? '');
    assert.match(await page.text(), /T-shirt × 2/);
  });

  it('lists line items, expands them, and builds price_data items', async () => {
    const session = await h.stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [
        { price: oneTime.id, quantity: 1 },
        { price_data: { currency: 'usd', unit_amount: 250, product_data: { name: 'Sticker' } }, quantity: 4 },
      ],
      success_url: 'http://localhost/ok',
    });
    assert.equal(session.amount_total, 2500);
    const items = await h.stripe.checkout.sessions.listLineItems(session.id);
    assert.deepEqual(
      items.data.map((item) => [item.description, item.quantity, item.amount_total]),
      [
        ['T-shirt', 1, 1500],
        ['Sticker', 4, 1000],
      ],
    );
    const expanded = await h.stripe.checkout.sessions.retrieve(session.id, { expand: ['line_items'] });
    assert.equal(expanded.line_items?.data.length, 2);
    await assert.rejects(
      h.stripe.checkout.sessions.create({ mode: 'payment', success_url: 'http://x' }),
      (error: Stripe.errors.StripeError) =>
        error.code === 'parameter_missing' && error.param === 'line_items',
    );
  });

  it('expires an open session once, by API and by the clock', async () => {
    const session = await paymentSession();
    const expired = await h.stripe.checkout.sessions.expire(session.id);
    assert.equal(expired.status, 'expired');
    assert.equal(expired.url, null);
    assert.deepEqual(eventTypes(h, 1), ['checkout.session.expired']);
    await assert.rejects(
      h.stripe.checkout.sessions.expire(session.id),
      /Only Checkout Sessions with a status in \["open"\]/,
    );

    const later = await paymentSession();
    await fetch(`${h.emulator.url}/_emulator/time/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seconds: 24 * 60 * 60 }),
    });
    assert.equal((await h.stripe.checkout.sessions.retrieve(later.id)).status, 'expired');
    const listed = await h.stripe.checkout.sessions.list({ status: 'expired' });
    assert.ok(listed.data.some((s) => s.id === later.id));
  });

  it('completes a payment session as the customer would', async () => {
    const session = await paymentSession({
      customer_creation: 'always',
      payment_intent_data: { metadata: { order: '42' } },
    });
    const { status, body } = await complete(h, session.id, 'pm_card_visa');
    assert.equal(status, 200);
    assert.equal(body.redirect_url, `http://localhost:3000/?session=${session.id}`);
    const done = await h.stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent'] });
    assert.equal(done.status, 'complete');
    assert.equal(done.payment_status, 'paid');
    assert.equal(done.url, null);
    assert.equal(done.customer_details?.email, 'buyer@example.com');
    const paymentIntent = done.payment_intent as Stripe.PaymentIntent;
    assert.equal(paymentIntent.status, 'succeeded');
    assert.equal(paymentIntent.amount, 3000);
    assert.equal(paymentIntent.customer, done.customer);
    assert.deepEqual(paymentIntent.metadata, { order: '42' });
    assert.deepEqual(eventTypes(h, 5), [
      'customer.created',
      'payment_intent.created',
      'charge.succeeded',
      'payment_intent.succeeded',
      'checkout.session.completed',
    ]);
    const byIntent = await h.stripe.checkout.sessions.list({ payment_intent: paymentIntent.id });
    assert.deepEqual(
      byIntent.data.map((s) => s.id),
      [session.id],
    );
    assert.equal((await complete(h, session.id, 'pm_card_visa')).status, 400);
  });

  it('keeps the session open when the card declines, then accepts another card', async () => {
    const session = await paymentSession();
    const declined = await complete(h, session.id, 'pm_card_chargeCustomerFail');
    assert.equal(declined.status, 402);
    assert.equal(declined.body.error?.type, 'card_error');
    assert.equal(declined.body.error?.code, 'card_declined');
    const open = await h.stripe.checkout.sessions.retrieve(session.id);
    assert.equal(open.status, 'open');
    const failedIntent = await h.stripe.paymentIntents.retrieve(String(open.payment_intent));
    assert.equal(failedIntent.status, 'requires_payment_method');
    assert.equal((await complete(h, session.id, 'pm_card_chargeDeclined')).status, 402);
    const paid = await complete(h, session.id, 'pm_card_visa');
    assert.equal(paid.status, 200);
    assert.equal(paid.body.session.payment_intent, failedIntent.id);
    assert.equal(paid.body.session.customer, null);
  });

  it('completes a setup session through its setup intent', async () => {
    const customer = await h.stripe.customers.create({ email: 'setup@example.com' });
    const session = await h.stripe.checkout.sessions.create({
      mode: 'setup',
      customer: customer.id,
      currency: 'usd',
      success_url: 'http://localhost/ok',
    });
    assert.match(session.id, /^cs_test_c1/);
    assert.equal(session.payment_status, 'no_payment_required');
    assert.match(String(session.setup_intent), /^seti_/);
    assert.equal((await complete(h, session.id, 'pm_card_chargeDeclined')).status, 402);
    assert.equal((await complete(h, session.id, 'pm_card_visa')).status, 200);
    const setupIntent = await h.stripe.setupIntents.retrieve(String(session.setup_intent));
    assert.equal(setupIntent.status, 'succeeded');
    const methods = await h.stripe.customers.listPaymentMethods(customer.id);
    assert.equal(methods.data[0]?.id, setupIntent.payment_method);
  });
});
