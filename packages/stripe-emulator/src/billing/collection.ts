import { cardError, invalidState } from '../core/errors.ts';
import type { Scope } from '../core/scope.ts';
import {
  type ChargeOutcome,
  chargeInvoice,
  defaultPaymentMethodFor,
  paymentIntentTable,
} from '../payments/index.ts';
import { emitBillingEvent } from './atomic.ts';
import { endSubscription } from './cancellation.ts';
import { type DunningPolicy, nextRetryAt } from './dunning.ts';
import { paymentForIntent, recordPayment } from './invoice-payments.ts';
import { invoicesOfSubscription, markPaid, markUncollectible, saveInvoice, voidInvoice } from './invoices.ts';
import { billingOptions } from './options.ts';
import {
  idOf,
  invoiceBookkeeping,
  invoiceBookkeepingFor,
  invoiceSubscriptionId,
  invoices,
  subscriptions,
  type WireInvoice,
  type WireSubscription,
} from './store.ts';
import { saveSubscription } from './subscription-store.ts';

/**
 * Collecting an open invoice: charge it through the payments side, record the `invoice_payment`, and
 * carry the outcome to the invoice and its subscription — paid (incomplete/past_due → active), or
 * failed (active → past_due, retries scheduled; when the schedule runs out, the configured final
 * outcome for the subscription and the invoice).
 */
export type Collection = {
  invoice: WireInvoice;
  /** The charge attempt, or `null` when nothing needed charging. */
  outcome: ChargeOutcome | null;
};

const subscriptionOf = (scope: Scope, invoice: WireInvoice): WireSubscription | null => {
  const id = invoiceSubscriptionId(invoice);
  return id ? (subscriptions(scope.partition).get(id) ?? null) : null;
};

export function collectInvoice(
  scope: Scope,
  invoice: WireInvoice,
  at: number,
  paymentMethod: string | null = null,
): Collection {
  if (invoice.status !== 'open' && invoice.status !== 'uncollectible')
    throw invalidState(`Invoice is already ${invoice.status}.`, undefined, 'invoice_not_open');
  if (invoice.amount_remaining === 0) {
    const paid = markPaid(scope, invoice, invoice, 0, at);
    afterPaid(scope, paid, at);
    return { invoice: paid, outcome: null };
  }
  const subscription = subscriptionOf(scope, invoice);
  const customerId = idOf(invoice.customer) ?? '';
  const method =
    paymentMethod ??
    idOf(invoice.default_payment_method) ??
    defaultPaymentMethodFor(scope, customerId, idOf(subscription?.default_payment_method));
  const outcome = chargeInvoice(scope, {
    customerId,
    invoiceId: invoice.id,
    amount: invoice.amount_remaining,
    currency: invoice.currency,
    paymentMethodId: method,
    description: invoiceDescription(invoice),
    at,
  });
  const payment = recordPayment(scope, invoice, outcome.paymentIntent.id, outcome.succeeded, at);
  const attempted = { ...invoice, attempt_count: invoice.attempt_count + 1, attempted: true };
  if (outcome.succeeded) {
    const paid = markPaid(scope, invoice, attempted, invoice.amount_remaining, at);
    emitBillingEvent(scope, 'invoice_payment.paid', payment, undefined, at);
    afterPaid(scope, paid, at, idOf(outcome.paymentIntent.payment_method));
    return { invoice: paid, outcome };
  }
  return { invoice: recordFailure(scope, invoice, attempted, at), outcome };
}

const invoiceDescription = (invoice: WireInvoice) =>
  invoice.parent?.subscription_details ? 'Subscription update' : `Invoice ${invoice.number ?? invoice.id}`;

/** The invoice's automatic collection stops for a first invoice (the customer has 23 hours to pay). */
function retriesApply(invoice: WireInvoice, subscription: WireSubscription | null): boolean {
  if (invoice.collection_method !== 'charge_automatically') return false;
  return subscription?.status !== 'incomplete';
}

function recordFailure(scope: Scope, before: WireInvoice, attempted: WireInvoice, at: number): WireInvoice {
  const subscription = subscriptionOf(scope, before);
  const { dunning } = billingOptions(scope.emulator);
  const bookkeeping = invoiceBookkeepingFor(scope.partition, before.id);
  const firstFailedAt = bookkeeping.firstFailedAt ?? at;
  invoiceBookkeeping(scope.partition).replace({ ...bookkeeping, firstFailedAt });
  const retrying = retriesApply(before, subscription);
  const nextAttempt = retrying ? nextRetryAt(dunning, firstFailedAt, attempted.attempt_count) : null;
  const failed = saveInvoice(
    scope,
    before,
    { ...attempted, next_payment_attempt: nextAttempt, auto_advance: nextAttempt !== null },
    null,
    at,
  );
  emitBillingEvent(scope, 'invoice.payment_failed', failed, undefined, at);
  saveInvoice(scope, before, failed, 'invoice.updated', at);
  if (!subscription || subscription.status === 'incomplete') return failed;
  const pastDue = markPastDue(scope, subscription, at);
  if (retrying && nextAttempt === null) return applyFinalOutcome(scope, failed, pastDue, dunning, at);
  return failed;
}

