import type Stripe from 'stripe';
import { cardError, invalidState, parameterInvalid, resourceMissing } from '../core/errors.ts';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { requireCustomer, saveCustomer } from '../customers/index.ts';
import { emitEvent } from '../events/emit.ts';
import { type NonCardType, PAYMENT_METHOD_TYPES } from './payment-method-types.ts';
import {
  type Decline,
  type TestCard,
  testCardExpiry,
  testCardForFingerprint,
  testCardForPaymentMethodToken,
} from './test-cards.ts';

export type WirePaymentMethod = Wire<Stripe.PaymentMethod>;

export type BillingDetails = WirePaymentMethod['billing_details'];

export const paymentMethodTable = (scope: Scope) =>
  scope.partition.table<WirePaymentMethod>('payment_method');

export const emptyBillingDetails = (): BillingDetails => ({
  address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
  email: null,
  name: null,
  phone: null,
  tax_id: null,
});

export type NewCard = {
  card: TestCard;
  expMonth?: number | undefined;
  expYear?: number | undefined;
  billingDetails?: BillingDetails | undefined;
  metadata?: Record<string, string> | undefined;
  allowRedisplay?: Stripe.PaymentMethod.AllowRedisplay | undefined;
};

/** Stores a new card payment method, not attached to any customer. */
export function createCardPaymentMethod(scope: Scope, input: NewCard, created: number): WirePaymentMethod {
  const expiry = testCardExpiry(created);
  const { card } = input;
  const paymentMethod: WirePaymentMethod = {
    id: scope.emulator.random.id('pm', 24),
    object: 'payment_method',
    allow_redisplay: input.allowRedisplay ?? 'unspecified',
    billing_details: input.billingDetails ?? emptyBillingDetails(),
    card: {
      brand: card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: card.country,
      display_brand: card.brand,
      exp_month: input.expMonth ?? expiry.exp_month,
      exp_year: input.expYear ?? expiry.exp_year,
      fingerprint: card.fingerprint,
      funding: card.funding,
      generated_from: null,
      last4: card.last4,
      networks: { available: [card.brand], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created,
    customer: null,
    customer_account: null,
    livemode: scope.partition.livemode,
    metadata: input.metadata ?? {},
    type: 'card',
  };
  return paymentMethodTable(scope).insert(paymentMethod);
}

export type NewPaymentMethodOfType = {
  type: NonCardType;
  /** The raw `<type>[…]` hash of the request; validated against the type's table entry. */
  details: unknown;
  billingDetails?: BillingDetails | undefined;
  metadata?: Record<string, string> | undefined;
  allowRedisplay?: Stripe.PaymentMethod.AllowRedisplay | undefined;
};

/**
 * Stores a new payment method of a non-card type (sepa_debit, acss_debit, ideal …), its sub-object
 * derived by PAYMENT_METHOD_TYPES. Keys in Stripe's order: id, object, then alphabetical.
 */
export function createPaymentMethodOfType(
  scope: Scope,
  input: NewPaymentMethodOfType,
  created: number,
): WirePaymentMethod {
  const details = PAYMENT_METHOD_TYPES[input.type].details(input.type, input.details);
  const fields: Omit<WirePaymentMethod, 'id' | 'object'> = {
    allow_redisplay: input.allowRedisplay ?? 'unspecified',
    billing_details: input.billingDetails ?? emptyBillingDetails(),
    created,
    customer: null,
    customer_account: null,
    livemode: scope.partition.livemode,
    metadata: input.metadata ?? {},
    [input.type]: details,
    type: input.type,
  };
  const sorted = Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1)));
  const paymentMethod: WirePaymentMethod = {
    id: scope.emulator.random.id('pm', 24),
    object: 'payment_method',
    ...(sorted as typeof fields),
  };
  return paymentMethodTable(scope).insert(paymentMethod);
}

/**
 * The payment method an id names. Test tokens (`pm_card_visa`) stand for a fresh card each time they
 * are used, as in Stripe's test mode; any other unknown id is a 404 on `param`.
 */
/**
 * What a `payment_method` parameter names, without writing anything: a stored payment method, or a
 * test token (`pm_card_visa` …, test mode only) that becomes one when used.
 */
export function lookUpPaymentMethod(
  scope: Scope,
  id: string,
  param: string,
): { stored: WirePaymentMethod; token: null } | { stored: null; token: TestCard } {
  const stored = paymentMethodTable(scope).get(id);
  if (stored) return { stored, token: null };
  const token = scope.partition.livemode ? null : testCardForPaymentMethodToken(id);
  if (!token) throw resourceMissing('payment_method', id, param);
  return { stored: null, token };
}

