import type Stripe from 'stripe';
import { invalidState, resourceMissing } from '../core/errors.ts';
import type { Scope } from '../core/scope.ts';
import type { Partition } from '../core/store.ts';
import type { Wire } from '../core/wire.ts';
import { emitEvent, previousAttributes } from '../events/emit.ts';
import { type PriceTerms, priceFromTerms, toTiers, type WirePrice, type WireTier } from './price-data.ts';

export type WireProduct = Wire<Stripe.Product>;
export type { WirePrice, WireTier };

/**
 * Tiers appear on a price only through `expand[]=tiers`, as on Stripe, so they are kept beside the
 * price rather than in it.
 */
type StoredTiers = { id: string; tiers: WireTier[] };

export const productTable = (scope: Scope) => scope.partition.table<WireProduct>('product');
export const priceTable = (scope: Scope) => scope.partition.table<WirePrice>('price');
const tierTable = (partition: Partition) => partition.table<StoredTiers>('price_tiers');

/** The product, or Stripe's 404 naming the parameter that pointed at it. */
export function requireProduct(scope: Scope, id: string, param = 'id'): WireProduct {
  const product = productTable(scope).get(id);
  if (!product) throw resourceMissing('product', id, param);
  return product;
}

/** The price, or Stripe's 404 naming the parameter that pointed at it. */
export function requirePrice(scope: Scope, id: string, param = 'id'): WirePrice {
  const price = priceTable(scope).get(id);
  if (!price) throw resourceMissing('price', id, param);
  return price;
}

/** A tiered price's tiers (empty for per-unit prices), for billing and for `expand[]=tiers`. */
export function priceTiers(scope: Scope, priceId: string): WireTier[] {
  return tiersIn(scope.partition, priceId);
}

export const tiersIn = (partition: Partition, priceId: string): WireTier[] =>
  structuredClone(tierTable(partition).get(priceId)?.tiers ?? []);

export function saveProduct(scope: Scope, before: WireProduct, after: WireProduct): WireProduct {
  const previous = previousAttributes(before, after);
  if (!previous) return before;
  const stamped = { ...after, updated: scope.emulator.clock.nowSeconds() };
  productTable(scope).replace(stamped);
  emitEvent(scope, 'product.updated', stamped, previous);
  return stamped;
}

export function savePrice(scope: Scope, before: WirePrice, after: WirePrice): WirePrice {
  priceTable(scope).replace(after);
  const previous = previousAttributes(before, after);
  if (previous) emitEvent(scope, 'price.updated', after, previous);
  return after;
}

/**
 * Gives `lookupKey` to `priceId`. Lookup keys are unique among an account's prices: taking one that
 * another price holds needs `transfer_lookup_key=true`, which removes it from that price.
 */
export function claimLookupKey(scope: Scope, lookupKey: string, priceId: string, transfer: boolean): void {
  const holder = priceTable(scope)
    .newestFirst()
    .find((price) => price.lookup_key === lookupKey && price.id !== priceId);
  if (!holder) return;
  if (!transfer) throw invalidState(`A price (\`${holder.id}\`) already uses that lookup key.`, 'lookup_key');
  savePrice(scope, holder, { ...holder, lookup_key: null });
}

/**
 * Checks what a new price points at (its meter) and claims (its lookup key) without changing
 * anything, so a request that also creates a product fails before the product exists.
 */
export function checkPriceReferences(scope: Scope, terms: NewPrice, paramPrefix = ''): void {
  const meter = terms.recurring?.meter;
  if (meter && !scope.partition.table<{ id: string }>('billing.meter').has(meter))
    throw resourceMissing(
      'billing.meter',
      meter,
      paramPrefix ? `${paramPrefix}[recurring][meter]` : 'recurring[meter]',
    );
  const lookupKey = terms.lookup_key;
  if (!lookupKey || terms.transfer_lookup_key) return;
  const holder = priceTable(scope)
    .newestFirst()
    .find((price) => price.lookup_key === lookupKey);
  if (holder) throw invalidState(`A price (\`${holder.id}\`) already uses that lookup key.`, 'lookup_key');
}

export type NewPrice = PriceTerms & { transfer_lookup_key?: boolean | undefined };

export type InsertPriceOptions = {
  /** Names the parameters in errors when the terms came nested (`default_price_data`). */
  paramPrefix?: string;
  /** Runs once the price is stored, before `price.created`: lets a new product announce itself first. */
  beforeEvent?: (price: WirePrice) => void;
};

/** Stores a new price for a product that exists and emits `price.created`. */
export function insertPrice(
  scope: Scope,
  terms: NewPrice,
  productId: string,
  { paramPrefix = '', beforeEvent }: InsertPriceOptions = {},
): WirePrice {
  checkPriceReferences(scope, terms, paramPrefix);
  const id = scope.emulator.random.id('price', 24);
  if (terms.lookup_key) claimLookupKey(scope, terms.lookup_key, id, terms.transfer_lookup_key ?? false);
  const price = priceFromTerms(terms, {
    id,
    created: scope.emulator.clock.nowSeconds(),
    livemode: scope.partition.livemode,
    product: productId,
  });
  priceTable(scope).insert(price);
  if (terms.tiers && price.billing_scheme === 'tiered')
    tierTable(scope.partition).insert({ id, tiers: toTiers(terms.tiers) });
  beforeEvent?.(price);
  emitEvent(scope, 'price.created', price);
  return price;
}

export type NewProduct = {
  id?: string | undefined;
  name: string;
  active?: boolean | undefined;
  description?: string | undefined;
  images?: string[] | undefined;
  marketing_features?: { name: string }[] | undefined;
  metadata?: Record<string, string> | null | undefined;
  package_dimensions?: Stripe.Product.PackageDimensions | undefined;
  shippable?: boolean | undefined;
  statement_descriptor?: string | undefined;
  tax_code?: string | undefined;
  tax_details?:
    | { performance_location?: string | undefined; tax_code?: string | null | undefined }
    | undefined;
  type?: 'good' | 'service' | undefined;
  unit_label?: string | undefined;
  url?: string | undefined;
};

/** Stores a new product (without events: the caller emits once the default price is attached). */
export function insertProduct(scope: Scope, input: NewProduct): WireProduct {
  const id = input.id ?? scope.emulator.random.id('prod', 14);
  if (productTable(scope).has(id))
    throw invalidState('Product already exists.', 'id', 'resource_already_exists');
  const now = scope.emulator.clock.nowSeconds();
  const product: WireProduct = {
    id,
    object: 'product',
    active: input.active ?? true,
    created: now,
    default_price: null,
    description: input.description ?? null,
    images: input.images ?? [],
    livemode: scope.partition.livemode,
    marketing_features: input.marketing_features ?? [],
    metadata: input.metadata ?? {},
    name: input.name,
    package_dimensions: input.package_dimensions ?? null,
    shippable: input.shippable ?? null,
    statement_descriptor: input.statement_descriptor ?? null,
    tax_code: input.tax_code ?? null,
    tax_details: input.tax_details
      ? {
          performance_location: input.tax_details.performance_location ?? null,
          tax_code: input.tax_details.tax_code ?? null,
        }
      : null,
    type: input.type ?? 'service',
    unit_label: input.unit_label ?? null,
    updated: now,
    url: input.url ?? null,
  };
  return productTable(scope).insert(product);
}