export function markPastDue(scope: Scope, subscription: WireSubscription, at: number): WireSubscription {
  if (subscription.status !== 'active' && subscription.status !== 'trialing') return subscription;
  return saveSubscription(scope, subscription, { ...subscription, status: 'past_due' }, at);
}

function applyFinalOutcome(
  scope: Scope,
  invoice: WireInvoice,
  subscription: WireSubscription,
  policy: DunningPolicy,
  at: number,
): WireInvoice {
  let settled = invoice;
  if (policy.invoiceOutcome === 'mark_uncollectible') settled = markUncollectible(scope, invoice, at);
  else if (policy.invoiceOutcome === 'void') settled = voidInvoice(scope, invoice, at);
  if (policy.subscriptionOutcome === 'cancel')
    endSubscription(scope, subscription, at, {
      status: 'canceled',
      reason: 'payment_failed',
      clearSchedule: false,
    });
  else if (policy.subscriptionOutcome === 'mark_unpaid' && subscription.status !== 'unpaid')
    saveSubscription(scope, subscription, { ...subscription, status: 'unpaid' }, at);
  return settled;
}

/**
 * A paid invoice settles its subscription: a first invoice activates it, a late one ends past_due.
 * With `payment_settings.save_default_payment_method=on_subscription`, the payment method that paid
 * becomes the subscription's default.
 */
function afterPaid(scope: Scope, invoice: WireInvoice, at: number, used: string | null = null): void {
  const subscription = subscriptionOf(scope, invoice);
  if (!subscription) return;
  const next = { ...subscription, status: statusAfterPayment(scope, subscription, invoice, at) };
  if (
    used &&
    !next.default_payment_method &&
    next.payment_settings?.save_default_payment_method === 'on_subscription'
  )
    next.default_payment_method = used;
  saveSubscription(scope, subscription, next, at);
}

function statusAfterPayment(
  scope: Scope,
  subscription: WireSubscription,
  invoice: WireInvoice,
  at: number,
): WireSubscription['status'] {
  if (subscription.status === 'incomplete')
    return subscription.trial_end !== null && subscription.trial_end > at ? 'trialing' : 'active';
  if (subscription.status !== 'past_due' && subscription.status !== 'unpaid') return subscription.status;
  const stillOwed = invoicesOfSubscription(scope, subscription.id).some(
    (other) => other.id !== invoice.id && other.status === 'open' && other.amount_remaining > 0,
  );
  return stillOwed ? subscription.status : 'active';
}

/**
 * A payment intent of an open invoice succeeded outside the engine's own charge (the customer
 * confirmed it, e.g. the first invoice of a `default_incomplete` subscription): the invoice is paid
 * and its subscription settles. Returns the invoice, or `null` when the intent pays no open invoice.
 */
export function settleInvoicePaymentIntent(
  scope: Scope,
  paymentIntentId: string,
  at: number,
): WireInvoice | null {
  const payment = paymentForIntent(scope.partition, paymentIntentId);
  const invoice = payment ? invoices(scope.partition).get(String(payment.invoice)) : undefined;
  if (!payment || !invoice || (invoice.status !== 'open' && invoice.status !== 'uncollectible')) return null;
  const settled = recordPayment(scope, invoice, paymentIntentId, true, at);
  const attempted = { ...invoice, attempt_count: invoice.attempt_count + 1, attempted: true };
  const paid = markPaid(scope, invoice, attempted, invoice.amount_remaining, at);
  emitBillingEvent(scope, 'invoice_payment.paid', settled, undefined, at);
  afterPaid(scope, paid, at, idOf(paymentIntentTable(scope).get(paymentIntentId)?.payment_method));
  return paid;
}

/** The 402 a request gets when it asked for payment now and the charge failed. */
export function paymentFailedError(outcome: ChargeOutcome) {
  const failure = outcome.failure ?? { code: 'card_declined', message: 'Your card was declined.' };
  return cardError(
    {
      code: failure.code,
      message: failure.message,
      ...(failure.declineCode ? { declineCode: failure.declineCode } : {}),
    },
    { payment_intent: outcome.paymentIntent },
  );
}
