import type { KindName } from './kinds.ts';

/** What an event does to the mirror: write the object it carries, or mark that object deleted. */
export type Handling = { kind: KindName; action: 'upsert' | 'tombstone' };

const upsert = (kind: KindName): Handling => ({ kind, action: 'upsert' });
const tombstone = (kind: KindName): Handling => ({ kind, action: 'tombstone' });

/**
 * Every event type the mirror handles, one per line. Any other type is stored, acknowledged and marked
 * `ignored`, so Stripe never retries it. A canceled subscription is not deleted: Stripe keeps it
 * retrievable with status `canceled`, so `customer.subscription.deleted` writes it like an update.
 */
export const EVENT_HANDLERS: Readonly<Record<string, Handling>> = {
  'customer.created': upsert('customer'),
  'customer.updated': upsert('customer'),
  'customer.deleted': tombstone('customer'),
  'product.created': upsert('product'),
  'product.updated': upsert('product'),
  'product.deleted': tombstone('product'),
  'price.created': upsert('price'),
  'price.updated': upsert('price'),
  'price.deleted': tombstone('price'),
  'customer.subscription.created': upsert('subscription'),
  'customer.subscription.updated': upsert('subscription'),
  'customer.subscription.deleted': upsert('subscription'),
  'customer.subscription.paused': upsert('subscription'),
  'customer.subscription.resumed': upsert('subscription'),
  'customer.subscription.trial_will_end': upsert('subscription'),
  'customer.subscription.pending_update_applied': upsert('subscription'),
  'customer.subscription.pending_update_expired': upsert('subscription'),
  'invoice.created': upsert('invoice'),
  'invoice.updated': upsert('invoice'),
  'invoice.finalized': upsert('invoice'),
  'invoice.finalization_failed': upsert('invoice'),
  'invoice.sent': upsert('invoice'),
  'invoice.paid': upsert('invoice'),
  'invoice.payment_succeeded': upsert('invoice'),
  'invoice.payment_failed': upsert('invoice'),
  'invoice.payment_action_required': upsert('invoice'),
  'invoice.payment_attempt_required': upsert('invoice'),
  'invoice.marked_uncollectible': upsert('invoice'),
  'invoice.voided': upsert('invoice'),
  'invoice.overdue': upsert('invoice'),
  'invoice.overpaid': upsert('invoice'),
  'invoice.will_be_due': upsert('invoice'),
  'invoice.deleted': tombstone('invoice'),
  'invoice_payment.paid': upsert('invoice_payment'),
  'checkout.session.completed': upsert('checkout.session'),
  'checkout.session.expired': upsert('checkout.session'),
  'checkout.session.async_payment_succeeded': upsert('checkout.session'),
  'checkout.session.async_payment_failed': upsert('checkout.session'),
  'payment_intent.created': upsert('payment_intent'),
  'payment_intent.processing': upsert('payment_intent'),
  'payment_intent.requires_action': upsert('payment_intent'),
  'payment_intent.amount_capturable_updated': upsert('payment_intent'),
  'payment_intent.partially_funded': upsert('payment_intent'),
  'payment_intent.succeeded': upsert('payment_intent'),
  'payment_intent.payment_failed': upsert('payment_intent'),
  'payment_intent.canceled': upsert('payment_intent'),
  'entitlements.active_entitlement_summary.updated': upsert('entitlements.active_entitlement_summary'),
  'billing.meter.created': upsert('billing.meter'),
  'billing.meter.updated': upsert('billing.meter'),
  'billing.meter.deactivated': upsert('billing.meter'),
  'billing.meter.reactivated': upsert('billing.meter'),
};

/**
 * The event types that carry an object of a mirrored type yet write nothing, each with why: every other
 * one has a handler above. They are settled `ignored`.
 */
export const NOT_MIRRORED: Readonly<Record<string, string>> = {
  'invoice.upcoming': 'a preview of the invoice a subscription will create: Stripe holds no such invoice',
};

/** What a Connect event says of the platform's access to its connected account. */
export type AccountAuthorization = 'authorized' | 'deauthorized';

/**
 * The events that grant or revoke the platform's access to a connected account, one per line. They
 * write no mirror row: they are recorded per account (`connected_accounts`, see `connected-accounts.ts`),
 * and the account's mirror rows stay as they are.
 */
export const ACCESS_EVENTS: Readonly<Record<string, AccountAuthorization>> = {
  'account.application.authorized': 'authorized',
  'account.application.deauthorized': 'deauthorized',
};

/**
 * Stripe announces invoice payments and entitlement summaries with no creation event: the first event
 * of such an object is as good as its creation.
 */
const OPENING_EVENTS: ReadonlySet<string> = new Set([
  'invoice_payment.paid',
  'entitlements.active_entitlement_summary.updated',
]);

/**
 * Whether this is the event of the object's creation, which comes before every other event about that
 * object (a product or price deleted and created again under its custom id starts a new one).
 */
export const createsObject = (type: string): boolean => type.endsWith('.created');

/** Whether an object's history may start with this event, so a mirror row may begin from its payload. */
export const opensRow = (type: string): boolean => createsObject(type) || OPENING_EVENTS.has(type);

/** How an event is handled, or null when the mirror has no use for it (or it carries another object). */
export function handlingOf(type: string, objectType: string | null): Handling | null {
  const handling = EVENT_HANDLERS[type];
  return handling && handling.kind === objectType ? handling : null;
}
