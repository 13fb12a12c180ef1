import type Stripe from 'stripe';
import { resourceMissing } from '../core/errors.ts';
import type { Scope } from '../core/scope.ts';
import type { Partition } from '../core/store.ts';
import type { Wire } from '../core/wire.ts';

/**
 * The billing engine's tables. Stripe objects live in tables named after their object type; the
 * engine's own bookkeeping (what it already notified, when dunning started) lives beside them in
 * `billing.*` tables that no endpoint exposes.
 */
export type WireSubscription = Wire<Stripe.Subscription>;
export type WireSubscriptionItem = Wire<Stripe.SubscriptionItem>;
export type WireInvoice = Wire<Stripe.Invoice>;
export type WireInvoiceLine = Wire<Stripe.InvoiceLineItem>;
export type WireInvoiceItem = Wire<Stripe.InvoiceItem>;
export type WireInvoicePayment = Wire<Stripe.InvoicePayment>;
export type WireTestClock = Wire<Stripe.TestHelpers.TestClock>;
export type WirePrice = Wire<Stripe.Price>;
export type WireProduct = Wire<Stripe.Product>;
export type WirePlan = Wire<Stripe.Plan>;

/** What the engine remembers about a subscription beyond its Stripe fields. */
export type SubscriptionBookkeeping = {
  id: string;
  /** The trial end that `customer.subscription.trial_will_end` was sent for. */
  trialWillEndSentFor: number | null;
};

/** What the engine remembers about an invoice beyond its Stripe fields. */
export type InvoiceBookkeeping = {
  id: string;
  /** When its first automatic payment attempt failed: retries are scheduled from this moment. */
  firstFailedAt: number | null;
};

export const subscriptions = (partition: Partition) => partition.table<WireSubscription>('subscription');
export const subscriptionItems = (partition: Partition) =>
  partition.table<WireSubscriptionItem>('subscription_item');
export const invoices = (partition: Partition) => partition.table<WireInvoice>('invoice');
export const invoiceItems = (partition: Partition) => partition.table<WireInvoiceItem>('invoiceitem');
export const invoicePayments = (partition: Partition) =>
  partition.table<WireInvoicePayment>('invoice_payment');
export const testClocks = (partition: Partition) => partition.table<WireTestClock>('test_helpers.test_clock');
export const subscriptionBookkeeping = (partition: Partition) =>
  partition.table<SubscriptionBookkeeping>('billing.subscription_bookkeeping');
export const invoiceBookkeeping = (partition: Partition) =>
  partition.table<InvoiceBookkeeping>('billing.invoice_bookkeeping');

/** The tables a billing operation may change, for all-or-nothing operations. */
export const BILLING_TABLES = [
  'subscription',
  'subscription_item',
  'subscription_schedule',
  'invoice',
  'invoiceitem',
  'invoice_payment',
  'customer',
  'billing.subscription_bookkeeping',
  'billing.invoice_bookkeeping',
];

export function requireSubscription(scope: Scope, id: string, param = 'id'): WireSubscription {
  const subscription = subscriptions(scope.partition).get(id);
  if (!subscription) throw resourceMissing('subscription', id, param);
  return subscription;
}

export function requireInvoice(scope: Scope, id: string, param = 'id'): WireInvoice {
  const invoice = invoices(scope.partition).get(id);
  if (!invoice) throw resourceMissing('invoice', id, param);
  return invoice;
}

export function requireTestClock(scope: Scope, id: string, param = 'id'): WireTestClock {
  const clock = testClocks(scope.partition).get(id);
  if (!clock) throw resourceMissing('test_helpers.test_clock', id, param);
  return clock;
}

export function bookkeepingFor(partition: Partition, subscriptionId: string): SubscriptionBookkeeping {
  return (
    subscriptionBookkeeping(partition).get(subscriptionId) ?? {
      id: subscriptionId,
      trialWillEndSentFor: null,
    }
  );
}

export function invoiceBookkeepingFor(partition: Partition, invoiceId: string): InvoiceBookkeeping {
  return invoiceBookkeeping(partition).get(invoiceId) ?? { id: invoiceId, firstFailedAt: null };
}

/** The subscription an invoice bills, if any. */
export const invoiceSubscriptionId = (invoice: WireInvoice): string | null => {
  const subscription = invoice.parent?.subscription_details?.subscription;
  return typeof subscription === 'string' ? subscription : (subscription?.id ?? null);
};

export const idOf = (value: string | { id: string } | null | undefined): string | null =>
  value === null || value === undefined ? null : typeof value === 'string' ? value : value.id;
