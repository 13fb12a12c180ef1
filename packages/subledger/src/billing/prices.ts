import { and, eq, type SQL } from 'drizzle-orm';
import { type Catalog, planById, priceByLookupKey } from '../catalog/index.ts';
import { prices } from '../store/schema/mirror.ts';
import { requestOptions } from '../sync/index.ts';
import type { Billing } from './customers.ts';
import { BillingError } from './errors.ts';
import { type RecurringCost, recurringCostOf } from './plan-timing.ts';

export type PriceChoice = { plan?: string | undefined; price?: string | undefined };

/** A price resolved to Stripe's id, with what checkout needs to know of it. */
export type ResolvedPrice = {
  id: string;
  recurring: boolean;
  /** The catalog plan it belongs to, if any: checkout takes the plan's trial from it. */
  planId: string | null;
  trialDays: number;
  /** What it costs per interval; null for a one-time price or one without an amount (metered, tiered). */
  cost: RecurringCost | null;
};

/**
 * The Stripe price a request names: a catalog plan (its first price), a price id, or a lookup key. The
 * mirror is read first; a lookup key it does not hold yet is asked of Stripe.
 */
export async function resolvePrice(
  billing: Billing,
  catalog: Catalog,
  choice: PriceChoice,
): Promise<ResolvedPrice> {
  const param = choice.plan !== undefined ? 'plan' : 'price';
  const reference = choice.plan !== undefined ? planPriceKey(catalog, choice.plan) : (choice.price as string);
  const found = reference.startsWith('price_')
    ? await byId(billing, reference)
    : ((await byLookupKeyInMirror(billing, reference)) ?? (await byLookupKeyInStripe(billing, reference)));
  if (!found) throw new BillingError('price_not_found', `no active price ${reference}`, param);
  const plan = found.lookupKey ? priceByLookupKey(catalog, found.lookupKey)?.plan : null;
  return {
    id: found.id,
    recurring: found.recurring,
    planId: plan?.id ?? null,
    trialDays: plan?.trialDays ?? 0,
    cost: found.cost,
  };
}

function planPriceKey(catalog: Catalog, planId: string): string {
  const price = planById(catalog, planId)?.prices[0];
  if (!price)
    throw new BillingError('price_not_found', `the catalog has no plan ${planId} with a price`, 'plan');
  return price.lookupKey;
}

type Found = { id: string; lookupKey: string | null; recurring: boolean; cost: RecurringCost | null };

type StripePriceLike = Parameters<typeof recurringCostOf>[0] & {
  id: string;
  lookup_key?: string | null;
  active?: boolean;
};

const foundOf = (price: StripePriceLike): Found => ({
  id: price.id,
  lookupKey: price.lookup_key ?? null,
  recurring: price.recurring != null,
  cost: recurringCostOf(price),
});

/** Mirrored prices of the billing's place that also meet `conditions`. */
async function mirroredPrices(billing: Billing, ...conditions: SQL[]): Promise<StripePriceLike[]> {
  const { stripeAccount, livemode } = billing.place;
  const rows = await billing.database.db
    .select({ data: prices.data })
    .from(prices)
    .where(and(eq(prices.stripeAccount, stripeAccount), eq(prices.livemode, livemode), ...conditions));
  return rows.map((row) => row.data as StripePriceLike);
}

async function byId(billing: Billing, id: string): Promise<Found | null> {
  const [mirrored] = await mirroredPrices(billing, eq(prices.id, id));
  const price = mirrored ?? (await retrieveActive(billing, id));
  return price?.active === false ? null : price ? foundOf(price) : null;
}

async function retrieveActive(billing: Billing, id: string): Promise<StripePriceLike | null> {
  try {
    return await billing.stripe.prices.retrieve(id, {}, requestOptions(billing.place));
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw error;
  }
}

async function byLookupKeyInMirror(billing: Billing, lookupKey: string): Promise<Found | null> {
  const [price] = await mirroredPrices(
    billing,
    eq(prices.lookupKey, lookupKey),
    eq(prices.active, true),
    eq(prices.deleted, false),
  );
  return price ? foundOf(price) : null;
}

async function byLookupKeyInStripe(billing: Billing, lookupKey: string): Promise<Found | null> {
  const list = await billing.stripe.prices.list(
    { lookup_keys: [lookupKey], active: true, limit: 1 },
    requestOptions(billing.place),
  );
  const price = list.data[0];
  return price ? foundOf(price) : null;
}
