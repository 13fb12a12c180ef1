import type Stripe from 'stripe';
import type { Scope } from '../core/scope.ts';
import { defaultPaymentMethodFor } from '../payments/index.ts';
import { emitBillingEvent } from './atomic.ts';
import { endSubscription } from './cancellation.ts';
import type { Collection } from './collection.ts';
import type { LineSpec } from './invoice-objects.ts';
import { insertInvoice, voidInvoice } from './invoices.ts';
import { type Disposition, issueInvoice, renewalDisposition, renewalDraftTiming } from './issue.ts';
import { currentPeriod, withPeriod } from './item-changes.ts';
import { billedInAdvance, contextOf, periodLine, periodOf, recurrenceOf, usageLine } from './lines.ts';
import { billingOptions } from './options.ts';
import { boundary, nextBoundaryAfter, type Period } from './periods.ts';
import {
  bookkeepingFor,
  idOf,
  invoices,
  type WireInvoice,
  type WireSubscription,
  type WireSubscriptionItem,
} from './store.ts';
import {
  collectionMethodOf,
  customerOf,
  saveBookkeeping,
  saveSubscription,
  withItems,
} from './subscription-store.ts';

/**
 * What time does to a subscription: a period ends and the next is invoiced, a trial ends, a scheduled
 * cancellation takes effect, paused collection resumes, an unpaid first invoice expires. Each runs at
 * the moment it was due (`at`), whether a test clock or the system clock got there.
 */
function periodLines(
  scope: Scope,
  subscription: WireSubscription,
  items: WireSubscriptionItem[],
): LineSpec[] {
  const customer = customerOf(subscription);
  const lines: LineSpec[] = [];
  for (const item of items) {
    const before = subscription.items.data.find((old) => old.id === item.id);
    const usage = before ? usageLine(scope, contextOf(before), customer, periodOf(before)) : null;
    if (usage) lines.push(usage);
    if (billedInAdvance(item)) lines.push(periodLine(scope, contextOf(item), periodOf(item)));
  }
  return lines;
}

type Invoicing = {
  billingReason: 'subscription_cycle' | 'subscription_update';
  invoicePeriod: Period;
  disposition: Disposition;
  timing: { autoAdvance: boolean; automaticallyFinalizesAt: number | null };
};

/**
 * Moves the subscription onto `items` (their new periods), invoices those periods plus pending
 * invoice items, saves the subscription (one `customer.subscription.updated`) and issues the invoice.
 */
export function invoiceNewPeriod(
  scope: Scope,
  subscription: WireSubscription,
  next: WireSubscription,
  at: number,
  invoicing: Invoicing,
  announce: (saved: WireSubscription) => void = () => {},
): Collection {
  const invoice = insertInvoice(scope, {
    customerId: customerOf(subscription),
    created: at,
    currency: subscription.currency,
    billingReason: invoicing.billingReason,
    collectionMethod: collectionMethodOf(subscription),
    subscription: { id: subscription.id, metadata: subscription.metadata },
    period: invoicing.invoicePeriod,
    autoAdvance: invoicing.timing.autoAdvance,
    automaticallyFinalizesAt: invoicing.timing.automaticallyFinalizesAt,
    daysUntilDue: subscription.days_until_due,
    defaultPaymentMethod: null,
    description: null,
    metadata: {},
    lines: periodLines(scope, subscription, next.items.data),
    includePendingItems: true,
  });
  announce(saveSubscription(scope, subscription, { ...next, latest_invoice: invoice.id }, at));
  return issueInvoice(scope, invoice, at, invoicing.disposition);
}

/** The period end has come: every item due moves to its next period, which is invoiced. */
export function renewSubscription(scope: Scope, subscription: WireSubscription, at: number): void {
  const { renewalDraftSeconds } = billingOptions(scope.emulator);
  const anchor = subscription.billing_cycle_anchor;
  const items = subscription.items.data.map((item) =>
    item.current_period_end <= at
      ? withPeriod(item, {
          start: item.current_period_end,
          end: nextBoundaryAfter(anchor, recurrenceOf(item.price), item.current_period_end),
        })
      : item,
  );
  invoiceNewPeriod(scope, subscription, withItems(subscription, items), at, {
    billingReason: 'subscription_cycle',
    invoicePeriod: { start: currentPeriod(subscription).start, end: at },
    disposition: renewalDisposition(subscription, renewalDraftSeconds),
    timing: renewalDraftTiming(subscription, at, renewalDraftSeconds),
  });
}

