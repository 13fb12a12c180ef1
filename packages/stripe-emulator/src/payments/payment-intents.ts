import type Stripe from 'stripe';
import { invalidState, resourceMissing } from '../core/errors.ts';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { emitEvent } from '../events/emit.ts';
import { recordCharge, type WireCharge } from './charges.ts';
import {
  assertUsableFor,
  attachPaymentMethod,
  requirePaymentMethod,
  testCardOf,
  type WirePaymentMethod,
} from './payment-methods.ts';
import { type Decline, decideCharge } from './test-cards.ts';

export type WirePaymentIntent = Wire<Stripe.PaymentIntent>;

export const paymentIntentTable = (scope: Scope) =>
  scope.partition.table<WirePaymentIntent>('payment_intent');

export function requirePaymentIntent(scope: Scope, id: string, param = 'id'): WirePaymentIntent {
  const paymentIntent = paymentIntentTable(scope).get(id);
  if (!paymentIntent) throw resourceMissing('payment_intent', id, param);
  return paymentIntent;
}

export type NewPaymentIntent = {
  amount: number;
  currency: string;
  customer: string | null;
  description: string | null;
  metadata: Record<string, string>;
  paymentMethod: string | null;
  /** `null` lets Stripe pick the methods (automatic payment methods); cards are all the emulator has. */
  paymentMethodTypes: string[] | null;
  /** `allowed_payment_method_types`, the current API's way of restricting the methods. */
  allowedPaymentMethodTypes?: string[] | null;
  captureMethod: Stripe.PaymentIntent.CaptureMethod;
  confirmationMethod: Stripe.PaymentIntent.ConfirmationMethod;
  setupFutureUsage: Stripe.PaymentIntent.SetupFutureUsage | null;
  receiptEmail: string | null;
  statementDescriptor: string | null;
  statementDescriptorSuffix: string | null;
  transferGroup: string | null;
  /** What the payment is for; invoices' payment intents carry the invoice as the order reference. */
  paymentDetails?: { customer_reference: string | null; order_reference: string | null } | undefined;
  at: number;
};

/** Stores a new payment intent and emits `payment_intent.created`. */
export function createPaymentIntent(scope: Scope, input: NewPaymentIntent): WirePaymentIntent {
  const id = scope.emulator.random.id('pi', 24);
  const allowed = input.allowedPaymentMethodTypes ?? null;
  const automatic = input.paymentMethodTypes === null && allowed === null;
  const paymentIntent: WirePaymentIntent = {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: allowed,
    amount: input.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: automatic ? { allow_redirects: 'always', enabled: true } : null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: input.captureMethod,
    client_secret: `${id}_secret_${scope.emulator.random.token(25)}`,
    confirmation_method: input.confirmationMethod,
    created: input.at,
    currency: input.currency,
    customer: input.customer,
    customer_account: null,
    description: input.description,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: scope.partition.livemode,
    managed_payments: null,
    metadata: input.metadata,
    next_action: null,
    on_behalf_of: null,
    ...(input.paymentDetails ? { payment_details: input.paymentDetails } : {}),
    payment_method: input.paymentMethod,
    payment_method_configuration_details: null,
    payment_method_options: {
      card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
    },
    payment_method_types:
      input.paymentMethodTypes ?? (allowed ? allowed.filter((type) => type === 'card') : ['card']),
    payment_record: null,
    processing: null,
    receipt_email: input.receiptEmail,
    review: null,
    setup_future_usage: input.setupFutureUsage,
    shipping: null,
    source: null,
    statement_descriptor: input.statementDescriptor,
    statement_descriptor_suffix: input.statementDescriptorSuffix,
    status: input.paymentMethod ? 'requires_confirmation' : 'requires_payment_method',
    transfer_data: null,
    transfer_group: input.transferGroup,
  };
  paymentIntentTable(scope).insert(paymentIntent);
  emitEvent(scope, 'payment_intent.created', paymentIntent, undefined, input.at);
  return paymentIntent;
}

export type ConfirmOptions = { offSession: boolean; returnUrl: string | null; at: number };

/** The result of confirming: the intent's new state, the charge (if any), and the decline (if any). */
export type Confirmation = {
  paymentIntent: WirePaymentIntent;
  paymentMethod: WirePaymentMethod;
  charge: WireCharge | null;
  decline: Decline | null;
};

const CONFIRMABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'];

/**
 * Confirms a payment intent with its payment method: the card network approves (→ succeeded, or
 * requires_capture for manual capture), declines (→ requires_payment_method with
 * `last_payment_error`), or asks for authentication (→ requires_action; off session that is a decline).
 */
export function confirmPaymentIntent(
  scope: Scope,
  current: WirePaymentIntent,
  options: ConfirmOptions,
): Confirmation {
  assertConfirmable(current);
  const paymentMethodId = typeof current.payment_method === 'string' ? current.payment_method : null;
  if (!paymentMethodId)
    throw invalidState(
      "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent, specify a payment method (for example `payment_method=pm_card_visa`).",
      undefined,
      'payment_intent_unexpected_state',
    );
  const customer = typeof current.customer === 'string' ? current.customer : null;
  const paymentMethod = requirePaymentMethod(scope, paymentMethodId, 'payment_method');
  assertUsableFor(paymentMethod, customer, 'payment_method');
  const card = testCardOf(paymentMethod);
  const decision = decideCharge(card?.charge ?? 'approve', card?.decline ?? null, options.offSession);
  if (decision.kind === 'requires_action') {
    const paymentIntent = save(scope, {
      ...current,
      status: 'requires_action',
      next_action: nextAction(current, options),
    });
    emitEvent(scope, 'payment_intent.requires_action', paymentIntent, undefined, options.at);
    return { paymentIntent, paymentMethod, charge: null, decline: null };
  }
  return charge(
    scope,
    current,
    paymentMethod,
    decision.kind === 'declined' ? decision.decline : null,
    options.at,
  );
}

