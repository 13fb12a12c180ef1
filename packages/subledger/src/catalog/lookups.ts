import type { Catalog, Plan, PlanFeature, Price } from './types.ts';

/** The plan a price belongs to, by the price's lookup key; null for a price the catalog does not name. */
export function planOfPrice<P extends string>(catalog: Catalog<string, P>, lookupKey: string): P | null {
  return priceByLookupKey(catalog, lookupKey)?.plan.id ?? null;
}

/** The catalog price with this lookup key, and its plan. */
export function priceByLookupKey<P extends string>(
  catalog: Catalog<string, P>,
  lookupKey: string,
): { plan: Plan & { id: P }; price: Price } | null {
  for (const plan of plansOf(catalog)) {
    const price = plan.prices.find((candidate) => candidate.lookupKey === lookupKey);
    if (price) return { plan, price };
  }
  return null;
}

/** Every feature a plan gives, each with its limit or grant; empty for a plan the catalog does not have. */
export function planFeatures<F extends string>(catalog: Catalog<F>, planId: string): PlanFeature[] {
  const plan = planById(catalog, planId);
  return plan ? Object.values<PlanFeature | undefined>(plan.features).filter((f) => f !== undefined) : [];
}

/** What a plan gives of one feature; null when the plan does not give it (or either is unknown). */
export function planFeature<F extends string>(
  catalog: Catalog<F>,
  planId: string,
  featureId: string,
): PlanFeature | null {
  const plan = planById(catalog, planId);
  return (plan && Object.hasOwn(plan.features, featureId) && plan.features[featureId as F]) || null;
}

export function planById<F extends string, P extends string>(
  catalog: Catalog<F, P>,
  planId: string,
): Plan<F> | null {
  return Object.hasOwn(catalog.plans, planId) ? catalog.plans[planId as P] : null;
}

/** The plans in declaration order. */
export function plansOf<F extends string, P extends string>(catalog: Catalog<F, P>): (Plan<F> & { id: P })[] {
  return Object.values<Plan<F>>(catalog.plans) as (Plan<F> & { id: P })[];
}
