import { idOf, type StripeObject } from './envelope.ts';

/**
 * Typed columns of each mirrored object, read from the Stripe object alone (pure). Both the current
 * shape and older API versions are understood, e.g. period ends on subscription items (2025-03-31 and
 * later) or on the subscription itself (earlier), and `invoice.subscription` moved under `parent`.
 */

type Row = Record<string, unknown>;

export const secondsToDate = (value: unknown): Date | null =>
  typeof value === 'number' ? new Date(value * 1000) : null;

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const integer = (value: unknown): number | null => (typeof value === 'number' ? value : null);
const flag = (value: unknown): boolean | null => (typeof value === 'boolean' ? value : null);
const field = (object: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>(
    (value, key) => (value && typeof value === 'object' ? (value as Row)[key] : undefined),
    object,
  );

export function customerColumns(customer: StripeObject): Row {
  return {
    email: text(customer.email),
    name: text(customer.name),
    createdAt: secondsToDate(customer.created),
    accountId: customerAccountId(customer),
  };
}

export function productColumns(product: StripeObject): Row {
  return { active: flag(product.active), name: text(product.name) };
}

export function priceColumns(price: StripeObject): Row {
  return {
    productId: idOf(price.product),
    active: flag(price.active),
    lookupKey: text(price.lookup_key),
    type: text(price.type),
    currency: text(price.currency),
    unitAmount: integer(price.unit_amount),
    recurringInterval: text(field(price, 'recurring', 'interval')),
  };
}

/** The subscription's items as listed inside it (Stripe embeds them, 10 at most per page). */
export function subscriptionItemsOf(subscription: StripeObject): StripeObject[] {
  const data = field(subscription, 'items', 'data');
  return Array.isArray(data) ? (data as StripeObject[]) : [];
}

/**
 * The list each kind embeds: Stripe puts at most one page of it (10 rows) in the object, in events and
 * in its answers alike, and says `has_more` when there are more.
 */
export const EMBEDDED_LISTS = {
  subscription: 'items',
  invoice: 'lines',
  'entitlements.active_entitlement_summary': 'entitlements',
} as const;

/**
 * False when the object's embedded list is one page of more (`has_more`): the object is then not whole,
 * and is read from Stripe, every page of it, rather than written as it is.
 */
export function embedsWholeList(kind: string, object: StripeObject): boolean {
  const list = EMBEDDED_LISTS[kind as keyof typeof EMBEDDED_LISTS];
  return list === undefined || field(object, list, 'has_more') !== true;
}

export const listsAllItems = (subscription: StripeObject) => embedsWholeList('subscription', subscription);

/**
 * The subscription's current period, in seconds: on its items since 2025-03-31 (the latest start and the
 * earliest end among them, the next renewal), on the subscription itself before.
 */
export function subscriptionPeriodOf(subscription: StripeObject): {
  start: number | null;
  end: number | null;
} {
  const items = subscriptionItemsOf(subscription);
  const onItems = (name: string) =>
    items.map((item) => integer(item[name])).filter((value): value is number => value !== null);
  const starts = onItems('current_period_start');
  const ends = onItems('current_period_end');
  return {
    start: starts.length > 0 ? Math.max(...starts) : integer(subscription.current_period_start),
    end: ends.length > 0 ? Math.min(...ends) : integer(subscription.current_period_end),
  };
}

export function subscriptionColumns(subscription: StripeObject): Row {
  return {
    customerId: idOf(subscription.customer),
    status: text(subscription.status),
    currentPeriodEndAt: secondsToDate(subscriptionPeriodOf(subscription).end),
    cancelAtPeriodEnd: flag(subscription.cancel_at_period_end),
    trialEndAt: secondsToDate(subscription.trial_end),
  };
}

export function subscriptionItemColumns(item: StripeObject, subscriptionId: string): Row {
  return {
    subscriptionId,
    priceId: idOf(item.price) ?? idOf(item.plan),
    quantity: integer(item.quantity),
    currentPeriodEndAt: secondsToDate(item.current_period_end),
  };
}

export function invoiceColumns(invoice: StripeObject): Row {
  return {
    customerId: idOf(invoice.customer),
    subscriptionId:
      idOf(field(invoice, 'parent', 'subscription_details', 'subscription')) ?? idOf(invoice.subscription),
    status: text(invoice.status),
    billingReason: text(invoice.billing_reason),
    currency: text(invoice.currency),
    amountDue: integer(invoice.amount_due),
    amountPaid: integer(invoice.amount_paid),
    periodEndAt: secondsToDate(invoice.period_end),
  };
}

export function invoicePaymentColumns(payment: StripeObject): Row {
  return {
    invoiceId: idOf(payment.invoice),
    status: text(payment.status),
    amountPaid: integer(payment.amount_paid),
  };
}

/**
 * The app account a checkout session names: its `subledger_account_id` metadata first (Subledger's own
 * checkout sets it to the account it was asked for, whatever else the app put in the metadata), then the
 * first configured metadata key that is set, else its `client_reference_id`. Customer metadata's
 * `subledger_account_id` is read separately.
 */
export function checkoutAccountId(session: StripeObject, accountKeys: readonly string[]): string | null {
  const metadata = (session.metadata ?? {}) as Row;
  for (const key of [ACCOUNT_METADATA_KEY, ...accountKeys]) {
    const value = text(metadata[key]);
    if (value) return value;
  }
  return text(session.client_reference_id);
}

export function checkoutSessionColumns(session: StripeObject, accountKeys: readonly string[]): Row {
  return {
    customerId: idOf(session.customer),
    status: text(session.status),
    mode: text(session.mode),
    paymentStatus: text(session.payment_status),
    clientReferenceId: text(session.client_reference_id),
    subscriptionId: idOf(session.subscription),
    accountId: checkoutAccountId(session, accountKeys),
  };
}

export function paymentIntentColumns(intent: StripeObject): Row {
  return {
    customerId: idOf(intent.customer),
    status: text(intent.status),
    amount: integer(intent.amount),
    currency: text(intent.currency),
  };
}

export function activeEntitlementColumns(summary: StripeObject): Row {
  const data = field(summary, 'entitlements', 'data');
  const keys = Array.isArray(data) ? data.map((entitlement) => text(field(entitlement, 'lookup_key'))) : [];
  return { featureLookupKeys: keys.filter((key): key is string => key !== null) };
}

export function billingMeterColumns(meter: StripeObject): Row {
  return { eventName: text(meter.event_name), status: text(meter.status) };
}

/** The metadata key on a Stripe customer that names its app account. */
export const ACCOUNT_METADATA_KEY = 'subledger_account_id';

/** The account a customer's metadata names; an empty value (Stripe's way of removing a key) names none. */
export function customerAccountId(customer: StripeObject): string | null {
  return text(field(customer, 'metadata', ACCOUNT_METADATA_KEY)) || null;
}
