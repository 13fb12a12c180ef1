import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Stripe from 'stripe';
import { createCustomer } from '../src/customers/index.ts';
import { createEmulator } from '../src/index.ts';
import { availableOn, cardFee } from '../src/payments/balance-transactions.ts';
import { attachPaymentMethod, chargeInvoice, defaultPaymentMethodFor } from '../src/payments/index.ts';
import {
  decideCharge,
  testCardForNumber,
  testCardForPaymentMethodToken,
} from '../src/payments/test-cards.ts';

function setup() {
  const { emulator } = createEmulator({ seed: 7 });
  const scope = emulator.scope(emulator.partition(null, false));
  const customer = createCustomer(scope, {});
  const events = () => [...scope.partition.table<Stripe.Event>('event').values()].map((event) => event.type);
  return { emulator, scope, customer, events };
}

const invoiceCharge = (customerId: string, paymentMethodId: string | null) => ({
  customerId,
  invoiceId: 'in_test',
  amount: 1999,
  currency: 'usd',
  paymentMethodId,
  description: 'Subscription creation',
  at: 1_800_000_000,
});

describe('chargeInvoice', () => {
  it('charges a succeeding card off session and emits the payment events', () => {
    const { scope, customer, events } = setup();
    const pm = attachPaymentMethod(scope, 'pm_card_visa', customer.id);
    const outcome = chargeInvoice(scope, invoiceCharge(customer.id, pm.id));
    assert.equal(outcome.succeeded, true);
    assert.equal(outcome.failure, null);
    assert.equal(outcome.paymentIntent.status, 'succeeded');
    assert.equal(outcome.paymentIntent.amount_received, 1999);
    assert.equal(outcome.paymentIntent.created, 1_800_000_000);
    assert.equal(outcome.paymentIntent.description, 'Subscription creation');
    assert.deepEqual(outcome.paymentIntent.payment_details, {
      customer_reference: null,
      order_reference: 'in_test',
    });
    assert.match(String(outcome.paymentIntent.latest_charge), /^ch_/);
    assert.deepEqual(events().slice(-3), [
      'payment_intent.created',
      'charge.succeeded',
      'payment_intent.succeeded',
    ]);
  });

  it('fails every charge of pm_card_chargeCustomerFail with card_declined', () => {
    const { scope, customer, events } = setup();
    const pm = attachPaymentMethod(scope, 'pm_card_chargeCustomerFail', customer.id);
    const outcome = chargeInvoice(scope, invoiceCharge(customer.id, pm.id));
    assert.equal(outcome.succeeded, false);
    assert.deepEqual(outcome.failure, {
      code: 'card_declined',
      declineCode: 'generic_decline',
      message: 'Your card was declined.',
    });
    assert.equal(outcome.paymentIntent.status, 'requires_payment_method');
    assert.equal(outcome.paymentIntent.last_payment_error?.decline_code, 'generic_decline');
    assert.deepEqual(events().slice(-3), [
      'payment_intent.created',
      'charge.failed',
      'payment_intent.payment_failed',
    ]);
  });

  it('fails without a payment method and asks for authentication off session as a decline', () => {
    const { scope, customer } = setup();
    const none = chargeInvoice(scope, invoiceCharge(customer.id, null));
    assert.equal(none.succeeded, false);
    assert.equal(none.failure?.code, 'payment_intent_payment_attempt_failed');
    assert.equal(none.paymentIntent.status, 'requires_payment_method');
    const pm = attachPaymentMethod(scope, 'pm_card_authenticationRequired', customer.id);
    const sca = chargeInvoice(scope, invoiceCharge(customer.id, pm.id));
    assert.equal(sca.failure?.code, 'authentication_required');
  });

  it('picks the subscription default, then the customer default', () => {
    const { scope, customer } = setup();
    assert.equal(defaultPaymentMethodFor(scope, customer.id, null), null);
    assert.equal(defaultPaymentMethodFor(scope, customer.id, 'pm_sub'), 'pm_sub');
    const pm = attachPaymentMethod(scope, 'pm_card_visa', customer.id);
    const stored = scope.partition.table<Stripe.Customer>('customer').get(customer.id);
    assert.ok(stored);
    stored.invoice_settings.default_payment_method = pm.id;
    assert.equal(defaultPaymentMethodFor(scope, customer.id, null), pm.id);
    assert.equal(defaultPaymentMethodFor(scope, customer.id, 'pm_sub'), 'pm_sub');
  });
});

describe('test card rules', () => {
  it('maps tokens and numbers to the same card', () => {
    assert.deepEqual(testCardForPaymentMethodToken('pm_card_visa'), testCardForNumber('4242 4242 4242 4242'));
    assert.equal(testCardForPaymentMethodToken('pm_card_nonsense'), null);
    assert.equal(testCardForPaymentMethodToken('pm_card_chargeDeclined')?.declinesOnAttach, true);
    assert.equal(testCardForPaymentMethodToken('pm_card_chargeCustomerFail')?.declinesOnAttach, false);
  });

  it('decides charges: approve, decline, and authentication on and off session', () => {
    const decline = testCardForPaymentMethodToken('pm_card_chargeDeclinedInsufficientFunds')?.decline ?? null;
    assert.deepEqual(decideCharge('approve', null, true), { kind: 'approved' });
    assert.equal(decideCharge('decline', decline, false).kind, 'declined');
    assert.deepEqual(decideCharge('authenticate', null, false), { kind: 'requires_action' });
    const offSession = decideCharge('authenticate', null, true);
    assert.equal(offSession.kind === 'declined' && offSession.decline.code, 'authentication_required');
  });
});

describe('card funds', () => {
  it('charges 2.9% + 30 cents and pays out seven days later at midnight UTC', () => {
    assert.equal(cardFee(2900), 114);
    assert.equal(cardFee(1000), 59);
    assert.equal(availableOn(1762799274), 1763337600);
  });
});
