import type Stripe from 'stripe';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { featureTable } from './features.ts';

export type WireProductFeature = Wire<Stripe.ProductFeature>;

/**
 * A feature attached to a product. Stored by id; rendered with the feature as it is now, since
 * `product_feature.entitlement_feature` is always the whole feature object.
 */
export type StoredProductFeature = { id: string; product: string; feature: string };

export const productFeatureTable = (scope: Scope) =>
  scope.partition.table<StoredProductFeature>('product_feature');

export function renderProductFeature(scope: Scope, stored: StoredProductFeature): WireProductFeature {
  const feature = featureTable(scope).get(stored.feature);
  if (!feature) throw new Error(`product feature ${stored.id} points at missing feature ${stored.feature}`);
  return {
    id: stored.id,
    object: 'product_feature',
    entitlement_feature: structuredClone(feature),
    livemode: scope.partition.livemode,
  };
}

/** The ids of the features attached to a product, oldest attachment first. */
export function featuresOfProduct(scope: Scope, productId: string): string[] {
  return [...productFeatureTable(scope).values()]
    .filter((attached) => attached.product === productId)
    .map((attached) => attached.feature);
}

/** The products a feature is attached to. */
export function productsWithFeature(scope: Scope, featureId: string): string[] {
  return [...productFeatureTable(scope).values()]
    .filter((attached) => attached.feature === featureId)
    .map((attached) => attached.product);
}
