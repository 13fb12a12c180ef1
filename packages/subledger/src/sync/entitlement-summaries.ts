import type Stripe from 'stripe';
import { isMissing } from '../stripe/index.ts';
import type { StripeObject } from './envelope.ts';
import type { Limiter } from './listing.ts';
import { type Fetched, type Place, requestOptions, stripeSecond, wireShape } from './stripe-reads.ts';

// Per-customer reads of one page run side by side, still inside the limiter's budget.
const SUMMARY_CONCURRENCY = 8;

/** The active entitlement summaries of customers, in their order, read side by side. */
export function readSummaries(
  stripe: Stripe,
  customers: readonly string[],
  place: Place,
  limiter: Limiter,
): Promise<Fetched[]> {
  return mapConcurrently(customers, SUMMARY_CONCURRENCY, (customer) =>
    readSummary(stripe, customer, place, limiter),
  );
}

/** A customer's active entitlement summary, from every page of its active entitlements. */
export async function readSummary(
  stripe: Stripe,
  customer: string,
  place: Place,
  limiter: Limiter,
): Promise<Fetched> {
  const entitlements: StripeObject[] = [];
  let asOf: number | null = null;
  let cursor: string | null = null;
  try {
    for (;;) {
      const params: Stripe.Entitlements.ActiveEntitlementListParams = {
        customer,
        limit: 100,
        ...(cursor ? { starting_after: cursor } : {}),
      };
      const page = await limiter(() =>
        stripe.entitlements.activeEntitlements.list(params, requestOptions(place)),
      );
      asOf ??= stripeSecond(page.lastResponse?.headers?.date);
      entitlements.push(...(wireShape(page.data) as StripeObject[]));
      cursor = page.data.at(-1)?.id ?? null;
      if (!page.has_more || cursor === null) break;
    }
  } catch (error) {
    if (isMissing(error)) return { object: null, deleted: true, asOf: null };
    throw error;
  }
  return { object: entitlementSummary(customer, entitlements, place.livemode), deleted: false, asOf };
}

/**
 * The summary object `entitlements.active_entitlement_summary.updated` events carry (Stripe has no
 * endpoint that returns it), rebuilt from the customer's active entitlements in the same shape and order.
 */
export function entitlementSummary(customer: string, entitlements: StripeObject[], livemode: boolean) {
  return {
    object: 'entitlements.active_entitlement_summary',
    customer,
    entitlements: {
      object: 'list',
      data: entitlements,
      has_more: false,
      url: `/v1/customer/${customer}/entitlements`,
    },
    livemode,
  };
}

async function mapConcurrently<T, R>(
  items: readonly T[],
  width: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return results;
}