export function resolvePaymentMethod(
  scope: Scope,
  id: string,
  param: string,
  at?: number,
): WirePaymentMethod {
  const { stored, token } = lookUpPaymentMethod(scope, id, param);
  return stored ?? createCardPaymentMethod(scope, { card: token }, at ?? scope.emulator.clock.nowSeconds());
}

export function requirePaymentMethod(scope: Scope, id: string, param = 'id'): WirePaymentMethod {
  const paymentMethod = paymentMethodTable(scope).get(id);
  if (!paymentMethod) throw resourceMissing('payment_method', id, param);
  return paymentMethod;
}

/** The card error Stripe answers when the network declines, as in the recorded 402s. */
export function declineError(decline: Decline, extra: Record<string, unknown> = {}) {
  const error = cardError({ code: decline.code, declineCode: decline.declineCode, message: decline.message });
  Object.assign(error.body, {
    ...(decline.adviceCode ? { advice_code: decline.adviceCode } : {}),
    ...(decline.networkDeclineCode ? { network_decline_code: decline.networkDeclineCode } : {}),
    param: '',
    ...extra,
  });
  return error;
}

function savePaymentMethod(scope: Scope, paymentMethod: WirePaymentMethod): WirePaymentMethod {
  return paymentMethodTable(scope).replace(paymentMethod);
}

/**
 * Attaches a payment method (or a test token, which becomes a new one) to a customer. Cards that
 * decline fail here already, because Stripe verifies a card before saving it.
 */
export function attachPaymentMethod(scope: Scope, id: string, customerId: string, param = 'customer') {
  const customer = requireCustomer(scope, customerId, param);
  const clock = typeof customer.test_clock === 'string' ? customer.test_clock : null;
  const at = scope.emulator.nowFor(scope.partition, clock);
  const paymentMethod = resolvePaymentMethod(scope, id, 'payment_method', at);
  if (paymentMethod.customer === customer.id) return paymentMethod;
  if (paymentMethod.customer)
    throw invalidState(
      'The payment method you provided has already been attached to a customer.',
      undefined,
      'payment_method_unexpected_state',
    );
  const card = testCardOf(paymentMethod);
  if (card?.declinesOnAttach && card.decline) {
    paymentMethodTable(scope).delete(paymentMethod.id);
    throw declineError(card.decline);
  }
  const attached = savePaymentMethod(scope, { ...paymentMethod, customer: customer.id });
  emitEvent(scope, 'payment_method.attached', attached, undefined, at);
  return attached;
}

/** Detaches a payment method; a customer's default stops pointing at it, as in Stripe. */
export function detachPaymentMethod(scope: Scope, id: string): WirePaymentMethod {
  const paymentMethod = requirePaymentMethod(scope, id, 'payment_method');
  const customerId = typeof paymentMethod.customer === 'string' ? paymentMethod.customer : null;
  if (!customerId)
    throw invalidState(
      'The payment method you provided is not attached to a customer so detachment is impossible.',
      undefined,
      'payment_method_unexpected_state',
    );
  const detached = savePaymentMethod(scope, { ...paymentMethod, customer: null });
  emitEvent(scope, 'payment_method.detached', detached, { customer: customerId });
  const customer = scope.partition.table<Wire<Stripe.Customer>>('customer').get(customerId);
  if (customer && customer.invoice_settings.default_payment_method === id) {
    const after = structuredClone(customer);
    after.invoice_settings.default_payment_method = null;
    saveCustomer(scope, customer, after);
  }
  return detached;
}

/** Checks that a payment method may be used for a customer's payment. */
export function assertUsableFor(paymentMethod: WirePaymentMethod, customerId: string | null, param: string) {
  const owner = typeof paymentMethod.customer === 'string' ? paymentMethod.customer : null;
  if (owner && owner !== customerId)
    throw parameterInvalid(
      param,
      customerId
        ? `The provided PaymentMethod belongs to a different Customer (${owner}). Use the Customer it is attached to.`
        : `The payment method \`${paymentMethod.id}\` belongs to the Customer \`${owner}\`. Please include the Customer in the \`customer\` parameter on the PaymentIntent.`,
    );
}

/**
 * The test card a stored card payment method was made from: null for cards the emulator never issued
 * and for every other type (sepa_debit, ideal …), which therefore charge successfully, on or off session.
 */
export function testCardOf(paymentMethod: WirePaymentMethod): TestCard | null {
  return testCardForFingerprint(paymentMethod.card?.fingerprint);
}
