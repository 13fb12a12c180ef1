import { requirePrice } from '../catalog/index.ts';
import { invalidState, parameterInvalid, parameterMissing } from '../core/errors.ts';
import type { Scope } from '../core/scope.ts';
import { requireCustomer } from '../customers/index.ts';
import { defaultPaymentMethodFor } from '../payments/index.ts';
import { atomically, emitBillingEvent } from './atomic.ts';
import { paymentFailedError } from './collection.ts';
import { runDueWorkFor } from './due-work.ts';
import type { LineSpec } from './invoice-objects.ts';
import { insertInvoice, insertInvoiceItems, pendingItemsFor } from './invoices.ts';
import { issueInvoice } from './issue.ts';
import { checkItems, type ItemChange } from './item-changes.ts';
import {
  billedInAdvance,
  oneTimeLine,
  partialPeriodLine,
  periodLine,
  recurrenceOf,
  recurringPrice,
  trialPeriodLine,
} from './lines.ts';
import { requireAttachedPaymentMethod } from './payment-method.ts';
import { boundary, days, type Period, periodAt } from './periods.ts';
import { idOf, subscriptions, type WireSubscription, type WireSubscriptionItem } from './store.ts';
import { newSubscription, newSubscriptionItem } from './subscription-objects.ts';
import { insertSubscription } from './subscription-store.ts';
import { type PaymentSettings, withPaymentSettings } from './update-plan.ts';

/**
 * Starting a subscription: its items and first period (or trial), its first invoice (billing reason
 * `subscription_create`), then — per `payment_behavior` — the charge that takes it from `incomplete`
 * to `active`. Events, in Stripe's order: `customer.subscription.created`, `invoice.created`,
 * `invoice.finalized`, the payment's events, `invoice.paid`, `invoice.payment_succeeded`,
 * `invoice_payment.paid`, `customer.subscription.updated`.
 */
export type PaymentBehavior = 'allow_incomplete' | 'default_incomplete' | 'error_if_incomplete';
export type ProrationBehavior = 'create_prorations' | 'always_invoice' | 'none';

/** A one-off price added to a subscription's (first or next) invoice: `add_invoice_items[]`. */
export type OneOff = { price: string; quantity: number; metadata: Record<string, string> };

export type NewSubscription = {
  customerId: string;
  currency?: string | undefined;
  addInvoiceItems?: OneOff[] | undefined;
  items: (ItemChange & { price: string })[];
  trialEnd?: number | 'now' | undefined;
  trialPeriodDays?: number | undefined;
  trialFromPlan?: boolean | undefined;
  billingCycleAnchor?: number | undefined;
  defaultPaymentMethod: string | null;
  paymentBehavior: PaymentBehavior;
  collectionMethod: 'charge_automatically' | 'send_invoice';
  daysUntilDue: number | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  description: string | null;
  metadata: Record<string, string>;
  prorationBehavior: ProrationBehavior;
  missingPaymentMethod: 'cancel' | 'create_invoice' | 'pause';
  paymentSettings?: PaymentSettings | undefined;
};

const NO_PAYMENT_METHOD =
  'This customer has no attached payment source or default payment method. Please consider adding a default payment method. For more information, visit https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.';

function trialPeriod(input: NewSubscription, trialDaysOfPlan: number | null, at: number): Period | null {
  if (input.trialEnd === 'now') return null;
  if (typeof input.trialEnd === 'number') {
    if (input.trialEnd <= at)
      throw parameterInvalid(
        'trial_end',
        'Invalid timestamp: must be an integer Unix timestamp in the future.',
      );
    return { start: at, end: input.trialEnd };
  }
  const trialDays = input.trialPeriodDays ?? (input.trialFromPlan ? trialDaysOfPlan : null);
  return trialDays ? { start: at, end: at + days(trialDays) } : null;
}

export function createSubscription(scope: Scope, input: NewSubscription): WireSubscription {
  if (input.paymentBehavior === 'error_if_incomplete') return atomically(scope, () => start(scope, input));
  return start(scope, input);
}

/** Who and when: the customer, its clock's "now", the prices, the first period (or trial). */
function terms(scope: Scope, input: NewSubscription) {
  const customer = requireCustomer(scope, input.customerId, 'customer');
  const testClock = idOf(customer.test_clock);
  const at = scope.emulator.nowFor(scope.partition, testClock);
  const prices = input.items.map((item, index) =>
    recurringPrice(scope, item.price, `items[${index}][price]`),
  );
  const first = prices[0];
  if (!first) throw parameterMissing('items');
  if (input.currency && input.currency.toLowerCase() !== first.currency)
    throw parameterInvalid(
      'currency',
      `The currency ${input.currency} does not match the prices' currency ${first.currency}.`,
    );
  const recurrence = recurrenceOf(first);
  const trial = trialPeriod(input, first.recurring?.trial_period_days ?? null, at);
  const anchor = input.billingCycleAnchor ?? trial?.end ?? at;
  if (anchor < at)
    throw parameterInvalid('billing_cycle_anchor', 'billing_cycle_anchor cannot be in the past.');
  const period = trial ?? periodAt(anchor, recurrence, at, at);
  return { customer, testClock, at, prices, first, recurrence, trial, anchor, period };
}

type Terms = ReturnType<typeof terms>;

/**
 * The first invoice's subscription lines: a $0 trial line, the whole first period, or — before a
 * future billing cycle anchor — the part up to the anchor, prorated unless `proration_behavior=none`.
 */
