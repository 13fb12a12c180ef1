import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import type { StripeError } from '../src/core/errors.ts';
import { createEmulator } from '../src/index.ts';
import { createPaymentIntent, paymentIntentTable, paymentMethodTable } from '../src/payments/index.ts';
import { paymentIntentRoutes } from '../src/payments/payment-intent-routes.ts';
import { type Harness, startHarness } from './support.ts';

/** The types of the last `count` events recorded, oldest first. */
const eventTypes = (h: Harness, count: number) =>
  [...h.emulator.emulator.partition(null, false).table<Stripe.Event>('event').values()]
    .slice(-count)
    .map((event) => event.type);

describe('payment methods through the official SDK', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('attaches test cards as new payment methods with the test cards details', async () => {
    const customer = await h.stripe.customers.create({ email: 'cards@example.com' });
    const expected: [string, string, string][] = [
      ['pm_card_visa', 'visa', '4242'],
      ['pm_card_mastercard', 'mastercard', '4444'],
      ['pm_card_amex', 'amex', '0005'],
      ['pm_card_discover', 'discover', '9424'],
      ['pm_card_chargeCustomerFail', 'visa', '0341'],
    ];
    for (const [token, brand, last4] of expected) {
      const attached = await h.stripe.paymentMethods.attach(token, { customer: customer.id });
      assert.match(attached.id, /^pm_[A-Za-z0-9]{24}$/);
      assert.equal(attached.customer, customer.id);
      assert.equal(attached.card?.brand, brand);
      assert.equal(attached.card?.last4, last4);
      assert.equal(attached.card?.exp_year, new Date().getUTCFullYear() + 1);
    }
    const visa = (await h.stripe.paymentMethods.list({ customer: customer.id, type: 'card' })).data;
    assert.equal(visa.length, expected.length);
    const viaCustomer = await h.stripe.customers.listPaymentMethods(customer.id);
    assert.deepEqual(
      viaCustomer.data.map((pm) => pm.card?.last4),
      expected.map(([, , last4]) => last4).reverse(),
    );
  });

  it('refuses to attach a declining card with the recorded 402', async () => {
    const customer = await h.stripe.customers.create({});
    await assert.rejects(
      h.stripe.paymentMethods.attach('pm_card_chargeDeclined', { customer: customer.id }),
      (error: Stripe.errors.StripeError) => {
        assert.equal(error.type, 'StripeCardError');
        assert.equal(error.statusCode, 402);
        assert.equal(error.code, 'card_declined');
        assert.equal(error.decline_code, 'generic_decline');
        assert.equal(error.message, 'Your card was declined.');
        assert.equal((error.raw as { advice_code?: string }).advice_code, 'try_again_later');
        return true;
      },
    );
    assert.equal((await h.stripe.paymentMethods.list({ customer: customer.id })).data.length, 0);
  });

  it('creates from a card token, detaches, and clears the customer default', async () => {
    const pm = await h.stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_mastercard' } });
    assert.equal(pm.customer, null);
    assert.equal(pm.card?.brand, 'mastercard');
    const customer = await h.stripe.customers.create({ payment_method: pm.id });
    assert.equal((await h.stripe.paymentMethods.retrieve(pm.id)).customer, customer.id);
    await h.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    const detached = await h.stripe.paymentMethods.detach(pm.id);
    assert.equal(detached.customer, null);
    const reloaded = (await h.stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    assert.equal(reloaded.invoice_settings.default_payment_method, null);
    await assert.rejects(h.stripe.paymentMethods.detach(pm.id), /not attached to a customer/);
    const events = eventTypes(h, 5);
    assert.deepEqual(events, [
      'customer.created',
      'payment_method.attached',
      'customer.updated',
      'payment_method.detached',
      'customer.updated',
    ]);
  });

  it('attaches payment_method given on customer create', async () => {
    const customer = await h.stripe.customers.create({ payment_method: 'pm_card_visa' });
    const methods = await h.stripe.customers.listPaymentMethods(customer.id);
    assert.equal(methods.data.length, 1);
    assert.equal(methods.data[0]?.card?.last4, '4242');
  });

  it('answers unknown payment methods with 404', async () => {
    await assert.rejects(
      h.stripe.paymentMethods.retrieve('pm_missing'),
      (error: Stripe.errors.StripeError) => {
        assert.equal(error.statusCode, 404);
        assert.equal(error.code, 'resource_missing');
        return true;
      },
    );
  });
});

