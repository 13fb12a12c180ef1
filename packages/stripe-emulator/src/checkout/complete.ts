import type Stripe from 'stripe';
import { createSubscriptionForCheckout } from '../billing/index.ts';
import { invalidState } from '../core/errors.ts';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { createCustomer, customerTable, type WireCustomer } from '../customers/index.ts';
import { emitEvent } from '../events/emit.ts';
import {
  attachPaymentMethod,
  completeAuthentication,
  confirmPaymentIntent,
  confirmSetupIntent,
  createPaymentIntent,
  decideCharge,
  declineError,
  paymentIntentTable,
  requireSetupIntent,
  resolvePaymentMethod,
  testCardOf,
  type WirePaymentIntent,
  type WirePaymentMethod,
} from '../payments/index.ts';
import { customerDetails, type Mode, type WireSession } from './session-object.ts';
import {
  type CreateSessionParams,
  expireSession,
  lineItemTable,
  sessionOptions,
  sessionTable,
} from './sessions.ts';

export type Completion = { paymentMethod: string; email?: string | undefined; name?: string | undefined };

/**
 * Completes a session as the customer would on the Checkout page: pays (or sets up) with the card,
 * creating the customer when the session needs one. A declined card throws the card error and leaves
 * the session open for another try. `checkout.session.completed` is the last event emitted.
 */
export function completeSession(scope: Scope, session: WireSession, input: Completion): WireSession {
  const now = scope.emulator.clock.nowSeconds();
  // The expiry ticker runs on clock advances; a session past `expires_at` is expired all the same.
  const current =
    session.status === 'open' && session.expires_at <= now ? expireSession(scope, session, now) : session;
  if (current.status !== 'open')
    throw invalidState(
      `This Checkout Session is no longer active (its status is ${current.status}).`,
      undefined,
      'checkout_session_unexpected_state',
    );
  const params = sessionOptions(scope).get(session.id)?.params ?? {};
  const existing =
    typeof session.customer === 'string' ? (customerTable(scope).get(session.customer) ?? null) : null;
  const email = input.email ?? session.customer_email ?? existing?.email ?? null;
  const context: Context = { scope, session, params, existing, email, input };
  const completed =
    session.mode === 'subscription'
      ? completeSubscription(context)
      : session.mode === 'setup'
        ? completeSetup(context)
        : completePayment(context);
  const customer =
    typeof completed.customer === 'string' ? (customerTable(scope).get(completed.customer) ?? null) : null;
  const saved = sessionTable(scope).replace({
    ...completed,
    customer_details: customerDetails(email, customer, session.mode as Mode),
    status: 'complete',
    url: null,
  });
  emitEvent(scope, 'checkout.session.completed', saved, undefined, nowFor(scope, customer));
  return saved;
}

type Context = {
  scope: Scope;
  session: WireSession;
  params: CreateSessionParams;
  existing: WireCustomer | null;
  email: string | null;
  input: Completion;
};

function nowFor(scope: Scope, customer: WireCustomer | null): number {
  const clock = typeof customer?.test_clock === 'string' ? customer.test_clock : null;
  return scope.emulator.nowFor(scope.partition, clock);
}

function customerFor(context: Context): WireCustomer {
  if (context.existing) return context.existing;
  return createCustomer(context.scope, {
    ...(context.email ? { email: context.email } : {}),
    ...(context.input.name ? { name: context.input.name } : {}),
  });
}

/**
 * Cards that decline fail before anything is created, as Checkout confirms the payment before it
 * hands the subscription over. The billing engine charges subscription invoices off session, so a
 * card that insists on authentication is refused here too (Checkout would have shown the challenge).
 */
function assertCardAccepted(paymentMethod: WirePaymentMethod, charged: boolean): void {
  const card = testCardOf(paymentMethod);
  if (!card) return;
  if (card.declinesOnAttach && card.decline) throw declineError(card.decline);
  const decision = decideCharge(card.charge, card.decline, true);
  if (charged && decision.kind === 'declined') throw declineError(decision.decline);
}

/** Paid when the first invoice took money; a trial or a zero invoice needed no payment. */
function paymentStatusOf(scope: Scope, subscription: Wire<Stripe.Subscription>, invoice: string | null) {
  if (subscription.status !== 'active' && subscription.status !== 'trialing')
    throw new Error(`Checkout created subscription ${subscription.id} in status ${subscription.status}`);
  const paid = invoice
    ? (scope.partition.table<Wire<Stripe.Invoice>>('invoice').get(invoice)?.amount_paid ?? 0)
    : 0;
  return paid > 0 ? 'paid' : 'no_payment_required';
}

