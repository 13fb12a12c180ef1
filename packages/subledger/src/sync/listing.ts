import pThrottle from 'p-throttle';
import type Stripe from 'stripe';
import { withRequestSlots } from '../stripe/client.ts';
import { isMissing } from '../stripe/index.ts';
import { listsAllItems } from './columns.ts';
import { objectIdOf, type StripeObject } from './envelope.ts';
import type { KindName } from './kinds.ts';
import { type Fetched, type Place, requestOptions, retrieveObject, withAllItems } from './stripe-reads.ts';

/**
 * Runs a Stripe call when the shared budget allows. One limiter is passed to every reader of a job, so
 * the whole job — pages, per-customer reads, confirmations — stays under one requests-per-second cap.
 */
export type Limiter = <T>(call: () => Promise<T>) => Promise<T>;

/**
 * A limiter of `requestsPerSecond` HTTP requests, never exceeded in any one-second window (p-throttle's
 * strict mode; it spaces the times it schedules, so a late timer can bring two requests a few ms closer:
 * 997 ms apart at worst in a run of reconcile at 3/s). A call starts with one slot; each further request
 * it sends through a client of `createStripeClient` (the SDK's retries, a 429's, the pages of an
 * auto-paginated list) takes another.
 */
export function createLimiter(requestsPerSecond: number): Limiter {
  if (!Number.isInteger(requestsPerSecond) || requestsPerSecond < 1)
    throw new RangeError(`requestsPerSecond must be a positive integer, not ${requestsPerSecond}`);
  const throttle = pThrottle({ limit: requestsPerSecond, interval: 1000, strict: true });
  const slot = throttle(async () => undefined);
  return async <T>(call: () => Promise<T>) => {
    await slot();
    return withRequestSlots(slot, call);
  };
}

/** One page of a kind as Stripe listed it, in the shape events carry, with the evidence of when. */
export type ListedPage = {
  kind: KindName;
  objects: StripeObject[];
  /** Stripe's clock (`Date` header, seconds) at the page's earliest read; the local clock without one. */
  asOf: number;
  /** The local time just before the page was requested: rows written after it may be newer than it. */
  readAt: Date;
  /** Where the next page starts (`starting_after`): the last object listed. */
  cursor: string | null;
  hasMore: boolean;
};

export type ListOptions = {
  limiter: Limiter;
  /** Resume after this object (a checkpoint's cursor); absent: from the newest object. */
  startingAfter?: string | null;
  /** Objects per request, 1 … 100 (default 100, Stripe's maximum). */
  pageSize?: number;
};

type ListParams = { limit: number; starting_after?: string };
type ListCall = (
  stripe: Stripe,
  params: ListParams,
  options: Stripe.RequestOptions,
) => Promise<{ data: unknown[]; has_more: boolean; lastResponse?: { headers?: Record<string, string> } }>;

/**
 * How each kind is listed, one line each. Subscriptions list only uncanceled ones unless asked for
 * `all`; the other lists return every status by default. Active entitlements have no account-wide list.
 */
const LIST: Record<Exclude<KindName, 'entitlements.active_entitlement_summary'>, ListCall> = {
  customer: (stripe, params, options) => stripe.customers.list(params, options),
  product: (stripe, params, options) => stripe.products.list(params, options),
  price: (stripe, params, options) => stripe.prices.list(params, options),
  subscription: (stripe, params, options) => stripe.subscriptions.list({ ...params, status: 'all' }, options),
  invoice: (stripe, params, options) => stripe.invoices.list(params, options),
  invoice_payment: (stripe, params, options) => stripe.invoicePayments.list(params, options),
  'checkout.session': (stripe, params, options) => stripe.checkout.sessions.list(params, options),
  payment_intent: (stripe, params, options) => stripe.paymentIntents.list(params, options),
  'billing.meter': (stripe, params, options) => stripe.billing.meters.list(params, options),
};

/** Every object of a kind on a place, newest first, one rate-limited request per page. */
export async function* listObjects(
  stripe: Stripe,
  kind: KindName,
  place: Place,
  options: ListOptions,
): AsyncGenerator<StripeObject> {
  for await (const page of listPages(stripe, kind, place, options)) yield* page.objects;
}

/**
 * The pages of `listObjects`, for readers that checkpoint or write page by page.
 *
 * The object a page ended on may be deleted before the next page is read; Stripe then answers 404 for
 * it as `starting_after`. The walk steps back to the nearest object it listed that still exists: objects
 * keep their order in a list (new ones join at the top), so the page after that one is the page the lost
 * cursor would have begun, and no object is listed twice or skipped. When nothing listed survives, the
 * walk starts over from the newest object, unless it began after `startingAfter`: that object gone too,
 * Stripe's 404 is thrown, and where to go on from is the caller's choice.
 */
