import { invalidState } from '../core/errors.ts';
import type { Scope } from '../core/scope.ts';
import { atomically, emitBillingEvent } from './atomic.ts';
import { endSubscription } from './cancellation.ts';
import { markPastDue, paymentFailedError } from './collection.ts';
import { oneOffLines } from './create.ts';
import { runDueWorkFor } from './due-work.ts';
import type { LineSpec } from './invoice-objects.ts';
import { insertInvoice, insertInvoiceItems, pendingItemsFor } from './invoices.ts';
import { issueInvoice } from './issue.ts';
import { currentPeriod, stateOf } from './item-changes.ts';
import { contextOf, periodOf, prorationLines, usageLine } from './lines.ts';
import { requireAttachedPaymentMethod } from './payment-method.ts';
import { idOf, invoiceItems, subscriptions, type WireSubscription } from './store.ts';
import { collectionMethodOf, customerOf, saveSubscription } from './subscription-store.ts';
import { invoiceNewPeriod, pauseSubscription, restartedAt } from './transitions.ts';
import { planUpdate, type SubscriptionChanges } from './update-plan.ts';

/**
 * Requests that change a subscription: updates (items, trial, cancellation schedule, paused
 * collection …), pause and resume, and immediate cancellation. Prorations become invoice items,
 * billed now (`always_invoice`, or when the interval changed) or at the next renewal.
 */
export const nowFor = (scope: Scope, subscription: WireSubscription) =>
  scope.emulator.nowFor(scope.partition, idOf(subscription.test_clock));

const latest = (scope: Scope, id: string) => subscriptions(scope.partition).get(id);

export function updateSubscription(
  scope: Scope,
  subscription: WireSubscription,
  changes: SubscriptionChanges,
): WireSubscription {
  const at = nowFor(scope, subscription);
  if (changes.defaultPaymentMethod)
    requireAttachedPaymentMethod(
      scope,
      changes.defaultPaymentMethod,
      customerOf(subscription),
      'default_payment_method',
    );
  const run = () => applyUpdate(scope, subscription, changes, at);
  const result = changes.paymentBehavior === 'error_if_incomplete' ? atomically(scope, run) : run();
  runDueWorkFor(scope, subscription.id, at);
  return latest(scope, subscription.id) ?? result;
}

function applyUpdate(
  scope: Scope,
  subscription: WireSubscription,
  changes: SubscriptionChanges,
  at: number,
): WireSubscription {
  const plan = planUpdate(scope, subscription, changes, at);
  const customerId = customerOf(subscription);
  // Stripe sends the trial notice also when a trial is ended early with `trial_end=now`.
  if (subscription.status === 'trialing' && changes.trialEnd === 'now')
    emitBillingEvent(scope, 'customer.subscription.trial_will_end', subscription, undefined, at);
  insertInvoiceItems(scope, customerId, plan.prorations, at);
  const period = currentPeriod(plan.next);
  insertInvoiceItems(
    scope,
    customerId,
    oneOffLines(scope, changes.addInvoiceItems ?? [], subscription.id, period),
    at,
  );
  if (!plan.invoiceNow) return saveSubscription(scope, subscription, plan.next, at);
  const invoice = insertUpdateInvoice(scope, subscription, plan.next, plan.newPeriodLines, at);
  const saved = saveSubscription(scope, subscription, { ...plan.next, latest_invoice: invoice.id }, at);
  const waitForConfirmation = changes.paymentBehavior === 'default_incomplete';
  const collection = issueInvoice(scope, invoice, at, waitForConfirmation ? 'await_confirmation' : 'charge');
  if (
    changes.paymentBehavior === 'error_if_incomplete' &&
    collection.outcome &&
    !collection.outcome.succeeded
  )
    throw paymentFailedError(collection.outcome);
  if (waitForConfirmation && collection.invoice.status === 'open')
    markPastDue(scope, latest(scope, saved.id) ?? saved, at);
  return latest(scope, saved.id) ?? saved;
}

/** `POST /v1/subscriptions/:id/pause`: collection and billing stop until the subscription is resumed. */
export function pauseNow(scope: Scope, subscription: WireSubscription): WireSubscription {
  if (!['active', 'trialing', 'past_due'].includes(String(subscription.status)))
    throw invalidState(
      `Only active, trialing or past_due subscriptions can be paused; this one is ${subscription.status}.`,
    );
  return pauseSubscription(scope, subscription, nowFor(scope, subscription), 'pause_requested');
}

/**
 * `POST /v1/subscriptions/:id/resume`: a paused subscription becomes active. By default its cycle
 * restarts now and the new period is invoiced and charged; `unchanged` keeps the current period when
 * it has not yet ended.
 */
