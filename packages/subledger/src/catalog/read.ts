import type Stripe from 'stripe';
import {
  PLAN_METADATA_KEY,
  type StripeCatalog,
  type StripeFeature,
  type StripePrice,
  type StripeProduct,
  type StripeProductFeature,
} from './changes.ts';
import { plansOf } from './lookups.ts';
import type { Catalog } from './types.ts';

/** More than any account's catalog; `autoPagingToArray` needs a bound. */
const MAX_LISTED = 10_000;
/** Stripe's limit on `lookup_keys` in one price list request. */
const LOOKUP_KEYS_PER_LIST = 10;

/**
 * Reads what Stripe holds of the catalog: the products tagged with a plan, their active prices and
 * attached features, every price holding one of the catalog's lookup keys, and every entitlement
 * feature. Every product is listed to find the tagged ones: searching by metadata would read less, but
 * Stripe's search lags writes (up to a minute), and a push right after a push must see its products.
 */
export async function readStripeCatalog(stripe: Stripe, catalog: Catalog): Promise<StripeCatalog> {
  const [allProducts, features, pricesByKey] = await Promise.all([
    stripe.products.list({ limit: 100 }).autoPagingToArray({ limit: MAX_LISTED }),
    listFeatures(stripe),
    listPricesByLookupKey(stripe, catalogLookupKeys(catalog)),
  ]);
  const products = allProducts.filter((product) => Object.hasOwn(product.metadata, PLAN_METADATA_KEY));
  const perProduct = await Promise.all(products.map((product) => readProduct(stripe, product.id)));
  const prices = new Map<string, StripePrice>();
  for (const price of [...pricesByKey, ...perProduct.flatMap((read) => read.prices)])
    prices.set(price.id, price);
  return {
    products: products.map(toProduct),
    prices: [...prices.values()],
    features: features.map(toFeature),
    productFeatures: Object.fromEntries(
      products.map((product, index) => [product.id, perProduct[index]?.attached ?? []]),
    ),
  };
}

/** Live features, then archived ones; asked for both, as Stripe's default for `archived` is not documented. */
async function listFeatures(stripe: Stripe): Promise<Stripe.Entitlements.Feature[]> {
  const [live, archived] = await Promise.all(
    [false, true].map((archived) =>
      stripe.entitlements.features.list({ archived, limit: 100 }).autoPagingToArray({ limit: MAX_LISTED }),
    ),
  );
  return [...(live ?? []), ...(archived ?? [])];
}

const catalogLookupKeys = (catalog: Catalog) =>
  plansOf(catalog).flatMap((plan) => plan.prices.map((price) => price.lookupKey));

async function listPricesByLookupKey(stripe: Stripe, lookupKeys: string[]): Promise<StripePrice[]> {
  const chunks: string[][] = [];
  for (let start = 0; start < lookupKeys.length; start += LOOKUP_KEYS_PER_LIST)
    chunks.push(lookupKeys.slice(start, start + LOOKUP_KEYS_PER_LIST));
  const lists = await Promise.all(
    chunks.map((chunk) =>
      stripe.prices.list({ lookup_keys: chunk, limit: 100 }).autoPagingToArray({ limit: MAX_LISTED }),
    ),
  );
  return lists.flat().map(toPrice);
}

async function readProduct(stripe: Stripe, productId: string) {
  const [prices, attached] = await Promise.all([
    stripe.prices
      .list({ product: productId, active: true, limit: 100 })
      .autoPagingToArray({ limit: MAX_LISTED }),
    stripe.products.listFeatures(productId, { limit: 100 }).autoPagingToArray({ limit: MAX_LISTED }),
  ]);
  return { prices: prices.map(toPrice), attached: attached.map(toProductFeature) };
}

/* Narrowed to the fields the catalog manages, so a snapshot prints and compares plainly. */

const toProduct = (product: Stripe.Product): StripeProduct => ({
  id: product.id,
  name: product.name,
  description: product.description,
  active: product.active,
  metadata: product.metadata,
  created: product.created,
});

const toPrice = (price: Stripe.Price): StripePrice => ({
  id: price.id,
  product: typeof price.product === 'string' ? price.product : price.product.id,
  lookup_key: price.lookup_key,
  active: price.active,
  unit_amount: price.unit_amount,
  currency: price.currency,
  type: price.type,
  created: price.created,
  recurring: price.recurring && {
    interval: price.recurring.interval,
    interval_count: price.recurring.interval_count,
    usage_type: price.recurring.usage_type,
  },
});

const toFeature = (feature: Stripe.Entitlements.Feature): StripeFeature => ({
  id: feature.id,
  lookup_key: feature.lookup_key,
  name: feature.name,
  active: feature.active,
});

const toProductFeature = (attached: Stripe.ProductFeature): StripeProductFeature => ({
  id: attached.id,
  entitlement_feature: toFeature(attached.entitlement_feature),
});
