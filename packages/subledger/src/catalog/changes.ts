import type Stripe from 'stripe';
import type { Price } from './types.ts';

/** The product metadata key naming the plan a Stripe product stands for. */
export const PLAN_METADATA_KEY = 'subledger_plan';

/*
 * What Stripe holds, as read by `readStripeCatalog`: Stripe's own shapes, narrowed to the fields the
 * catalog manages, so tests can write them by hand.
 */
export type StripeProduct = Pick<
  Stripe.Product,
  'id' | 'name' | 'description' | 'active' | 'metadata' | 'created'
>;
export type StripePrice = Pick<
  Stripe.Price,
  'id' | 'lookup_key' | 'active' | 'unit_amount' | 'currency' | 'type' | 'created'
> & {
  /** The product's id (never expanded). */
  product: string;
  recurring: Pick<Stripe.Price.Recurring, 'interval' | 'interval_count' | 'usage_type'> | null;
};
export type StripeFeature = Pick<Stripe.Entitlements.Feature, 'id' | 'lookup_key' | 'name' | 'active'>;
export type StripeProductFeature = { id: string; entitlement_feature: StripeFeature };

export type StripeCatalog = {
  /** Every product carrying `subledger_plan` metadata; others are not the catalog's. */
  products: StripeProduct[];
  /** Prices holding a catalog lookup key, and the active prices of the products above. */
  prices: StripePrice[];
  /** Entitlement features, newest first as Stripe lists them (they carry no `created`). */
  features: StripeFeature[];
  /** Product id → the features attached to it, for the products above. */
  productFeatures: Record<string, StripeProductFeature[]>;
};

/** One field of a Stripe object that differs from the catalog: what Stripe has, what the catalog wants. */
export type FieldChange<T = string | boolean | null> = { field: string; from: T; to: T };

/*
 * The changes that bring Stripe to the catalog. `productId`/`featureId` are null when the object is
 * created earlier in the same push; the pusher fills them in from those creations.
 */
export type Change =
  | { kind: 'create_feature'; feature: string; name: string }
  | { kind: 'update_feature'; feature: string; featureId: string; fields: FieldChange[] }
  | { kind: 'create_product'; plan: string; name: string; description: string | null }
  | { kind: 'update_product'; plan: string; productId: string; fields: FieldChange[] }
  | { kind: 'create_price'; plan: string; productId: string | null; price: Price }
  /**
   * Prices are immutable: a new price takes the lookup key over (`transfer_lookup_key`), and the price
   * holding it (`replaces`) is archived.
   */
  | {
      kind: 'replace_price';
      plan: string;
      productId: string | null;
      price: Price;
      replaces: StripePrice;
      reasons: string[];
    }
  /**
   * A price of the plan's product already has the catalog's terms (typically the original, after the
   * lookup key was moved away in the dashboard): it takes the lookup key back, rather than a new price
   * being made, so its subscribers stay on the catalog's price. The holder, if any, is archived.
   */
  | {
      kind: 'relink_price';
      plan: string;
      price: Price;
      target: StripePrice;
      replaces: StripePrice | null;
      reasons: string[];
    }
  | {
      kind: 'attach_feature';
      plan: string;
      productId: string | null;
      feature: string;
      featureId: string | null;
    }
  | { kind: 'detach_feature'; plan: string; productId: string; productFeatureId: string; feature: string }
  /** A price of a catalog product that the catalog does not name (any more). */
  | { kind: 'archive_price'; plan: string; price: StripePrice }
  /** A product standing for a plan the catalog no longer has, or a second product for the same plan. */
  | { kind: 'archive_product'; plan: string; productId: string; name: string };

export type ChangeKind = Change['kind'];

/** The order a push applies changes in: what others point at exists before they point at it. */
export const CHANGE_ORDER: readonly ChangeKind[] = [
  'create_feature',
  'update_feature',
  'create_product',
  'update_product',
  'create_price',
  'replace_price',
  'relink_price',
  'attach_feature',
  'detach_feature',
  'archive_price',
  'archive_product',
];
