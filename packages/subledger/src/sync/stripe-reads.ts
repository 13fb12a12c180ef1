import type Stripe from 'stripe';
import { PLATFORM } from '../store/schema/mirror.ts';
import { isMissing } from '../stripe/index.ts';
import { EMBEDDED_LISTS, embedsWholeList } from './columns.ts';
import type { StripeObject } from './envelope.ts';
import type { KindName } from './kinds.ts';
import type { Limiter } from './limiter.ts';

/** Where an object lives: the platform or a connected account, in test or live mode. */
export type Place = { stripeAccount: string; livemode: boolean };

export type Fetched = {
  /** The current object; `deleted` when Stripe no longer has it (or answers with a deleted stub). */
  object: StripeObject | null;
  deleted: boolean;
  /** Stripe's clock (the response's `Date`) in seconds, when it sent one. */
  asOf: number | null;
};

export const requestOptions = (place: Place): Stripe.RequestOptions =>
  place.stripeAccount === PLATFORM ? {} : { stripeAccount: place.stripeAccount };

const SUMMARY = 'entitlements.active_entitlement_summary';

type Retrieve = (
  stripe: Stripe,
  id: string,
  options: Stripe.RequestOptions,
  place: Place,
) => Promise<unknown>;

/**
 * How each mirrored type is read from Stripe, one line each. Stripe has no endpoint for the entitlement
 * summary its events carry: `readSummary` rebuilds it.
 */
const RETRIEVE: Record<Exclude<KindName, typeof SUMMARY>, Retrieve> = {
  customer: (stripe, id, options) => stripe.customers.retrieve(id, {}, options),
  product: (stripe, id, options) => stripe.products.retrieve(id, {}, options),
  price: (stripe, id, options) => stripe.prices.retrieve(id, {}, options),
  subscription: async (stripe, id, options) =>
    withWholeList(
      stripe,
      'subscription',
      (await stripe.subscriptions.retrieve(id, {}, options)) as never,
      options,
    ),
  invoice: async (stripe, id, options) =>
    withWholeList(stripe, 'invoice', (await stripe.invoices.retrieve(id, {}, options)) as never, options),
  invoice_payment: (stripe, id, options) => stripe.invoicePayments.retrieve(id, {}, options),
  'checkout.session': (stripe, id, options) => stripe.checkout.sessions.retrieve(id, {}, options),
  payment_intent: (stripe, id, options) => stripe.paymentIntents.retrieve(id, {}, options),
  'billing.meter': (stripe, id, options) => stripe.billing.meters.retrieve(id, {}, options),
};

/** Reads one object as Stripe has it now. */
export async function retrieveObject(
  stripe: Stripe,
  kind: KindName,
  id: string,
  place: Place,
): Promise<Fetched> {
  if (kind === SUMMARY) return readSummary(stripe, id, place);
  try {
    const result = (await RETRIEVE[kind](stripe, id, requestOptions(place), place)) as StripeObject & {
      lastResponse?: { headers?: Record<string, string> };
    };
    const asOf = stripeSecond(result.lastResponse?.headers?.date);
    const { lastResponse: _, ...object } = result;
    return { object, deleted: object.deleted === true, asOf };
  } catch (error) {
    if (isMissing(error)) return { object: null, deleted: true, asOf: null };
    throw error;
  }
}

/** How many times a summary is read before its entitlements are taken to keep changing under it. */
const SUMMARY_READS = 3;

const CHANGED_BETWEEN_PAGES = Symbol('changed between pages');

/**
 * A customer's active entitlement summary, from every page of its active entitlements. An entitlement
 * a page ended on may end before the next page is read: Stripe then answers 404 for it as
 * `starting_after`, which must not pass for the customer's deletion. The summary is one moment's, so
 * the read starts over.
 */
export async function readSummary(
  stripe: Stripe,
  customer: string,
  place: Place,
  limiter: Limiter = (call) => call(),
): Promise<Fetched> {
  for (let read = 1; read <= SUMMARY_READS; read++) {
    const summary = await readSummaryPages(stripe, customer, place, limiter);
    if (summary !== CHANGED_BETWEEN_PAGES) return summary;
  }
  throw new Error(`the active entitlements of ${customer} changed during each of ${SUMMARY_READS} reads`);
}

async function readSummaryPages(
  stripe: Stripe,
  customer: string,
  place: Place,
  limiter: Limiter,
): Promise<Fetched | typeof CHANGED_BETWEEN_PAGES> {
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
    if (!isMissing(error)) throw error;
    return cursor === null ? { object: null, deleted: true, asOf: null } : CHANGED_BETWEEN_PAGES;
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

/** How every row of a list an object embeds is read: Stripe allows at most 20 items; lines are many. */
const EMBEDDED_ROWS = {
  subscription: (stripe: Stripe, id: string, options: Stripe.RequestOptions) =>
    stripe.subscriptionItems.list({ subscription: id, limit: 100 }, options),
  invoice: (stripe: Stripe, id: string, options: Stripe.RequestOptions) =>
    stripe.invoices.listLineItems(id, { limit: 100 }, options),
};

export type PagedKind = keyof typeof EMBEDDED_ROWS;

export const embedsPagedList = (kind: KindName): kind is PagedKind => kind in EMBEDDED_ROWS;

/**
 * An object whose embedded list (a subscription's items, an invoice's lines) is one page of more, with
 * every row: the list is read in full, in pages of 100, and the embedded one replaced.
 */
export async function withWholeList<T extends StripeObject>(
  stripe: Stripe,
  kind: PagedKind,
  object: T,
  options: Stripe.RequestOptions,
): Promise<T> {
  if (embedsWholeList(kind, object)) return object;
  const rows = EMBEDDED_ROWS[kind](stripe, String(object.id), options);
  const data = await rows.autoPagingToArray({ limit: 10_000 });
  const field = EMBEDDED_LISTS[kind];
  const embedded = object[field] as Record<string, unknown>;
  const whole = { ...object, [field]: { ...embedded, data, has_more: false } };
  // The SDK's non-enumerable lastResponse (its Date header versions a fetch) does not survive a spread.
  const { lastResponse } = object as { lastResponse?: unknown };
  return Object.defineProperty(whole, 'lastResponse', { value: lastResponse });
}

/** Stripe's clock, in seconds, from a response's `Date` header. */
export function stripeSecond(header: string | undefined): number | null {
  const time = header ? Date.parse(header) : Number.NaN;
  return Number.isFinite(time) ? Math.floor(time / 1000) : null;
}

/**
 * An object Stripe answered a request with, as the mirror writes it: without the SDK's `lastResponse`,
 * versioned by Stripe's clock (the answer's `Date`), like every other fetch, so that it orders with
 * them even when this machine's clock and Stripe's disagree.
 */
export function answered(result: object): { object: StripeObject; version: number } {
  const { lastResponse, ...object } = result as StripeObject & {
    lastResponse?: { headers?: Record<string, string> };
  };
  return { object, version: stripeSecond(lastResponse?.headers?.date) ?? Math.floor(Date.now() / 1000) };
}

/**
 * The SDK turns decimal strings (`unit_amount_decimal`) into `Decimal` objects; events and the mirror
 * carry them as JSON strings. Objects read from Stripe are turned back into JSON, the shape an event
 * payload has.
 */
export function wireShape(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}
