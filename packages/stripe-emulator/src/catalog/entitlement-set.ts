/**
 * Which features a customer is entitled to, from the subscriptions they hold: pure, so the rules
 * (which statuses grant access, how items name their product) are tested without a server.
 */

/** Stripe keeps entitlements while a subscription is in good standing or being retried. */
export const ENTITLING_STATUSES: ReadonlySet<string> = new Set(['active', 'trialing', 'past_due']);

export type SubscriptionLike = {
  customer: unknown;
  status: string;
  items: { data: { price: unknown }[] };
};

const idOf = (value: unknown): string | null => {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string')
    return (value as { id: string }).id;
  return null;
};

/**
 * The product ids of a customer's entitling subscriptions. Items carry the price as an object (as
 * stored) or an id; `priceProduct` resolves an id-only price.
 */
export function entitledProducts(
  subscriptions: Iterable<SubscriptionLike>,
  customerId: string,
  priceProduct: (priceId: string) => string | null,
): Set<string> {
  const products = new Set<string>();
  for (const subscription of subscriptions) {
    if (idOf(subscription.customer) !== customerId || !ENTITLING_STATUSES.has(subscription.status)) continue;
    for (const item of subscription.items.data) {
      const price = item.price;
      const product =
        typeof price === 'string'
          ? priceProduct(price)
          : idOf((price as { product?: unknown } | null)?.product);
      if (product) products.add(product);
    }
  }
  return products;
}

export type EntitlementChange<T> = { kept: T[]; added: string[]; removed: T[] };

/**
 * Compares the entitlements a customer holds (keyed by feature) with the features they should hold:
 * kept entitlements keep their ids, as on Stripe, so an unchanged set is not an update.
 */
export function diffEntitlements<T extends { feature: string }>(
  held: T[],
  wantedFeatures: Iterable<string>,
): EntitlementChange<T> {
  const wanted = new Set(wantedFeatures);
  const kept = held.filter((entitlement) => wanted.has(entitlement.feature));
  const keptFeatures = new Set(kept.map((entitlement) => entitlement.feature));
  return {
    kept,
    added: [...wanted].filter((feature) => !keptFeatures.has(feature)),
    removed: held.filter((entitlement) => !wanted.has(entitlement.feature)),
  };
}