function firstLines(
  scope: Scope,
  input: NewSubscription,
  t: Terms,
  items: WireSubscriptionItem[],
): LineSpec[] {
  const whole: Period = { start: boundary(t.anchor, t.recurrence, -1), end: t.anchor };
  return items.filter(billedInAdvance).map((item) => {
    const context = {
      subscription: item.subscription,
      item: item.id,
      price: item.price,
      quantity: item.quantity ?? 1,
    };
    if (t.trial) return trialPeriodLine(scope, context, t.period);
    if (t.anchor <= t.at) return periodLine(scope, context, t.period);
    return input.prorationBehavior === 'none'
      ? { ...periodLine(scope, context, t.period), amount: 0 }
      : partialPeriodLine(scope, context, t.period, whole);
  });
}

function start(scope: Scope, input: NewSubscription): WireSubscription {
  const t = terms(scope, input);
  const { customer, at, first, period } = t;
  const id = scope.emulator.random.id('sub', 24);
  const items = t.prices.map((price, index) =>
    newSubscriptionItem({
      id: scope.emulator.random.id('si', 14),
      subscription: id,
      price,
      quantity: input.items[index]?.quantity ?? 1,
      metadata: input.items[index]?.metadata ?? {},
      period,
      created: at,
    }),
  );
  checkItems(items, first.currency, 'items');
  const lines = firstLines(scope, input, t, items);
  const oneOffs = oneOffLines(scope, input.addInvoiceItems ?? [], id, period);
  const pending = pendingItemsFor(scope, customer.id, id);
  const total = [...lines, ...oneOffs, ...pending].reduce((sum, line) => sum + line.amount, 0);
  if (input.defaultPaymentMethod)
    requireAttachedPaymentMethod(scope, input.defaultPaymentMethod, customer.id, 'default_payment_method');
  const paymentMethod = defaultPaymentMethodFor(scope, customer.id, input.defaultPaymentMethod);
  const needsCharge = total > 0 && input.collectionMethod === 'charge_automatically';
  if (needsCharge && !paymentMethod && input.paymentBehavior !== 'default_incomplete')
    throw invalidState(NO_PAYMENT_METHOD, undefined, 'resource_missing');
  insertInvoiceItems(scope, customer.id, oneOffs, at);
  const invoice = insertInvoice(scope, {
    customerId: customer.id,
    created: at,
    currency: first.currency,
    billingReason: 'subscription_create',
    collectionMethod: input.collectionMethod,
    subscription: { id, metadata: input.metadata },
    period: { start: at, end: at },
    autoAdvance: false,
    automaticallyFinalizesAt: null,
    daysUntilDue: input.daysUntilDue,
    defaultPaymentMethod: null,
    description: input.description,
    metadata: {},
    lines,
    includePendingItems: true,
  });
  const subscription = newSubscription({
    id,
    customer: customer.id,
    livemode: scope.partition.livemode,
    created: at,
    currency: first.currency,
    status: needsCharge ? 'incomplete' : t.trial ? 'trialing' : 'active',
    billingCycleAnchor: t.anchor,
    collectionMethod: input.collectionMethod,
    daysUntilDue: input.collectionMethod === 'send_invoice' ? (input.daysUntilDue ?? 30) : null,
    defaultPaymentMethod: input.defaultPaymentMethod,
    description: input.description,
    metadata: input.metadata,
    trial: t.trial,
    testClock: t.testClock,
    missingPaymentMethodBehavior: input.missingPaymentMethod,
    items,
  });
  const stored = insertSubscription(scope, {
    ...subscription,
    payment_settings: withPaymentSettings(subscription.payment_settings, input.paymentSettings),
    latest_invoice: invoice.id,
    ...scheduledCancel(input, period, at),
  });
  emitBillingEvent(scope, 'customer.subscription.created', stored, undefined, at);
  const chargeNow = input.paymentBehavior !== 'default_incomplete' || !needsCharge;
  const collection = issueInvoice(scope, invoice, at, chargeNow ? 'charge' : 'await_confirmation');
  if (input.paymentBehavior === 'error_if_incomplete' && collection.outcome && !collection.outcome.succeeded)
    throw paymentFailedError(collection.outcome);
  runDueWorkFor(scope, id, at);
  return subscriptions(scope.partition).get(id) ?? stored;
}

/** Lines for `add_invoice_items`: one-time prices, billed over the subscription's first period. */
export function oneOffLines(
  scope: Scope,
  oneOffs: OneOff[],
  subscription: string,
  period: Period,
): LineSpec[] {
  return oneOffs.map((oneOff, index) => {
    const price = requirePrice(scope, oneOff.price, `add_invoice_items[${index}][price]`);
    if (price.recurring)
      throw parameterInvalid(
        `add_invoice_items[${index}][price]`,
        'The price specified is a recurring price. `add_invoice_items` only accepts one-time prices.',
      );
    return { ...oneTimeLine(scope, price, oneOff.quantity, subscription, period), metadata: oneOff.metadata };
  });
}

function scheduledCancel(input: NewSubscription, period: Period, at: number): Partial<WireSubscription> {
  const cancelAt = input.cancelAtPeriodEnd ? period.end : input.cancelAt;
  if (cancelAt === null) return {};
  return {
    cancel_at: cancelAt,
    cancel_at_period_end: input.cancelAtPeriodEnd,
    canceled_at: at,
    cancellation_details: {
      comment: null,
      feedback: null,
      feedback_option: null,
      reason: 'cancellation_requested',
    },
  };
}