/** Every item restarts its period at `at`, and the billing cycle is anchored there. */
export function restartedAt(subscription: WireSubscription, at: number): WireSubscription {
  const items = subscription.items.data.map((item) =>
    withPeriod(item, { start: at, end: boundary(at, recurrenceOf(item.price), 1) }),
  );
  return { ...withItems(subscription, items), billing_cycle_anchor: at };
}

const hasPaymentMethod = (scope: Scope, subscription: WireSubscription) =>
  defaultPaymentMethodFor(scope, customerOf(subscription), idOf(subscription.default_payment_method)) !==
  null;

/**
 * The trial is over. Without a payment method the trial settings decide (cancel, pause, or invoice
 * anyway); otherwise the subscription turns active with a new period from the trial's end.
 */
export function endTrial(scope: Scope, subscription: WireSubscription, at: number): void {
  const behavior = subscription.trial_settings?.end_behavior.missing_payment_method ?? 'create_invoice';
  if (!hasPaymentMethod(scope, subscription) && behavior !== 'create_invoice') {
    if (behavior === 'cancel')
      endSubscription(scope, subscription, at, { status: 'canceled', reason: null, clearSchedule: false });
    else pauseSubscription(scope, subscription, at, 'trial_end_without_payment_method');
    return;
  }
  const { renewalDraftSeconds } = billingOptions(scope.emulator);
  const next: WireSubscription = { ...restartedAt(subscription, at), status: 'active' };
  invoiceNewPeriod(scope, subscription, next, at, {
    billingReason: 'subscription_cycle',
    invoicePeriod: { start: subscription.trial_start ?? at, end: at },
    disposition: renewalDisposition(next, renewalDraftSeconds),
    timing: renewalDraftTiming(next, at, renewalDraftSeconds),
  });
}

type PauseReason = Stripe.Subscription.StatusDetails.Paused.Subscription.Type;

export function pauseSubscription(
  scope: Scope,
  subscription: WireSubscription,
  at: number,
  reason: PauseReason,
): WireSubscription {
  const paused = saveSubscription(
    scope,
    subscription,
    {
      ...subscription,
      status: 'paused',
      status_details: {
        paused: { subscription: { type: reason }, transitioned_at: at, type: 'subscription' },
      },
    },
    at,
  );
  emitBillingEvent(scope, 'customer.subscription.paused', paused, undefined, at);
  return paused;
}

export function cancelAsScheduled(scope: Scope, subscription: WireSubscription, at: number): void {
  endSubscription(scope, subscription, at, {
    status: 'canceled',
    reason:
      subscription.cancellation_details?.reason === 'payment_failed'
        ? 'payment_failed'
        : 'cancellation_requested',
    clearSchedule: false,
  });
}

/** 23 hours without a paid first invoice: the invoice is voided and the subscription expires. */
export function expireIncomplete(scope: Scope, subscription: WireSubscription, at: number): void {
  const latest = idOf(subscription.latest_invoice);
  const invoice: WireInvoice | undefined = latest ? invoices(scope.partition).get(latest) : undefined;
  if (invoice?.status === 'open') voidInvoice(scope, invoice, at);
  endSubscription(scope, subscription, at, {
    status: 'incomplete_expired',
    reason: null,
    clearSchedule: false,
  });
}

export function resumeCollection(scope: Scope, subscription: WireSubscription, at: number): void {
  saveSubscription(scope, subscription, { ...subscription, pause_collection: null }, at);
}

export function notifyTrialWillEnd(scope: Scope, subscription: WireSubscription, at: number): void {
  emitBillingEvent(scope, 'customer.subscription.trial_will_end', subscription, undefined, at);
  saveBookkeeping(scope, {
    ...bookkeepingFor(scope.partition, subscription.id),
    trialWillEndSentFor: subscription.trial_end,
  });
}
