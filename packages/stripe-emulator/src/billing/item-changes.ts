import { parameterInvalid, parameterMissing, resourceMissing } from '../core/errors.ts';
import { mergeMetadata } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import {
  contextOf,
  type ItemState,
  periodOf,
  recurrenceOf,
  recurringPrice,
  sameRecurrence,
} from './lines.ts';
import { boundary, type Period, type Recurrence } from './periods.ts';
import type { WireSubscription, WireSubscriptionItem } from './store.ts';
import { newSubscriptionItem, periodEndOf, periodStartOf, planFromPrice } from './subscription-objects.ts';

/**
 * Applying `items[]` to a subscription: which items change, appear or go, and whether the change
 * moves the subscription to a new billing interval (which restarts its period). Stores nothing.
 */
export type ItemChange = {
  id?: string | undefined;
  price?: string | undefined;
  quantity?: number | undefined;
  metadata?: Record<string, string> | null | undefined;
  deleted?: boolean | undefined;
};

export type ItemTransition = { before: WireSubscriptionItem | null; after: WireSubscriptionItem | null };

export type ItemPlan = {
  items: WireSubscriptionItem[];
  transitions: ItemTransition[];
  /** The new recurrence when the change switches the subscription to another interval. */
  newRecurrence: Recurrence | null;
};

export const currentPeriod = (subscription: WireSubscription): Period => ({
  start: periodStartOf(subscription),
  end: periodEndOf(subscription),
});

export function recurrenceOfSubscription(subscription: WireSubscription): Recurrence | null {
  const first = subscription.items.data[0];
  return first ? recurrenceOf(first.price) : null;
}

function changeExisting(
  scope: Scope,
  item: WireSubscriptionItem,
  change: ItemChange,
  param: string,
): WireSubscriptionItem {
  const price = change.price ? recurringPrice(scope, change.price, `${param}[price]`) : item.price;
  return {
    ...item,
    price,
    plan: planFromPrice(price),
    quantity: change.quantity ?? item.quantity ?? 1,
    metadata: mergeMetadata(item.metadata, change.metadata),
  };
}

export function planItems(
  scope: Scope,
  subscription: WireSubscription,
  changes: ItemChange[],
  at: number,
  paramPrefix = 'items',
): ItemPlan {
  const items = new Map(subscription.items.data.map((item) => [item.id, item]));
  const transitions: ItemTransition[] = [];
  const period = currentPeriod(subscription);
  changes.forEach((change, index) => {
    const param = `${paramPrefix}[${index}]`;
    if (change.id) {
      const item = items.get(change.id);
      if (!item) throw resourceMissing('subscription_item', change.id, `${param}[id]`);
      if (change.deleted) {
        items.delete(item.id);
        transitions.push({ before: item, after: null });
        return;
      }
      const changed = changeExisting(scope, item, change, param);
      items.set(item.id, changed);
      if (changed.price.id !== item.price.id || changed.quantity !== item.quantity)
        transitions.push({ before: item, after: changed });
      return;
    }
    if (!change.price) throw parameterMissing(`${param}[price]`);
    const price = recurringPrice(scope, change.price, `${param}[price]`);
    const added = newSubscriptionItem({
      id: scope.emulator.random.id('si', 14),
      subscription: subscription.id,
      price,
      quantity: change.quantity ?? 1,
      metadata: change.metadata ?? {},
      period,
      created: at,
    });
    items.set(added.id, added);
    transitions.push({ before: null, after: added });
  });
  const result = [...items.values()];
  checkItems(result, subscription.currency, paramPrefix);
  const before = recurrenceOfSubscription(subscription);
  const after = result[0] ? recurrenceOf(result[0].price) : null;
  const newRecurrence = before && after && !sameRecurrence(before, after) ? after : null;
  return { items: result, transitions, newRecurrence };
}

/** Stripe documents `items` as "a list of up to 20 subscription items". */
const MAX_SUBSCRIPTION_ITEMS = 20;

/** Stripe's rules for one subscription's items: 1 to 20, one currency, one interval, each price once. */
export function checkItems(items: WireSubscriptionItem[], currency: string, param: string): void {
  if (items.length === 0) throw parameterInvalid(param, 'A subscription must have at least one active plan.');
  // Stripe's wording of this refusal is not in the reference; this one is the emulator's own.
  if (items.length > MAX_SUBSCRIPTION_ITEMS)
    throw parameterInvalid(
      param,
      `A subscription can have at most ${MAX_SUBSCRIPTION_ITEMS} items; this one would have ${items.length}.`,
    );
  const first = items[0];
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.price.id))
      throw parameterInvalid(
        param,
        `Cannot add multiple subscription items with the same price: ${item.price.id}`,
      );
    seen.add(item.price.id);
    if (item.price.currency !== currency)
      throw parameterInvalid(
        param,
        `Currency and interval fields must match across all plans on this subscription. Found mismatch in currency field.`,
      );
    if (first && !sameRecurrence(recurrenceOf(item.price), recurrenceOf(first.price)))
      throw parameterInvalid(
        param,
        `Currency and interval fields must match across all plans on this subscription. Found mismatch in interval field.`,
      );
  }
}

/**
 * The period after a switch to another interval: it keeps the current start when the new interval
 * still reaches past `at` (as flexible billing does), otherwise it starts at `at`.
 */
export function periodAfterIntervalChange(current: Period, recurrence: Recurrence, at: number): Period {
  const kept = boundary(current.start, recurrence, 1);
  return kept > at ? { start: current.start, end: kept } : { start: at, end: boundary(at, recurrence, 1) };
}

export const withPeriod = (item: WireSubscriptionItem, period: Period): WireSubscriptionItem => ({
  ...item,
  current_period_start: period.start,
  current_period_end: period.end,
});

export const stateOf = (item: WireSubscriptionItem, period: Period = periodOf(item)): ItemState => ({
  context: contextOf(item),
  period,
});
