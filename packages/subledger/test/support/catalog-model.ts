import {
  type Change,
  PLAN_METADATA_KEY,
  type StripeCatalog,
  type StripeFeature,
  type StripePrice,
  type StripeProduct,
} from '../../src/catalog/index.ts';
import type { Catalog, Feature, Plan, Price } from '../../src/catalog/types.ts';

/**
 * A model of what Stripe does with each change, on a snapshot (pure): what a push would leave in
 * Stripe, so plans can be checked for convergence without I/O. Ids count up from `seed`.
 */
export function applyToModel(before: StripeCatalog, changes: readonly Change[], seed = 1000): StripeCatalog {
  const stripe = structuredClone(before);
  let next = seed;
  const id = (prefix: string) => `${prefix}_${next++}`;
  const products = new Map<string, string>();
  const features = new Map<string, string>();
  const priceById = (priceId: string) => stripe.prices.find((price) => price.id === priceId) as StripePrice;
  const archive = (priceId: string) => Object.assign(priceById(priceId), { active: false });
  const takeLookupKey = (lookupKey: string) => {
    for (const price of stripe.prices) if (price.lookup_key === lookupKey) price.lookup_key = null;
  };
  const productOf = (change: { plan: string; productId: string | null }) =>
    change.productId ?? (products.get(change.plan) as string);
  for (const change of changes)
    switch (change.kind) {
      case 'create_feature': {
        const feature = { id: id('feat'), lookup_key: change.feature, name: change.name, active: true };
        stripe.features.unshift(feature);
        features.set(change.feature, feature.id);
        break;
      }
      case 'update_feature':
        for (const field of change.fields) set(findFeature(stripe, change.featureId), field.field, field.to);
        break;
      case 'create_product': {
        const product = storedProduct(id('prod'), change.plan, change.name, change.description, next);
        stripe.products.unshift(product);
        stripe.productFeatures[product.id] = [];
        products.set(change.plan, product.id);
        break;
      }
      case 'update_product': {
        const product = stripe.products.find((p) => p.id === change.productId) as StripeProduct;
        for (const field of change.fields) set(product, field.field, field.to);
        break;
      }
      case 'create_price':
      case 'replace_price':
        takeLookupKey(change.price.lookupKey);
        stripe.prices.unshift(storedPrice(id('price'), productOf(change), change.price, next));
        if (change.kind === 'replace_price') archive(change.replaces.id);
        break;
      case 'relink_price':
        takeLookupKey(change.price.lookupKey);
        priceById(change.target.id).lookup_key = change.price.lookupKey;
        if (change.replaces) archive(change.replaces.id);
        break;
      case 'attach_feature': {
        const featureId = change.featureId ?? (features.get(change.feature) as string);
        const attached = stripe.productFeatures[productOf(change)] ?? [];
        attached.unshift({ id: id('prodft'), entitlement_feature: findFeature(stripe, featureId) });
        stripe.productFeatures[productOf(change)] = attached;
        break;
      }
      case 'detach_feature':
        stripe.productFeatures[change.productId] = (stripe.productFeatures[change.productId] ?? []).filter(
          (attached) => attached.id !== change.productFeatureId,
        );
        break;
      case 'archive_price':
        archive(change.price.id);
        break;
      case 'archive_product':
        Object.assign(stripe.products.find((p) => p.id === change.productId) as StripeProduct, {
          active: false,
        });
        break;
    }
  return stripe;
}

export const emptyStripe = (): StripeCatalog => ({
  products: [],
  prices: [],
  features: [],
  productFeatures: {},
});

export function storedProduct(
  id: string,
  plan: string,
  name: string,
  description: string | null = null,
  created = 1,
): StripeProduct {
  return { id, name, description, active: true, metadata: { [PLAN_METADATA_KEY]: plan }, created };
}

export function storedPrice(id: string, product: string, price: Price, created = 1): StripePrice {
  return {
    id,
    product,
    lookup_key: price.lookupKey,
    active: true,
    unit_amount: price.unitAmount,
    currency: price.currency,
    type: 'recurring',
    created,
    recurring: { interval: price.interval, interval_count: price.intervalCount, usage_type: 'licensed' },
  };
}

export function findFeature(stripe: StripeCatalog, featureId: string): StripeFeature {
  const feature = stripe.features.find((candidate) => candidate.id === featureId);
  if (!feature) throw new Error(`no feature ${featureId} in the model`);
  return feature;
}

function set(target: object, field: string, value: unknown) {
  (target as Record<string, unknown>)[field] = value;
}

/**
 * What "Stripe holds the catalog" means, checked on a snapshot independently of the planner: each
 * feature live under its lookup key; each plan one live product whose live prices are exactly the
 * plan's (terms and lookup keys) and whose attached features are exactly the plan's; no other live
 * product tagged with a plan. Returns the differences found, empty when Stripe holds the catalog.
 */
export function catalogDifferences(stripe: StripeCatalog, catalog: Catalog): string[] {
  const problems: string[] = [];
  const liveFeature = new Map(stripe.features.filter((f) => f.active).map((f) => [f.lookup_key, f]));
  for (const feature of Object.values<Feature>(catalog.features))
    if (liveFeature.get(feature.id)?.name !== feature.name) problems.push(`feature ${feature.id}`);
  const liveProducts = stripe.products.filter((p) => p.active);
  for (const plan of Object.values<Plan>(catalog.plans)) {
    const products = liveProducts.filter((p) => p.metadata[PLAN_METADATA_KEY] === plan.id);
    const product = products[0];
    if (products.length !== 1 || !product) {
      problems.push(`plan ${plan.id} has ${products.length} live products`);
      continue;
    }
    if (product.name !== plan.name || (product.description || null) !== plan.description)
      problems.push(`product ${plan.id} fields`);
    const prices = stripe.prices
      .filter((p) => p.active && p.product === product.id)
      .map(
        (p) =>
          `${p.lookup_key} ${p.unit_amount} ${p.currency} ${p.recurring?.interval}/${p.recurring?.interval_count}`,
      );
    const wanted = plan.prices.map(
      (p) => `${p.lookupKey} ${p.unitAmount} ${p.currency} ${p.interval}/${p.intervalCount}`,
    );
    if (prices.sort().join() !== wanted.sort().join())
      problems.push(`prices of ${plan.id}: ${prices.join(', ')}`);
    const attached = (stripe.productFeatures[product.id] ?? []).map((a) => a.entitlement_feature.id).sort();
    const features = Object.keys(plan.features).map((id) => liveFeature.get(id)?.id);
    if (attached.join() !== features.sort().join())
      problems.push(`features of ${plan.id}: ${attached.join(', ')}`);
  }
  const tagged = liveProducts.filter(
    (p) => !Object.hasOwn(catalog.plans, p.metadata[PLAN_METADATA_KEY] ?? ''),
  );
  for (const product of tagged) problems.push(`product ${product.id} of no plan is live`);
  return problems;
}
