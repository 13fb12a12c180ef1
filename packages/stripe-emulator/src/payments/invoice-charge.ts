import type Stripe from 'stripe';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { customerTable } from '../customers/index.ts';
import { emitEvent } from '../events/emit.ts';
import { confirmPaymentIntent, createPaymentIntent, paymentIntentTable } from './payment-intents.ts';
import { paymentMethodTable } from './payment-methods.ts';

export type ChargeFailure = { code: string; declineCode?: string; message: string };

export type ChargeOutcome = {
  paymentIntent: Wire<Stripe.PaymentIntent>;
  succeeded: boolean;
  failure: ChargeFailure | null;
};

export type InvoiceCharge = {
  customerId: string;
  /** The invoice being paid: the intent's `payment_details.order_reference` (invoice_payment objects, which the billing engine records, link the two). */
  invoiceId: string;
  amount: number;
  currency: string;
  paymentMethodId: string | null;
  description: string | null;
  at: number;
};

const NO_PAYMENT_METHOD: ChargeFailure = {
  code: 'payment_intent_payment_attempt_failed',
  message:
    'This customer has no attached payment source or default payment method. Please consider adding a default payment method.',
};

/**
 * Stripe cuts the invoice id to 25 characters here: a recorded intent of invoice
 * `in_1SRzp4KXBGcbgpbZ9xmUJ3df` has `order_reference: "in_1SRzp4KXBGcbgpbZ9xmUJ3"`.
 */
const ORDER_REFERENCE_MAX = 25;

export const orderReference = (invoiceId: string) => invoiceId.slice(0, ORDER_REFERENCE_MAX);

/**
 * Pays an invoice the way Stripe's billing does: a payment intent for the amount due, confirmed off
 * session with the given payment method, charged per the test-card rules. Emits the payment intent's
 * and the charge's events at `at` (the invoice's clock time) and returns the outcome as a value.
 */
export function chargeInvoice(scope: Scope, input: InvoiceCharge): ChargeOutcome {
  const stored = input.paymentMethodId ? paymentMethodTable(scope).get(input.paymentMethodId) : undefined;
  const usable = stored && (stored.customer === null || stored.customer === input.customerId) ? stored : null;
  const created = createPaymentIntent(scope, {
    amount: input.amount,
    currency: input.currency,
    customer: input.customerId,
    description: input.description,
    metadata: {},
    paymentMethod: usable ? usable.id : null,
    paymentMethodTypes: ['card'],
    captureMethod: 'automatic',
    confirmationMethod: 'automatic',
    setupFutureUsage: null,
    receiptEmail: null,
    statementDescriptor: null,
    statementDescriptorSuffix: null,
    transferGroup: null,
    paymentDetails: { customer_reference: null, order_reference: orderReference(input.invoiceId) },
    at: input.at,
  });
  if (!usable) return failWithoutPaymentMethod(scope, created, input.at);
  const confirmation = confirmPaymentIntent(scope, created, {
    offSession: true,
    returnUrl: null,
    at: input.at,
  });
  const { decline } = confirmation;
  return {
    paymentIntent: confirmation.paymentIntent,
    succeeded: confirmation.paymentIntent.status === 'succeeded',
    failure: decline
      ? {
          code: decline.code,
          message: decline.message,
          ...(decline.declineCode ? { declineCode: decline.declineCode } : {}),
        }
      : null,
  };
}

function failWithoutPaymentMethod(
  scope: Scope,
  created: Wire<Stripe.PaymentIntent>,
  at: number,
): ChargeOutcome {
  const paymentIntent = paymentIntentTable(scope).replace({
    ...created,
    last_payment_error: {
      code: NO_PAYMENT_METHOD.code,
      doc_url: 'https://stripe.com/docs/error-codes/payment-intent-payment-attempt-failed',
      message: NO_PAYMENT_METHOD.message,
      type: 'invalid_request_error',
    },
  });
  emitEvent(scope, 'payment_intent.payment_failed', paymentIntent, undefined, at);
  return { paymentIntent, succeeded: false, failure: NO_PAYMENT_METHOD };
}

/** The payment method an invoice is charged to: the subscription's default, else the customer's. */
export function defaultPaymentMethodFor(
  scope: Scope,
  customerId: string,
  subscriptionDefault: string | null,
): string | null {
  if (subscriptionDefault) return subscriptionDefault;
  const customer = customerTable(scope).get(customerId);
  const customerDefault = customer?.invoice_settings.default_payment_method;
  return typeof customerDefault === 'string' ? customerDefault : null;
}
