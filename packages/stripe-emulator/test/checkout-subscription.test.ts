import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { type Harness, startHarness } from './support.ts';

type Completed = { session: Stripe.Checkout.Session; redirect_url: string | null };

async function complete(h: Harness, sessionId: string, paymentMethod: string) {
  const response = await fetch(`${h.emulator.url}/_emulator/checkout/sessions/${sessionId}/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payment_method: paymentMethod, email: 'subscriber@example.com' }),
  });
  return {
    status: response.status,
    body: (await response.json()) as Completed & { error?: { code?: string } },
  };
}

const eventsSince = (h: Harness, first: number) =>
  [...h.emulator.emulator.partition(null, false).table<Stripe.Event>('event').values()].slice(first);

const eventCount = (h: Harness) => h.emulator.emulator.partition(null, false).table('event').size;

describe('checkout sessions in subscription mode', () => {
  let h: Harness;
  let monthly: Stripe.Price;
  before(async () => {
    h = await startHarness();
    const product = await h.stripe.products.create({ name: 'Pro' });
    monthly = await h.stripe.prices.create({
      product: product.id,
      unit_amount: 1000,
      currency: 'usd',
      recurring: { interval: 'month' },
    });
  });
  after(() => h.close());

  const subscriptionSession = (extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) =>
    h.stripe.checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ price: monthly.id, quantity: 1 }],
      success_url: 'http://localhost:3000/?session={CHECKOUT_SESSION_ID}',
      ...extra,
    });

  it('creates the customer and a paid subscription, then emits checkout.session.completed last', async () => {
    const session = await subscriptionSession({
      client_reference_id: 'account_7',
      subscription_data: { metadata: { account: '7' }, description: 'Pro plan' },
    });
    assert.equal(session.customer_creation, 'always');
    assert.equal(session.amount_total, 1000);
    const first = eventCount(h);
    const { status, body } = await complete(h, session.id, 'pm_card_visa');
    assert.equal(status, 200);
    const done = body.session;
    assert.equal(done.status, 'complete');
    assert.equal(done.payment_status, 'paid');
    assert.match(String(done.customer), /^cus_/);
    assert.match(String(done.subscription), /^sub_/);
    assert.match(String(done.invoice), /^in_/);

    const subscription = await h.stripe.subscriptions.retrieve(String(done.subscription));
    assert.equal(subscription.status, 'active');
    assert.equal(subscription.customer, done.customer);
    assert.deepEqual(subscription.metadata, { account: '7' });
    assert.equal(subscription.description, 'Pro plan');
    const pm = await h.stripe.paymentMethods.retrieve(String(subscription.default_payment_method));
    assert.equal(pm.customer, done.customer);
    const customer = (await h.stripe.customers.retrieve(String(done.customer))) as Stripe.Customer;
    assert.equal(customer.email, 'subscriber@example.com');

    const types = eventsSince(h, first).map((event) => event.type);
    assert.equal(types[0], 'customer.created');
    assert.ok(types.indexOf('payment_method.attached') < types.indexOf('customer.subscription.created'));
    assert.ok(types.includes('invoice.paid'));
    assert.ok(types.includes('payment_intent.succeeded'));
    assert.equal(types.at(-1), 'checkout.session.completed');
    assert.equal(types.filter((type) => type === 'checkout.session.completed').length, 1);
  });

  it('starts a trial without a payment', async () => {
    const session = await subscriptionSession({ subscription_data: { trial_period_days: 14 } });
    const { status, body } = await complete(h, session.id, 'pm_card_chargeCustomerFail');
    assert.equal(status, 200);
    assert.equal(body.session.payment_status, 'no_payment_required');
    const subscription = await h.stripe.subscriptions.retrieve(String(body.session.subscription));
    assert.equal(subscription.status, 'trialing');
  });

  it('leaves the session open and creates nothing when the card declines', async () => {
    const customer = await h.stripe.customers.create({ email: 'existing@example.com' });
    const session = await subscriptionSession({ customer: customer.id });
    const declined = await complete(h, session.id, 'pm_card_chargeCustomerFail');
    assert.equal(declined.status, 402);
    assert.equal(declined.body.error?.code, 'card_declined');
    assert.equal((await h.stripe.checkout.sessions.retrieve(session.id)).status, 'open');
    assert.equal((await h.stripe.subscriptions.list({ customer: customer.id })).data.length, 0);
    const paid = await complete(h, session.id, 'pm_card_visa');
    assert.equal(paid.status, 200);
    assert.equal(paid.body.session.customer, customer.id);
    const listed = await h.stripe.checkout.sessions.list({
      subscription: String(paid.body.session.subscription),
    });
    assert.deepEqual(
      listed.data.map((s) => s.id),
      [session.id],
    );
  });
});
