import type Stripe from 'stripe';
import type { Scope } from '../core/scope.ts';
import { previousAttributes } from '../events/emit.ts';
import { emitBillingEvent } from './atomic.ts';
import { subscriptionChanged } from './entitlements.ts';
import {
  idOf,
  type SubscriptionBookkeeping,
  subscriptionBookkeeping,
  subscriptionItems,
  subscriptions,
  type WireSubscription,
  type WireSubscriptionItem,
} from './store.ts';
import { fullList } from './subscription-objects.ts';

/**
 * Writing subscriptions. The subscription row holds its items; the `subscription_item` table mirrors
 * them so items can be fetched, listed and expanded on their own.
 */
export const customerOf = (subscription: WireSubscription): string => idOf(subscription.customer) ?? '';

/** The invoice collection method a subscription's invoices get (the SDK types it as an open string). */
export const collectionMethodOf = (subscription: Pick<WireSubscription, 'collection_method'>) =>
  subscription.collection_method === 'send_invoice'
    ? ('send_invoice' as const)
    : ('charge_automatically' as const);

function mirrorItems(scope: Scope, subscription: WireSubscription, previous: WireSubscriptionItem[]): void {
  const table = subscriptionItems(scope.partition);
  const current = new Set(subscription.items.data.map((item) => item.id));
  for (const item of previous) if (!current.has(item.id)) table.delete(item.id);
  for (const item of subscription.items.data) table.replace(item);
}

export function withItems(subscription: WireSubscription, items: WireSubscriptionItem[]): WireSubscription {
  return { ...subscription, items: fullList(items, subscription.items.url) };
}

/** Stores a new subscription and its items (events are the caller's, in Stripe's order). */
export function insertSubscription(scope: Scope, subscription: WireSubscription): WireSubscription {
  subscriptions(scope.partition).insert(subscription);
  mirrorItems(scope, subscription, []);
  return subscription;
}

export type SubscriptionEvent = Extract<Stripe.Event.Type, `customer.subscription.${string}`>;

/**
 * Saves a changed subscription and emits `type` (by default `customer.subscription.updated`) with the
 * fields that changed. Nothing is emitted when nothing changed.
 */
export function saveSubscription(
  scope: Scope,
  before: WireSubscription,
  after: WireSubscription,
  at: number,
  type: SubscriptionEvent = 'customer.subscription.updated',
): WireSubscription {
  const previous = previousAttributes(before, after);
  subscriptions(scope.partition).replace(after);
  mirrorItems(scope, after, before.items.data);
  if (type === 'customer.subscription.deleted') emitBillingEvent(scope, type, after, undefined, at);
  else if (previous) emitBillingEvent(scope, type, after, previous, at);
  if (previous && ('status' in previous || 'items' in previous))
    subscriptionChanged(scope, customerOf(after));
  return after;
}

export function saveBookkeeping(scope: Scope, bookkeeping: SubscriptionBookkeeping): void {
  subscriptionBookkeeping(scope.partition).replace(bookkeeping);
}
