import type Stripe from 'stripe';
import { isMissing } from '../stripe/index.ts';
import { embedsWholeList } from './columns.ts';
import { objectIdOf, type StripeObject } from './envelope.ts';
import type { KindName } from './kinds.ts';
import type { Limiter } from './limiter.ts';
import {
  embedsPagedList,
  type Fetched,
  type PagedKind,
  type Place,
  readSummary,
  requestOptions,
  retrieveObject,
  stripeSecond,
  wireShape,
  withWholeList,
} from './stripe-reads.ts';
import { listedByTestClock, testClockPage } from './test-clocks.ts';

/** One page of a kind as Stripe listed it, in the shape events carry, with the evidence of when. */
export type ListedPage = {
  kind: KindName;
  /** The list the page comes from: the account-wide list (null), or the test clock's whose id it is. */
  testClock: string | null;
  objects: StripeObject[];
  /** Stripe's clock (`Date` header, seconds) at the page's earliest read; the local clock without one. */
  asOf: number;
  /** Just before the page was requested, by `ListOptions.clock`: rows written after it may be newer. */
  readAt: Date;
  /** Where the next page starts (`starting_after`): the last object listed. */
  cursor: string | null;
  hasMore: boolean;
};

export type ListOptions = {
  limiter: Limiter;
  /**
   * When a page's read begins: the database's clock (`databaseNow`) for readers that write pages into
   * the mirror, whose rows other processes write by that clock.
   */
  clock: () => Promise<Date>;
  /** Resume in this test clock's list (a checkpoint's); absent or null: in the account-wide list. */
  testClock?: string | null;
  /** Resume after this object (a checkpoint's cursor); absent: from the newest object of that list. */
  startingAfter?: string | null;
  /** Objects per request, 1 … 100 (default 100, Stripe's maximum). */
  pageSize?: number;
  /** The list's own filters, sent with every page (e.g. checkout sessions' `status`, `created`). */
  filters?: Record<string, unknown>;
};

type ListParams = { limit: number; starting_after?: string; test_clock?: string };
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

/**
 * Every object of a kind on a place, newest first, one rate-limited request per page. Without the pages'
 * read times, so without a clock to take them by.
 */
export async function* listObjects(
  stripe: Stripe,
  kind: KindName,
  place: Place,
  options: Omit<ListOptions, 'clock'>,
): AsyncGenerator<StripeObject> {
  const clock = async () => new Date();
  for await (const page of listPages(stripe, kind, place, { ...options, clock })) yield* page.objects;
}

/**
 * The pages of `listObjects`, for readers that checkpoint or write page by page: the account-wide list,
 * then, for kinds Stripe lists by test clock (see `listedByTestClock`), each clock's list in turn, clocks
 * newest first. A walk resumed in a clock's list (`testClock`) goes on from there to the clocks after it.
 */
export async function* listPages(
  stripe: Stripe,
  kind: KindName,
  place: Place,
  options: ListOptions,
): AsyncGenerator<ListedPage> {
  const resumedIn = options.testClock ?? null;
  yield* listPagesOf(stripe, kind, place, options, resumedIn, options.startingAfter);
  if (!listedByTestClock(kind, place)) return;
  for (const clock of await testClockIds(stripe, options.limiter, resumedIn))
    yield* listPagesOf(stripe, kind, place, options, clock, null);
}

/**
 * The platform's test clocks, newest first, after `after` when given. A clock deleted while they are
 * listed is stepped over as any lost cursor, and Stripe's 404 thrown only for `after` (see
 * `pagesSteppingBack`).
 */
async function testClockIds(stripe: Stripe, limiter: Limiter, after: string | null): Promise<string[]> {
  const ids: string[] = [];
  const readPage = (cursor: string | null) => testClockPage(stripe, limiter, cursor);
  for await (const page of pagesSteppingBack(readPage, after)) ids.push(...page.ids);
  return ids;
}

/** The pages of one list of a kind: the account-wide one, or one test clock's. */
function listPagesOf(
  stripe: Stripe,
  kind: KindName,
  place: Place,
  options: ListOptions,
  testClock: string | null,
  startingAfter: string | null | undefined,
): AsyncGenerator<ListedPage> {
  const source = { options, testClock };
  const readPage =
    kind === 'entitlements.active_entitlement_summary'
      ? (cursor: string | null) => summaryPage(stripe, place, source, cursor)
      : (cursor: string | null) => plainPage(stripe, LIST[kind], kind, place, source, cursor);
  return pagesSteppingBack(readPage, startingAfter);
}