/** Charges the card after authentication, or fails the intent when the customer did not authenticate. */
export function completeAuthentication(
  scope: Scope,
  current: WirePaymentIntent,
  authenticated: boolean,
  at: number,
): Confirmation {
  if (current.status !== 'requires_action')
    throw invalidState(
      `This PaymentIntent's status is ${current.status}; only a PaymentIntent that requires action can be authenticated.`,
      undefined,
      'payment_intent_unexpected_state',
    );
  const paymentMethod = requirePaymentMethod(scope, String(current.payment_method), 'payment_method');
  if (authenticated) return charge(scope, current, paymentMethod, null, at);
  const failure: Decline = {
    code: 'payment_intent_authentication_failure',
    declineCode: '',
    message:
      'We are unable to authenticate your payment method. Please choose a different payment method and try again.',
    adviceCode: null,
    networkDeclineCode: null,
  };
  const paymentIntent = save(scope, failedState(current, paymentMethod, failure, null));
  emitEvent(scope, 'payment_intent.payment_failed', paymentIntent, undefined, at);
  return { paymentIntent, paymentMethod, charge: null, decline: failure };
}

function charge(
  scope: Scope,
  current: WirePaymentIntent,
  paymentMethod: WirePaymentMethod,
  decline: Decline | null,
  at: number,
): Confirmation {
  const capture = current.capture_method !== 'manual';
  const customer = typeof current.customer === 'string' ? current.customer : null;
  const recorded = recordCharge(scope, {
    paymentIntent: { id: current.id, amount: current.amount, currency: current.currency, customer },
    description: current.description,
    metadata: current.metadata,
    paymentMethod,
    capture,
    decline,
    at,
  });
  if (decline) {
    const paymentIntent = save(scope, failedState(current, paymentMethod, decline, recorded.id));
    emitEvent(scope, 'payment_intent.payment_failed', paymentIntent, undefined, at);
    return { paymentIntent, paymentMethod, charge: recorded, decline };
  }
  const saved = saveForFuture(scope, current, paymentMethod, customer);
  const paymentIntent = save(scope, {
    ...current,
    amount_capturable: capture ? 0 : current.amount,
    amount_received: capture ? current.amount : 0,
    last_payment_error: null,
    latest_charge: recorded.id,
    next_action: null,
    status: capture ? 'succeeded' : 'requires_capture',
  });
  emitEvent(
    scope,
    capture ? 'payment_intent.succeeded' : 'payment_intent.amount_capturable_updated',
    paymentIntent,
    undefined,
    at,
  );
  return { paymentIntent, paymentMethod: saved, charge: recorded, decline: null };
}

/** `setup_future_usage` with a customer saves the card on that customer once it has been charged. */
function saveForFuture(
  scope: Scope,
  current: WirePaymentIntent,
  paymentMethod: WirePaymentMethod,
  customer: string | null,
): WirePaymentMethod {
  if (!current.setup_future_usage || !customer || paymentMethod.customer) return paymentMethod;
  return attachPaymentMethod(scope, paymentMethod.id, customer);
}

function failedState(
  current: WirePaymentIntent,
  paymentMethod: WirePaymentMethod,
  decline: Decline,
  chargeId: string | null,
): WirePaymentIntent {
  return {
    ...current,
    last_payment_error: {
      ...(decline.adviceCode ? { advice_code: decline.adviceCode } : {}),
      ...(chargeId ? { charge: chargeId } : {}),
      code: decline.code,
      ...(decline.declineCode ? { decline_code: decline.declineCode } : {}),
      doc_url: `https://stripe.com/docs/error-codes/${decline.code.replaceAll('_', '-')}`,
      message: decline.message,
      ...(decline.networkDeclineCode ? { network_decline_code: decline.networkDeclineCode } : {}),
      payment_method: paymentMethod as Wire<Stripe.PaymentMethod>,
      type: 'card_error',
    },
    latest_charge: chargeId ?? current.latest_charge,
    next_action: null,
    payment_method: null,
    status: 'requires_payment_method',
  };
}

function nextAction(current: WirePaymentIntent, options: ConfirmOptions): WirePaymentIntent['next_action'] {
  if (options.returnUrl)
    return {
      type: 'redirect_to_url',
      redirect_to_url: {
        return_url: options.returnUrl,
        url: `https://hooks.stripe.com/3d_secure_2/hosted?payment_intent=${current.id}`,
      },
    };
  return { type: 'use_stripe_sdk', use_stripe_sdk: {} };
}

/** Only an intent still waiting for payment can be confirmed. */
export function assertConfirmable(current: WirePaymentIntent): void {
  if (CONFIRMABLE.includes(current.status as string)) return;
  const message =
    current.status === 'succeeded'
      ? 'You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.'
      : `You cannot confirm this PaymentIntent because it has a status of ${current.status}. Only a PaymentIntent with one of the following statuses may be confirmed: ${CONFIRMABLE.join(', ')}.`;
  throw invalidState(message, undefined, 'payment_intent_unexpected_state');
}

export function save(scope: Scope, paymentIntent: WirePaymentIntent): WirePaymentIntent {
  return paymentIntentTable(scope).replace(paymentIntent);
}