describe('payment intents through the official SDK', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('confirms a payment with a succeeding card and records the charge', async () => {
    const customer = await h.stripe.customers.create({});
    const pm = await h.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const pi = await h.stripe.paymentIntents.create({
      amount: 2900,
      currency: 'usd',
      customer: customer.id,
      payment_method: pm.id,
      confirm: true,
      metadata: { order: '7' },
      expand: ['latest_charge'],
    });
    assert.equal(pi.status, 'succeeded');
    assert.equal(pi.amount_received, 2900);
    const charge = pi.latest_charge as Stripe.Charge;
    assert.equal(charge.status, 'succeeded');
    assert.equal(charge.paid, true);
    assert.equal(charge.captured, true);
    assert.equal(charge.payment_intent, pi.id);
    assert.equal(charge.payment_method_details?.card?.last4, '4242');
    assert.deepEqual(charge.metadata, { order: '7' });
    const fetched = await h.stripe.charges.retrieve(charge.id, { expand: ['balance_transaction'] });
    assert.equal(fetched.amount, 2900);
    const funds = fetched.balance_transaction as Stripe.BalanceTransaction;
    assert.equal(funds.source, charge.id);
    assert.equal(funds.fee, 114, 'the recorded fee of a 2900 capture');
    assert.equal(funds.net, 2786);
    const receipt = await fetch(fetched.receipt_url ?? '');
    assert.equal(receipt.status, 200);
    assert.deepEqual(eventTypes(h, 3), [
      'payment_intent.created',
      'charge.succeeded',
      'payment_intent.succeeded',
    ]);
  });

  it('declines on confirm with a card error carrying the payment intent', async () => {
    const customer = await h.stripe.customers.create({});
    const pm = await h.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    const pi = await h.stripe.paymentIntents.create({
      amount: 1500,
      currency: 'eur',
      customer: customer.id,
      payment_method: pm.id,
    });
    assert.equal(pi.status, 'requires_confirmation');
    await assert.rejects(h.stripe.paymentIntents.confirm(pi.id), (error: Stripe.errors.StripeError) => {
      assert.equal(error.type, 'StripeCardError');
      assert.equal(error.statusCode, 402);
      assert.equal(error.code, 'card_declined');
      assert.equal(error.decline_code, 'generic_decline');
      assert.equal(error.payment_intent?.id, pi.id);
      assert.equal(error.payment_intent?.status, 'requires_payment_method');
      assert.equal(error.payment_method?.id, pm.id);
      return true;
    });
    const failed = await h.stripe.paymentIntents.retrieve(pi.id);
    assert.equal(failed.status, 'requires_payment_method');
    assert.equal(failed.last_payment_error?.code, 'card_declined');
    assert.equal(failed.last_payment_error?.payment_method?.id, pm.id);
    const charges = await h.stripe.charges.list({ payment_intent: pi.id });
    assert.equal(charges.data[0]?.status, 'failed');
    assert.equal(charges.data[0]?.failure_code, 'card_declined');
    const retried = await h.stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
    assert.equal(retried.status, 'succeeded');
  });

  it('authorizes, then captures part of a manual-capture payment', async () => {
    const pi = await h.stripe.paymentIntents.create({
      amount: 5000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      allowed_payment_method_types: ['card'],
      capture_method: 'manual',
      confirm: true,
    });
    assert.equal(pi.status, 'requires_capture');
    assert.equal(pi.amount_capturable, 5000);
    const captured = await h.stripe.paymentIntents.capture(pi.id, { amount_to_capture: 4000 });
    assert.equal(captured.status, 'succeeded');
    assert.equal(captured.amount_received, 4000);
    const charge = await h.stripe.charges.retrieve(String(captured.latest_charge));
    assert.equal(charge.captured, true);
    assert.equal(charge.amount_captured, 4000);
    assert.equal(charge.amount_refunded, 1000);
    await assert.rejects(h.stripe.paymentIntents.cancel(pi.id), /status of succeeded/);
  });

  it('cancels, requires action on session and fails authentication off session', async () => {
    const open = await h.stripe.paymentIntents.create({ amount: 100, currency: 'usd' });
    assert.equal(open.status, 'requires_payment_method');
    const canceled = await h.stripe.paymentIntents.cancel(open.id, { cancellation_reason: 'abandoned' });
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.cancellation_reason, 'abandoned');

    const onSession = await h.stripe.paymentIntents.create({
      amount: 100,
      currency: 'usd',
      payment_method: 'pm_card_authenticationRequired',
      confirm: true,
      return_url: 'https://example.com/back',
    });
    assert.equal(onSession.status, 'requires_action');
    assert.equal(onSession.next_action?.type, 'redirect_to_url');
    const authenticated = await fetch(
      `${h.emulator.url}/_emulator/payment_intents/${onSession.id}/authenticate`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ outcome: 'succeed' }),
      },
    );
    assert.equal(((await authenticated.json()) as Stripe.PaymentIntent).status, 'succeeded');

    const customer = await h.stripe.customers.create({ payment_method: 'pm_card_authenticationRequired' });
    const [pm] = (await h.stripe.customers.listPaymentMethods(customer.id)).data;
    await assert.rejects(
      h.stripe.paymentIntents.create({
        amount: 100,
        currency: 'usd',
        customer: customer.id,
        payment_method: pm?.id ?? '',
        confirm: true,
        off_session: true,
      }),
      (error: Stripe.errors.StripeError) => error.code === 'authentication_required',
    );
  });

  it('rejects an amount below the minimum as Stripe does', async () => {
    await assert.rejects(
      h.stripe.paymentIntents.create({ amount: 0, currency: 'usd' }),
      (error: Stripe.errors.StripeError) => {
        assert.equal(error.code, 'parameter_invalid_integer');
        assert.equal(error.param, 'amount');
        assert.equal(error.message, 'This value must be greater than or equal to 1.');
        return true;
      },
    );
  });

  it('lists and searches payment intents by customer and updates metadata', async () => {
    const customer = await h.stripe.customers.create({});
    const pi = await h.stripe.paymentIntents.create({ amount: 700, currency: 'usd', customer: customer.id });
    const updated = await h.stripe.paymentIntents.update(pi.id, { metadata: { k: 'v' }, amount: 800 });
    assert.equal(updated.amount, 800);
    const listed = await h.stripe.paymentIntents.list({ customer: customer.id });
    assert.deepEqual(
      listed.data.map((p) => p.id),
      [pi.id],
    );
    const found = await h.stripe.paymentIntents.search({
      query: `metadata['k']:'v' AND customer:'${customer.id}'`,
    });
    assert.equal(found.data[0]?.id, pi.id);
  });
});

