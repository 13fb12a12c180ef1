import {
  CHANGE_ORDER,
  type Change,
  type FieldChange,
  PLAN_METADATA_KEY,
  type StripeCatalog,
  type StripeFeature,
  type StripePrice,
  type StripeProduct,
} from './changes.ts';
import { plansOf } from './lookups.ts';
import type { Catalog, Feature, Plan, Price } from './types.ts';

/**
 * The changes that make Stripe hold the catalog (pure). Empty: Stripe equals the catalog. `diff` reports
 * them as drift; `push` applies them in the order returned.
 */
export function planChanges(catalog: Catalog, stripe: StripeCatalog): Change[] {
  const features = new Map(
    Object.values<Feature>(catalog.features).map((f) => [f.id, chooseFeature(stripe, f.id)]),
  );
  const products = chooseProducts(catalog, stripe);
  const catalogKeys = new Set(
    plansOf(catalog).flatMap((plan) => plan.prices.map((price) => price.lookupKey)),
  );
  const changes: Change[] = [];
  for (const feature of Object.values<Feature>(catalog.features))
    changes.push(...featureChanges(feature, features.get(feature.id) ?? null));
  for (const plan of plansOf(catalog)) {
    const product = products.get(plan.id) ?? null;
    changes.push(...productChanges(plan, product));
    changes.push(...priceChanges(plan, product, stripe, catalogKeys));
    changes.push(...attachmentChanges(plan, product, stripe, features));
  }
  changes.push(...strayPriceChanges(stripe, products, catalogKeys, pricesTakenCareOf(changes)));
  changes.push(...strayProductChanges(stripe, products));
  return changes.sort((a, b) => CHANGE_ORDER.indexOf(a.kind) - CHANGE_ORDER.indexOf(b.kind));
}

/** The Stripe feature a catalog feature is: the active one with its lookup key, else the newest archived. */
function chooseFeature(stripe: StripeCatalog, id: string): StripeFeature | null {
  const candidates = stripe.features.filter((feature) => feature.lookup_key === id);
  return candidates.find((feature) => feature.active) ?? candidates[0] ?? null;
}

/** Each plan's product: among those tagged with the plan, an active one first, then the oldest. */
function chooseProducts(catalog: Catalog, stripe: StripeCatalog): Map<string, StripeProduct> {
  const chosen = new Map<string, StripeProduct>();
  const ranked = [...stripe.products].sort(
    (a, b) => Number(b.active) - Number(a.active) || a.created - b.created,
  );
  for (const product of ranked) {
    const planId = product.metadata[PLAN_METADATA_KEY];
    if (planId && Object.hasOwn(catalog.plans, planId) && !chosen.has(planId)) chosen.set(planId, product);
  }
  return chosen;
}

function featureChanges(feature: Feature, existing: StripeFeature | null): Change[] {
  if (!existing) return [{ kind: 'create_feature', feature: feature.id, name: feature.name }];
  const fields = differences([
    ['name', existing.name, feature.name],
    ['active', existing.active, true],
  ]);
  return fields.length > 0
    ? [{ kind: 'update_feature', feature: feature.id, featureId: existing.id, fields }]
    : [];
}

function productChanges(plan: Plan, existing: StripeProduct | null): Change[] {
  if (!existing)
    return [{ kind: 'create_product', plan: plan.id, name: plan.name, description: plan.description }];
  const fields = differences([
    ['name', existing.name, plan.name],
    // Stripe shows a removed description as null or as the empty string.
    ['description', existing.description || null, plan.description],
    ['active', existing.active, true],
  ]);
  return fields.length > 0 ? [{ kind: 'update_product', plan: plan.id, productId: existing.id, fields }] : [];
}

/**
 * Each catalog price: fine as Stripe holds it; or taken back by a price of the product with its terms;
 * or created, replacing the price holding its lookup key if any.
 */
function priceChanges(
  plan: Plan,
  product: StripeProduct | null,
  stripe: StripeCatalog,
  catalogKeys: Set<string>,
) {
  const productId = product?.id ?? null;
  const reusable = stripe.prices
    .filter(
      (p) => p.product === productId && p.active && (p.lookup_key === null || !catalogKeys.has(p.lookup_key)),
    )
    .sort((a, b) => a.created - b.created);
  return plan.prices.flatMap((price): Change[] => {
    const holder = stripe.prices.find((candidate) => candidate.lookup_key === price.lookupKey) ?? null;
    const reasons = holder ? priceMismatches(price, holder, productId) : [];
    if (holder && reasons.length === 0) return [];
    const target = reusable.find((candidate) => stripeTerms(candidate) === catalogTerms(price));
    if (target) {
      reusable.splice(reusable.indexOf(target), 1);
      return [{ kind: 'relink_price', plan: plan.id, price, target, replaces: holder, reasons }];
    }
    if (!holder) return [{ kind: 'create_price', plan: plan.id, productId, price }];
    return [{ kind: 'replace_price', plan: plan.id, productId, price, replaces: holder, reasons }];
  });
}