export async function* listPages(
  stripe: Stripe,
  kind: KindName,
  place: Place,
  options: ListOptions,
): AsyncGenerator<ListedPage> {
  const readPage =
    kind === 'entitlements.active_entitlement_summary'
      ? (cursor: string | null) => summaryPage(stripe, place, options, cursor)
      : (cursor: string | null) => plainPage(stripe, LIST[kind], kind, place, options, cursor);
  // Where the walk can step back to, in list order: `startingAfter`, then the id of every object listed
  // (a million `cus_…` ids take 50 MB of heap on Node 24, measured).
  const trail = options.startingAfter ? [options.startingAfter] : [];
  for (;;) {
    const cursor = trail.at(-1) ?? null;
    const read = await readPage(cursor);
    if ('cursorMissing' in read) {
      trail.pop();
      if (trail.length === 0 && options.startingAfter) throw read.cursorMissing;
      continue;
    }
    const { page } = read;
    trail.push(...read.listed);
    if (page.objects.length > 0 || page.cursor !== cursor) yield page;
    if (!page.hasMore || page.cursor === null) return;
  }
}

/**
 * One page as listed with the ids of the objects the list answered (the cursors it offers), or Stripe's
 * 404 when the object `starting_after` named was deleted since it was listed.
 */
type PageRead = { page: ListedPage; listed: string[] } | { cursorMissing: unknown };

async function plainPage(
  stripe: Stripe,
  list: ListCall,
  kind: KindName,
  place: Place,
  options: ListOptions,
  cursor: string | null,
): Promise<PageRead> {
  const readAt = new Date();
  let response: Awaited<ReturnType<ListCall>>;
  try {
    response = await options.limiter(() => list(stripe, pageParams(options, cursor), requestOptions(place)));
  } catch (error) {
    if (cursor !== null && isMissing(error)) return { cursorMissing: error };
    throw error;
  }
  const listed = wireShape(response.data) as StripeObject[];
  const objects = kind === 'subscription' ? await withAllItemsOf(stripe, listed, place, options) : listed;
  const page: ListedPage = {
    kind,
    objects,
    asOf: stripeSecond(response.lastResponse?.headers?.date) ?? Math.floor(readAt.getTime() / 1000),
    readAt,
    cursor: lastIdOf(objects) ?? cursor,
    hasMore: response.has_more,
  };
  return { page, listed: objects.map((object) => objectIdOf(object) ?? String(object.id)) };
}

/** Subscriptions of a page whose embedded items are one page of more, completed one by one. */
function withAllItemsOf(stripe: Stripe, subscriptions: StripeObject[], place: Place, options: ListOptions) {
  return Promise.all(
    subscriptions.map((subscription) =>
      listsAllItems(subscription)
        ? subscription
        : (options.limiter(async () =>
            wireShape(await withAllItems(stripe, subscription, requestOptions(place))),
          ) as Promise<StripeObject>),
    ),
  );
}

// Per-customer reads of one page run side by side, still inside the limiter's budget.
const SUMMARY_CONCURRENCY = 8;

/** A page of customers, each turned into its active entitlement summary (customers deleted meanwhile are skipped). */
async function summaryPage(
  stripe: Stripe,
  place: Place,
  options: ListOptions,
  cursor: string | null,
): Promise<PageRead> {
  const read = await plainPage(stripe, LIST.customer, 'customer', place, options, cursor);
  if ('cursorMissing' in read) return read;
  const customers = read.page;
  const reads = await mapConcurrently(customers.objects, SUMMARY_CONCURRENCY, (customer) =>
    readSummary(stripe, String(customer.id), place, options.limiter),
  );
  const present = reads.filter((summary) => summary.object !== null);
  const page: ListedPage = {
    ...customers,
    kind: 'entitlements.active_entitlement_summary',
    objects: present.map((summary) => summary.object as StripeObject),
    asOf: Math.min(customers.asOf, ...present.map((summary) => summary.asOf ?? customers.asOf)),
  };
  return { page, listed: read.listed };
}

/** Reads one object as the listing shapes it, for confirming what a list did not show. */
export async function retrieveListed(
  stripe: Stripe,
  kind: KindName,
  id: string,
  place: Place,
  limiter: Limiter,
): Promise<Fetched> {
  if (kind === 'entitlements.active_entitlement_summary') return readSummary(stripe, id, place, limiter);
  const fetched = await limiter(() => retrieveObject(stripe, kind, id, place));
  return { ...fetched, object: fetched.object && (wireShape(fetched.object) as StripeObject) };
}

async function readSummary(
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
      cursor = lastIdOf(page.data as unknown as StripeObject[]);
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

/**
 * The SDK turns decimal strings (`unit_amount_decimal`) into `Decimal` objects; events and the mirror
 * carry them as JSON strings. Objects leave this module as JSON, the shape an event payload has.
 */
export function wireShape(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

function pageParams(options: ListOptions, cursor: string | null): ListParams {
  const limit = options.pageSize ?? 100;
  return cursor ? { limit, starting_after: cursor } : { limit };
}

function lastIdOf(objects: StripeObject[]): string | null {
  const last = objects.at(-1);
  return last ? (objectIdOf(last) ?? null) : null;
}

function stripeSecond(header: string | undefined): number | null {
  const time = header ? Date.parse(header) : Number.NaN;
  return Number.isFinite(time) ? Math.floor(time / 1000) : null;
}

async function mapConcurrently<T, R>(items: T[], width: number, map: (item: T) => Promise<R>): Promise<R[]> {
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