function completeSubscription(context: Context): WireSession {
  const { scope, session, params } = context;
  const subscriptionData = params.subscription_data;
  const trial =
    subscriptionData?.trial_period_days !== undefined || subscriptionData?.trial_end !== undefined;
  const paymentMethod = resolvePaymentMethod(scope, context.input.paymentMethod, 'payment_method');
  assertCardAccepted(paymentMethod, !trial && (session.amount_total ?? 0) > 0);
  const customer = customerFor(context);
  attachPaymentMethod(scope, paymentMethod.id, customer.id);
  const items = (lineItemTable(scope).get(session.id)?.items ?? []).map((item) => ({
    price: String(item.price?.id),
    quantity: item.quantity ?? 1,
  }));
  const subscription = createSubscriptionForCheckout(scope, {
    customerId: customer.id,
    items,
    ...(subscriptionData?.trial_period_days !== undefined
      ? { trialPeriodDays: subscriptionData.trial_period_days }
      : {}),
    ...(subscriptionData?.trial_end !== undefined ? { trialEnd: subscriptionData.trial_end } : {}),
    metadata: subscriptionData?.metadata ?? {},
    defaultPaymentMethod: paymentMethod.id,
    description: subscriptionData?.description ?? null,
  });
  const invoice =
    typeof subscription.latest_invoice === 'string'
      ? subscription.latest_invoice
      : (subscription.latest_invoice?.id ?? null);
  return {
    ...session,
    customer: customer.id,
    invoice,
    payment_status: paymentStatusOf(scope, subscription, invoice),
    subscription: subscription.id,
  };
}

function completeSetup(context: Context): WireSession {
  const { scope, session } = context;
  const setupIntentId = typeof session.setup_intent === 'string' ? session.setup_intent : '';
  const setupIntent = requireSetupIntent(scope, setupIntentId, 'setup_intent');
  confirmSetupIntent(scope, setupIntent, context.input.paymentMethod, nowFor(scope, context.existing));
  return session;
}

function completePayment(context: Context): WireSession {
  const { scope, session, params } = context;
  const paymentMethod = resolvePaymentMethod(scope, context.input.paymentMethod, 'payment_method');
  const card = testCardOf(paymentMethod);
  const declines = card !== null && decideCharge(card.charge, card.decline, false).kind === 'declined';
  const needsCustomer =
    session.customer_creation === 'always' || params.payment_intent_data?.setup_future_usage;
  const customer = !declines && needsCustomer ? customerFor(context) : context.existing;
  const at = nowFor(scope, customer);
  const ready = paymentIntentFor(context, customer, paymentMethod, at);
  sessionTable(scope).replace({ ...session, payment_intent: ready.id });
  let confirmation = confirmPaymentIntent(scope, ready, { offSession: false, returnUrl: null, at });
  // The customer is on the Checkout page and authenticates when the card asks for it.
  if (confirmation.paymentIntent.status === 'requires_action')
    confirmation = completeAuthentication(scope, confirmation.paymentIntent, true, at);
  if (confirmation.decline)
    throw declineError(confirmation.decline, {
      payment_intent: confirmation.paymentIntent,
      payment_method: confirmation.paymentMethod,
    });
  return {
    ...session,
    customer: customer?.id ?? null,
    payment_intent: confirmation.paymentIntent.id,
    // A manual-capture payment is only authorized: Checkout reports it unpaid until it is captured.
    payment_status: confirmation.paymentIntent.status === 'succeeded' ? 'paid' : 'unpaid',
  };
}

/** The session's payment intent: the one a declined attempt left behind, or a new one. */
function paymentIntentFor(
  context: Context,
  customer: WireCustomer | null,
  paymentMethod: WirePaymentMethod,
  at: number,
): WirePaymentIntent {
  const { scope, session, params } = context;
  const earlier =
    typeof session.payment_intent === 'string'
      ? paymentIntentTable(scope).get(session.payment_intent)
      : undefined;
  if (earlier)
    return paymentIntentTable(scope).replace({
      ...earlier,
      customer: customer?.id ?? null,
      payment_method: paymentMethod.id,
      status: 'requires_confirmation',
    });
  const data = params.payment_intent_data;
  return createPaymentIntent(scope, {
    amount: session.amount_total ?? 0,
    currency: session.currency ?? 'usd',
    customer: customer?.id ?? null,
    description: data?.description ?? null,
    metadata: data?.metadata ?? {},
    paymentMethod: paymentMethod.id,
    paymentMethodTypes: ['card'],
    captureMethod: data?.capture_method ?? 'automatic',
    confirmationMethod: 'automatic',
    setupFutureUsage: data?.setup_future_usage ?? null,
    receiptEmail: data?.receipt_email ?? null,
    statementDescriptor: data?.statement_descriptor ?? null,
    statementDescriptorSuffix: data?.statement_descriptor_suffix ?? null,
    transferGroup: null,
    at,
  });
}
