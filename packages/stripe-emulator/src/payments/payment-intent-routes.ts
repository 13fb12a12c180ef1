import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidState, parameterInvalid, StripeError } from '../core/errors.ts';
import { matchesCreated, paginate } from '../core/list.ts';
import { bool, int, mergeMetadata, metadata, oneOf } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import { type SearchFields, search, searchParams } from '../core/search.ts';
import { customerTable, requireCustomer } from '../customers/index.ts';
import { type Route, route } from '../server/route.ts';
import { settleInvoiceOf } from './invoice-settlement.ts';
import { cancelPaymentIntent, capturePaymentIntent } from './payment-intent-capture.ts';
import { confirmParams, createParams, listParams, updateParams } from './payment-intent-params.ts';
import {
  assertConfirmable,
  type Confirmation,
  confirmPaymentIntent,
  createPaymentIntent,
  paymentIntentTable,
  requirePaymentIntent,
  type WirePaymentIntent,
} from './payment-intents.ts';
import { assertUsableFor, declineError, resolvePaymentMethod } from './payment-methods.ts';

const searchFields: SearchFields<WirePaymentIntent> = {
  amount: (pi) => pi.amount,
  created: (pi) => pi.created,
  currency: (pi) => pi.currency,
  customer: (pi) => pi.customer,
  status: (pi) => pi.status,
};

const UPDATABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'];

/** "Now" for a payment: the customer's test clock time when it has one. */
function nowForCustomer(scope: Scope, customerId: string | null): number {
  const customer = customerId ? customerTable(scope).get(customerId) : undefined;
  const clock = typeof customer?.test_clock === 'string' ? customer.test_clock : null;
  return scope.emulator.nowFor(scope.partition, clock);
}

/** A test token (`pm_card_visa`) becomes a stored payment method the intent can point at. */
function paymentMethodFor(scope: Scope, id: string | undefined, customer: string | null, at: number) {
  if (id === undefined) return undefined;
  const paymentMethod = resolvePaymentMethod(scope, id, 'payment_method', at);
  assertUsableFor(paymentMethod, customer, 'payment_method');
  return paymentMethod.id;
}

/** Stripe reports an amount below the minimum with the integer code, unlike other range errors. */
function checkAmount(amount: number | undefined): void {
  if (amount === undefined || amount >= 1) return;
  throw new StripeError(400, {
    type: 'invalid_request_error',
    code: 'parameter_invalid_integer',
    doc_url: 'https://stripe.com/docs/error-codes/parameter-invalid-integer',
    message: 'This value must be greater than or equal to 1.',
    param: 'amount',
  });
}

const isOffSession = (value: boolean | string | undefined) => value !== undefined && value !== false;

/** Answers a confirmation: the intent, or the card error Stripe sends with the intent inside it. */
function answer(confirmation: Confirmation): WirePaymentIntent {
  const { decline, paymentIntent, paymentMethod, charge } = confirmation;
  if (!decline) return paymentIntent;
  throw declineError(decline, {
    ...(charge ? { charge: charge.id } : {}),
    payment_intent: paymentIntent,
    payment_method: paymentMethod,
  });
}

function create(scope: Scope, params: z.output<typeof createParams>): WirePaymentIntent {
  checkAmount(params.amount);
  const customer = params.customer ?? null;
  if (customer) requireCustomer(scope, customer, 'customer');
  const at = nowForCustomer(scope, customer);
  if (params.off_session !== undefined && !params.confirm)
    throw parameterInvalid('off_session', 'You can only pass `off_session` when `confirm=true`.');
  const paymentIntent = createPaymentIntent(scope, {
    amount: params.amount,
    currency: params.currency.toLowerCase(),
    customer,
    description: params.description ?? null,
    metadata: mergeMetadata({}, params.metadata),
    paymentMethod: paymentMethodFor(scope, params.payment_method, customer, at) ?? null,
    paymentMethodTypes: params.payment_method_types ?? null,
    allowedPaymentMethodTypes: params.allowed_payment_method_types ?? null,
    captureMethod: params.capture_method ?? 'automatic_async',
    confirmationMethod: params.confirmation_method ?? 'automatic',
    setupFutureUsage: params.setup_future_usage ?? null,
    receiptEmail: params.receipt_email ?? null,
    statementDescriptor: params.statement_descriptor ?? null,
    statementDescriptorSuffix: params.statement_descriptor_suffix ?? null,
    transferGroup: params.transfer_group ?? null,
    at,
  });
  if (!params.confirm) return paymentIntent;
  return answer(
    confirmPaymentIntent(scope, paymentIntent, {
      offSession: isOffSession(params.off_session),
      returnUrl: params.return_url ?? null,
      at,
    }),
  );
}