/**
 * The pages of one list, each read after the last object the one before listed (`starting_after`),
 * from the newest object, or after `startingAfter` when given.
 *
 * The object a page ended on may be deleted before the next page is read; Stripe then answers 404 for
 * it as `starting_after`. The walk steps back to the nearest object it listed that still exists: objects
 * keep their order in a list (new ones join at the top), so the page after that one is the page the lost
 * cursor would have begun, and no object is listed twice or skipped. When nothing listed survives, the
 * walk starts over from the newest object, unless it began after `startingAfter`: that object gone too,
 * Stripe's 404 is thrown, and where to go on from is the caller's choice.
 */
async function* pagesSteppingBack<Page extends { hasMore: boolean }>(
  readPage: (cursor: string | null) => Promise<PageRead<Page>>,
  startingAfter: string | null | undefined,
): AsyncGenerator<Page> {
  // Where the walk can step back to, in list order: `startingAfter`, then the id of every object listed
  // (a million `cus_…` ids take 50 MB of heap on Node 24, measured).
  const trail = startingAfter ? [startingAfter] : [];
  for (;;) {
    const read = await readPage(trail.at(-1) ?? null);
    if ('clockGone' in read) return;
    if ('cursorMissing' in read) {
      trail.pop();
      if (trail.length === 0 && startingAfter) throw read.cursorMissing;
      continue;
    }
    // A page whose objects all went (customers deleted before their summaries were read) still moves
    // the cursor on; one that lists nothing ends the list.
    if (read.listed.length === 0) return;
    trail.push(...read.listed);
    yield read.page;
    if (!read.page.hasMore) return;
  }
}

/** Which list a page is read from, and how. */
type ListSource = { options: ListOptions; testClock: string | null };

/**
 * One page as listed with the ids of the objects the list answered (the cursors it offers), or Stripe's
 * 404 when the object `starting_after` named was deleted since it was listed, or word that the test
 * clock whose list it is was deleted since the clocks were listed (the list ends there).
 */
export type PageRead<Page> =
  | { page: Page; listed: string[] }
  | { cursorMissing: unknown }
  | { clockGone: true };

async function plainPage(
  stripe: Stripe,
  list: ListCall,
  kind: KindName,
  place: Place,
  source: ListSource,
  cursor: string | null,
): Promise<PageRead<ListedPage>> {
  const { options, testClock } = source;
  const readAt = await options.clock();
  let response: Awaited<ReturnType<ListCall>>;
  try {
    response = await options.limiter(() => list(stripe, pageParams(source, cursor), requestOptions(place)));
  } catch (error) {
    if (cursor !== null && isMissing(error)) return { cursorMissing: error };
    // Nothing else the request names can be missing: the test clock was deleted, with its objects.
    if (testClock !== null && isMissing(error)) return { clockGone: true };
    throw error;
  }
  const listed = wireShape(response.data) as StripeObject[];
  const objects = embedsPagedList(kind)
    ? await withWholeListsOf(stripe, kind, listed, place, options)
    : listed;
  const page: ListedPage = {
    kind,
    testClock,
    objects,
    asOf: stripeSecond(response.lastResponse?.headers?.date) ?? Math.floor(readAt.getTime() / 1000),
    readAt,
    cursor: lastIdOf(objects) ?? cursor,
    hasMore: response.has_more,
  };
  return { page, listed: objects.map((object) => objectIdOf(object) ?? String(object.id)) };
}

/** Objects of a page whose embedded list is one page of more, completed one by one. */
function withWholeListsOf(
  stripe: Stripe,
  kind: PagedKind,
  objects: StripeObject[],
  place: Place,
  options: ListOptions,
) {
  return Promise.all(
    objects.map((object) =>
      embedsWholeList(kind, object)
        ? object
        : (options.limiter(async () =>
            wireShape(await withWholeList(stripe, kind, object, requestOptions(place))),
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
  source: ListSource,
  cursor: string | null,
): Promise<PageRead<ListedPage>> {
  const read = await plainPage(stripe, LIST.customer, 'customer', place, source, cursor);
  if (!('page' in read)) return read;
  const customers = read.page;
  const reads = await mapConcurrently(customers.objects, SUMMARY_CONCURRENCY, (customer) =>
    readSummary(stripe, String(customer.id), place, source.options.limiter),
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

function pageParams({ options, testClock }: ListSource, cursor: string | null): ListParams {
  return {
    ...options.filters,
    limit: options.pageSize ?? 100,
    ...(cursor ? { starting_after: cursor } : {}),
    ...(testClock ? { test_clock: testClock } : {}),
  };
}

function lastIdOf(objects: StripeObject[]): string | null {
  const last = objects.at(-1);
  return last ? (objectIdOf(last) ?? null) : null;
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