/** Why the Stripe price holding a lookup key is not the catalog's price; empty when it is. */
function priceMismatches(price: Price, held: StripePrice, productId: string | null): string[] {
  const reasons: string[] = [];
  const heldTerms = stripeTerms(held);
  const wantedTerms = catalogTerms(price);
  if (heldTerms !== wantedTerms) reasons.push(`${heldTerms} → ${wantedTerms}`);
  if (held.product !== productId) reasons.push(`belongs to product ${held.product}, not the plan's`);
  if (!held.active) reasons.push('archived in Stripe');
  return reasons;
}

/** A price's terms as one comparable, readable text: `2000 usd/month`, `5000 usd/3 months`. */
export function catalogTerms(price: Price): string {
  return termsText(price.unitAmount, price.currency, price.interval, price.intervalCount, true);
}

export function stripeTerms(price: StripePrice): string {
  const recurring = price.recurring;
  const amount = price.unit_amount ?? 'custom';
  if (price.type !== 'recurring' || !recurring) return `${amount} ${price.currency} one-time`;
  const licensed = recurring.usage_type === 'licensed';
  return termsText(amount, price.currency, recurring.interval, recurring.interval_count, licensed);
}

function termsText(
  amount: number | string,
  currency: string,
  interval: string,
  count: number,
  licensed: boolean,
) {
  const every = count === 1 ? interval : `${count} ${interval}s`;
  return `${amount} ${currency}/${every}${licensed ? '' : ' metered'}`;
}

/** Attach each feature the plan gives; detach whatever else is attached to its product. */
function attachmentChanges(
  plan: Plan,
  product: StripeProduct | null,
  stripe: StripeCatalog,
  features: Map<string, StripeFeature | null>,
): Change[] {
  const attached = product ? (stripe.productFeatures[product.id] ?? []) : [];
  const attachedIds = new Set(attached.map((entry) => entry.entitlement_feature.id));
  const wantedIds = new Set<string>();
  const changes: Change[] = [];
  for (const featureId of Object.keys(plan.features)) {
    const stripeFeature = features.get(featureId) ?? null;
    if (stripeFeature) wantedIds.add(stripeFeature.id);
    if (!stripeFeature || !attachedIds.has(stripeFeature.id))
      changes.push({
        kind: 'attach_feature',
        plan: plan.id,
        productId: product?.id ?? null,
        feature: featureId,
        featureId: stripeFeature?.id ?? null,
      });
  }
  for (const entry of attached)
    if (product && !wantedIds.has(entry.entitlement_feature.id))
      changes.push({
        kind: 'detach_feature',
        plan: plan.id,
        productId: product.id,
        productFeatureId: entry.id,
        feature: entry.entitlement_feature.lookup_key,
      });
  return changes;
}

/** The prices a replacement archives or a relink keeps: no stray-price rule applies to them. */
function pricesTakenCareOf(changes: Change[]): Set<string> {
  const ids = new Set<string>();
  for (const change of changes) {
    if (change.kind === 'replace_price') ids.add(change.replaces.id);
    if (change.kind === 'relink_price') {
      ids.add(change.target.id);
      if (change.replaces) ids.add(change.replaces.id);
    }
  }
  return ids;
}

/** Active prices on the catalog's products that the catalog does not name. */
function strayPriceChanges(
  stripe: StripeCatalog,
  products: Map<string, StripeProduct>,
  catalogKeys: Set<string>,
  takenCareOf: Set<string>,
): Change[] {
  const planOfProduct = new Map(stripe.products.map((p) => [p.id, p.metadata[PLAN_METADATA_KEY] ?? '']));
  return stripe.prices.flatMap((price): Change[] => {
    const plan = planOfProduct.get(price.product);
    if (plan === undefined || !price.active || takenCareOf.has(price.id)) return [];
    const named = price.lookup_key !== null && catalogKeys.has(price.lookup_key);
    const onItsPlan = products.get(plan)?.id === price.product;
    return named && onItsPlan ? [] : [{ kind: 'archive_price', plan, price }];
  });
}

/** Active products tagged with a plan that the catalog lacks, or tagged with a plan that has another product. */
function strayProductChanges(stripe: StripeCatalog, products: Map<string, StripeProduct>): Change[] {
  return stripe.products.flatMap((product): Change[] => {
    const plan = product.metadata[PLAN_METADATA_KEY] ?? '';
    if (!product.active || products.get(plan)?.id === product.id) return [];
    return [{ kind: 'archive_product', plan, productId: product.id, name: product.name }];
  });
}

function differences(pairs: [field: string, from: string | boolean | null, to: string | boolean | null][]) {
  return pairs
    .filter(([, from, to]) => from !== to)
    .map(([field, from, to]): FieldChange => ({ field, from, to }));
}