describe('confirming a payment intent, at the handler', () => {
  /** Calls the confirm endpoint's handler straight on a scope: no HTTP layer, no rollback. */
  function setup() {
    const { emulator } = createEmulator({ seed: 7 });
    const scope = emulator.scope(emulator.partition(null, false));
    const route = paymentIntentRoutes.find((r) => r.path === '/v1/payment_intents/:id/confirm');
    const confirm = (id: string, raw: Record<string, unknown>) =>
      route?.handle({ scope, params: route.params.parse(raw), path: { id } });
    const intent = createPaymentIntent(scope, {
      amount: 500,
      currency: 'usd',
      customer: null,
      description: null,
      metadata: {},
      paymentMethod: null,
      paymentMethodTypes: null,
      captureMethod: 'automatic_async',
      confirmationMethod: 'automatic',
      setupFutureUsage: null,
      receiptEmail: null,
      statementDescriptor: null,
      statementDescriptorSuffix: null,
      transferGroup: null,
      at: 1_800_000_000,
    });
    return { scope, confirm, intent };
  }

  const unexpectedState = (error: StripeError) =>
    error.status === 400 && error.body.code === 'payment_intent_unexpected_state';

  it('refuses an intent without a payment method before applying capture_method', () => {
    const { scope, confirm, intent } = setup();
    assert.throws(
      () => confirm(intent.id, { return_url: 'https://example.com/ok', capture_method: 'automatic' }),
      unexpectedState,
    );
    assert.deepEqual(paymentIntentTable(scope).get(intent.id), intent);
  });

  it('refuses an intent that cannot be confirmed before turning a test token into a payment method', () => {
    const { scope, confirm, intent } = setup();
    paymentIntentTable(scope).replace({ ...intent, status: 'canceled' });
    assert.throws(() => confirm(intent.id, { payment_method: 'pm_card_visa' }), unexpectedState);
    assert.equal(paymentMethodTable(scope).size, 0);
  });
});