function update(scope: Scope, id: string, params: z.output<typeof updateParams>): WirePaymentIntent {
  checkAmount(params.amount);
  const before = requirePaymentIntent(scope, id);
  if (!UPDATABLE.includes(before.status as string))
    throw invalidState(
      `This PaymentIntent's ${Object.keys(params)[0] ?? 'amount'} could not be updated because it has a status of ${before.status}. You may only update the ${Object.keys(params)[0] ?? 'amount'} of a PaymentIntent with one of the following statuses: ${UPDATABLE.join(', ')}.`,
      undefined,
      'payment_intent_unexpected_state',
    );
  const customer = params.customer ?? (typeof before.customer === 'string' ? before.customer : null);
  if (params.customer) requireCustomer(scope, params.customer, 'customer');
  const at = nowForCustomer(scope, customer);
  const paymentMethod = paymentMethodFor(scope, params.payment_method, customer, at);
  const after: WirePaymentIntent = {
    ...before,
    ...(params.amount !== undefined ? { amount: params.amount } : {}),
    ...(params.currency !== undefined ? { currency: params.currency.toLowerCase() } : {}),
    ...(params.description !== undefined ? { description: params.description } : {}),
    ...(params.receipt_email !== undefined ? { receipt_email: params.receipt_email } : {}),
    ...(params.capture_method !== undefined ? { capture_method: params.capture_method } : {}),
    ...(params.setup_future_usage !== undefined ? { setup_future_usage: params.setup_future_usage } : {}),
    ...(params.payment_method_types !== undefined
      ? { payment_method_types: params.payment_method_types, automatic_payment_methods: null }
      : {}),
    ...(params.allowed_payment_method_types !== undefined
      ? {
          allowed_payment_method_types: params.allowed_payment_method_types,
          payment_method_types: params.allowed_payment_method_types.filter((type) => type === 'card'),
          automatic_payment_methods: null,
        }
      : {}),
    customer,
    metadata: mergeMetadata(before.metadata, params.metadata),
    ...(paymentMethod
      ? { payment_method: paymentMethod, status: 'requires_confirmation' as Stripe.PaymentIntent.Status }
      : {}),
  };
  return paymentIntentTable(scope).replace(after);
}

function confirm(scope: Scope, id: string, params: z.output<typeof confirmParams>): WirePaymentIntent {
  const before = requirePaymentIntent(scope, id);
  assertConfirmable(before);
  const customer = typeof before.customer === 'string' ? before.customer : null;
  const at = nowForCustomer(scope, customer);
  const paymentMethod = paymentMethodFor(scope, params.payment_method, customer, at);
  // Not stored here: confirming checks the intent before it writes anything, then stores what it
  // makes of this, so a refused confirmation leaves the intent as it was.
  const ready: WirePaymentIntent = {
    ...before,
    ...(paymentMethod ? { payment_method: paymentMethod } : {}),
    ...(params.capture_method !== undefined ? { capture_method: params.capture_method } : {}),
    ...(params.setup_future_usage !== undefined ? { setup_future_usage: params.setup_future_usage } : {}),
    ...(params.receipt_email !== undefined ? { receipt_email: params.receipt_email } : {}),
  };
  const confirmed = answer(
    confirmPaymentIntent(scope, ready, {
      offSession: isOffSession(params.off_session),
      returnUrl: params.return_url ?? null,
      at,
    }),
  );
  return settleInvoiceOf(scope, confirmed, at);
}

const atFor = (scope: Scope, pi: WirePaymentIntent) =>
  nowForCustomer(scope, typeof pi.customer === 'string' ? pi.customer : null);

export const paymentIntentRoutes: Route[] = [
  route('post', '/v1/payment_intents', createParams, ({ scope, params }) => create(scope, params)),
  route('get', '/v1/payment_intents/search', z.strictObject(searchParams), ({ scope, params }) =>
    search(paymentIntentTable(scope).newestFirst(), params, searchFields, '/v1/payment_intents/search'),
  ),
  route('get', '/v1/payment_intents', listParams, ({ scope, params }) => {
    const rows = paymentIntentTable(scope)
      .newestFirst()
      .filter(
        (pi) =>
          (params.customer === undefined || pi.customer === params.customer) &&
          matchesCreated(pi.created, params.created),
      );
    return paginate(rows, params, '/v1/payment_intents', 'payment_intent');
  }),
  route(
    'get',
    '/v1/payment_intents/:id',
    z.strictObject({ client_secret: z.string().optional() }),
    ({ scope, path }) => requirePaymentIntent(scope, path.id ?? ''),
  ),
  route('post', '/v1/payment_intents/:id', updateParams, ({ scope, path, params }) =>
    update(scope, path.id ?? '', params),
  ),
  route('post', '/v1/payment_intents/:id/confirm', confirmParams, ({ scope, path, params }) =>
    confirm(scope, path.id ?? '', params),
  ),
  route(
    'post',
    '/v1/payment_intents/:id/capture',
    z.strictObject({
      amount_to_capture: int({ min: 1 }).optional(),
      metadata: metadata().optional(),
      final_capture: bool().optional(),
      statement_descriptor: z.string().optional(),
      statement_descriptor_suffix: z.string().optional(),
    }),
    ({ scope, path, params }) => {
      const current = requirePaymentIntent(scope, path.id ?? '');
      const withMetadata = { ...current, metadata: mergeMetadata(current.metadata, params.metadata) };
      return capturePaymentIntent(scope, withMetadata, params.amount_to_capture, atFor(scope, current));
    },
  ),
  route(
    'post',
    '/v1/payment_intents/:id/cancel',
    z.strictObject({
      cancellation_reason: oneOf([
        'abandoned',
        'duplicate',
        'fraudulent',
        'requested_by_customer',
      ]).optional(),
    }),
    ({ scope, path, params }) => {
      const current = requirePaymentIntent(scope, path.id ?? '');
      return cancelPaymentIntent(scope, current, params.cancellation_reason ?? null, atFor(scope, current));
    },
  ),
];