export function resumePaused(
  scope: Scope,
  subscription: WireSubscription,
  anchor: 'now' | 'unchanged',
): WireSubscription {
  if (subscription.status !== 'paused')
    throw invalidState('Only paused subscriptions can be resumed.', undefined, 'subscription_not_paused');
  const at = nowFor(scope, subscription);
  const { status_details: _paused, ...rest } = subscription;
  const active: WireSubscription = { ...rest, status: 'active' };
  const announce = (saved: WireSubscription) =>
    emitBillingEvent(scope, 'customer.subscription.resumed', saved, undefined, at);
  if (anchor === 'unchanged' && currentPeriod(subscription).end > at) {
    announce(saveSubscription(scope, subscription, active, at));
    return latest(scope, subscription.id) ?? active;
  }
  invoiceNewPeriod(
    scope,
    subscription,
    restartedAt(active, at),
    at,
    {
      billingReason: 'subscription_update',
      invoicePeriod: { start: at, end: at },
      disposition: 'charge',
      timing: { autoAdvance: false, automaticallyFinalizesAt: null },
    },
    announce,
  );
  return latest(scope, subscription.id) ?? active;
}

export type CancelNow = {
  invoiceNow: boolean;
  prorate: boolean;
  comment?: string | null | undefined;
  feedback?: NonNullable<WireSubscription['cancellation_details']>['feedback'] | undefined;
};

/**
 * `DELETE /v1/subscriptions/:id`: ends it now. `prorate` credits the unused time as an invoice item;
 * `invoice_now` bills pending items and unbilled usage on a final invoice. With neither, pending
 * prorations of the subscription are removed, as Stripe does.
 */
export function cancelNow(
  scope: Scope,
  subscription: WireSubscription,
  options: CancelNow,
): WireSubscription {
  if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired')
    throw invalidState(`This subscription has already been canceled.`, undefined, 'resource_missing');
  const at = nowFor(scope, subscription);
  const customerId = customerOf(subscription);
  if (options.prorate && subscription.status !== 'trialing')
    insertInvoiceItems(
      scope,
      customerId,
      subscription.items.data.flatMap((item) => prorationLines(scope, stateOf(item), null, at)),
      at,
    );
  const ended = endSubscription(scope, subscription, at, {
    status: 'canceled',
    reason: 'cancellation_requested',
    clearSchedule: true,
    comment: options.comment,
    feedback: options.feedback,
  });
  if (options.invoiceNow) invoiceFinal(scope, subscription, at);
  else if (!options.prorate) removePendingProrations(scope, customerId, subscription.id, at);
  return latest(scope, ended.id) ?? ended;
}

/**
 * The invoice Stripe issues at once for a change to a subscription (`billing_reason:
 * subscription_update`), covering the current period up to `at`, with pending items swept in. `terms`
 * is the subscription as it stands after the change.
 */
function insertUpdateInvoice(
  scope: Scope,
  subscription: WireSubscription,
  terms: WireSubscription,
  lines: LineSpec[],
  at: number,
) {
  return insertInvoice(scope, {
    customerId: customerOf(subscription),
    created: at,
    currency: subscription.currency,
    billingReason: 'subscription_update',
    collectionMethod: collectionMethodOf(terms),
    subscription: { id: subscription.id, metadata: terms.metadata },
    period: { start: currentPeriod(subscription).start, end: at },
    autoAdvance: false,
    automaticallyFinalizesAt: null,
    daysUntilDue: terms.days_until_due,
    defaultPaymentMethod: null,
    description: null,
    metadata: {},
    lines,
    includePendingItems: true,
  });
}

function invoiceFinal(scope: Scope, subscription: WireSubscription, at: number): void {
  const customerId = customerOf(subscription);
  const usage = subscription.items.data
    .map((item) => usageLine(scope, contextOf(item), customerId, { ...periodOf(item), end: at }))
    .filter((line): line is LineSpec => line !== null);
  if (usage.length === 0 && pendingItemsFor(scope, customerId, subscription.id).length === 0) return;
  const invoice = insertUpdateInvoice(scope, subscription, subscription, usage, at);
  const saved = latest(scope, subscription.id);
  if (saved) subscriptions(scope.partition).replace({ ...saved, latest_invoice: invoice.id });
  issueInvoice(scope, invoice, at, 'charge');
}

function removePendingProrations(scope: Scope, customerId: string, subscriptionId: string, at: number): void {
  for (const item of pendingItemsFor(scope, customerId, subscriptionId)) {
    if (!item.proration || item.parent?.subscription_details?.subscription !== subscriptionId) continue;
    invoiceItems(scope.partition).delete(item.id);
    const deleted: { id: string; object: string; deleted: true } = { ...item, deleted: true };
    emitBillingEvent(scope, 'invoiceitem.deleted', deleted, undefined, at);
  }
}
