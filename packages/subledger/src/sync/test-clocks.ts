import { getTableName } from 'drizzle-orm';
import type pg from 'pg';
import type Stripe from 'stripe';
import { PLATFORM } from '../store/schema/mirror.ts';
import { isMissing } from '../stripe/index.ts';
import { idOf, type StripeObject } from './envelope.ts';
import { KINDS, type KindName } from './kinds.ts';
import type { Limiter } from './limiter.ts';
import type { PageRead } from './listing.ts';
import { type Place, retrieveObject } from './stripe-reads.ts';

/**
 * The version of an object read from Stripe, by a refetch, a reconcile, a backfill or an account sync.
 * Normally the later of the newest event known for it and Stripe's clock at the read, which orders the
 * read against events still on their way. Events of objects on a test clock carry the clock's time,
 * though, which stands still while Stripe's clock runs on (or runs ahead of it after an advance): the
 * `Date` of a read cannot be compared with them, and taking it would make every later event of the
 * object look stale, so its changes would be lost. Such a read is versioned by the newest event known
 * instead. An event created between that one and the read may then still be applied after it, briefly
 * showing a state the read had passed, until the newest event, which every change before the read has,
 * is applied in turn.
 */
export function fetchVersion(knownCreated: number, asOf: number | null, onTestClock: boolean): number {
  return onTestClock ? knownCreated : Math.max(knownCreated, asOf ?? 0);
}

type Located = { object: StripeObject; place: Place };

/** Runs a read from Stripe at once: for readers that have no rate of their own to keep. */
const immediately: Limiter = (call) => call();

/**
 * Which objects live on a test clock: those that name one (customers, subscriptions, invoices), and
 * those whose customer does, as the mirror has that customer (one query for all), else as Stripe does.
 * Customers the mirror lacks are read side by side, through the caller's limiter: a refetch of objects
 * whose customers are not mirrored yet must not take more of Stripe than its limiter allows.
 */
export async function onTestClocks(
  db: pg.Pool | pg.PoolClient,
  stripeFor: (livemode: boolean) => Stripe,
  objects: Located[],
  limiter: Limiter = immediately,
): Promise<boolean[]> {
  const clocked = objects.map(
    ({ object, place }) => !place.livemode && 'test_clock' in object && idOf(object.test_clock) !== null,
  );
  const byCustomer = new Map<string, { customer: string; place: Place; indexes: number[] }>();
  objects.forEach(({ object, place }, index) => {
    const customer = idOf(object.customer);
    if (place.livemode || 'test_clock' in object || !customer) return;
    const key = `${customer}|${place.stripeAccount}`;
    const entry = byCustomer.get(key) ?? { customer, place, indexes: [] };
    entry.indexes.push(index);
    byCustomer.set(key, entry);
  });
  if (byCustomer.size === 0) return clocked;
  const entries = [...byCustomer.values()];
  const { rows } = await db.query<{ id: string; stripe_account: string; clock: unknown }>(
    `select c.id, c.stripe_account, c.data->'test_clock' as clock from "${getTableName(KINDS.customer.table)}" c
     join unnest($1::text[], $2::text[]) as k(id, account) on c.id = k.id and c.stripe_account = k.account
     where not c.livemode`,
    [entries.map((entry) => entry.customer), entries.map((entry) => entry.place.stripeAccount)],
  );
  const known = new Map(rows.map((row) => [`${row.id}|${row.stripe_account}`, idOf(row.clock)]));
  const clockOf = async (key: string, entry: { customer: string; place: Place }) => {
    if (known.has(key)) return known.get(key);
    const read = await limiter(() =>
      retrieveObject(stripeFor(false), 'customer', entry.customer, entry.place),
    );
    return idOf(read.object?.test_clock);
  };
  await Promise.all(
    [...byCustomer].map(async ([key, entry]) => {
      if (await clockOf(key, entry)) for (const index of entry.indexes) clocked[index] = true;
    }),
  );
  return clocked;
}

/** `onTestClocks` for objects of one place, read with one client. */
export function onTestClocksAt(
  db: pg.Pool | pg.PoolClient,
  stripe: Stripe,
  place: Place,
  objects: StripeObject[],
  limiter?: Limiter,
): Promise<boolean[]> {
  return onTestClocks(
    db,
    () => stripe,
    objects.map((object) => ({ object, place })),
    limiter,
  );
}

/**
 * Kinds whose account-wide list leaves out the objects on a test clock: Stripe lists customers and
 * subscriptions of a clock only when that clock is asked for. Entitlement summaries are read by customer.
 */
const LISTED_BY_TEST_CLOCK: ReadonlySet<KindName> = new Set([
  'customer',
  'subscription',
  'entitlements.active_entitlement_summary',
]);

/**
 * Whether `listPages` walks each test clock's list of this kind too: in test mode, on the platform only.
 * Stripe refuses test clocks to a connected account (with `Stripe-Account`, listing them answers 400
 * "Connected account impersonation is not allowed on this endpoint.", stripe/stripe-python#819, a limit
 * of the API by Stripe's word), so the platform sees no clock there, and a connected account's walk is
 * its plain list. Skipped rather than asked and refused: one request less, and no error to tell apart.
 */
export const listedByTestClock = (kind: KindName, place: Place) =>
  !place.livemode && place.stripeAccount === PLATFORM && LISTED_BY_TEST_CLOCK.has(kind);

/** One page of the platform's test clocks: their ids, newest first. */
export type TestClockPage = { ids: string[]; hasMore: boolean };

/**
 * The page of the platform's test clocks after `cursor` (from the newest when null), or Stripe's 404 when
 * the clock `cursor` names was deleted since it was listed: by hand, or by Stripe once its `deletes_after`
 * passed. `listPages` steps back over it as over any lost cursor.
 */
export async function testClockPage(
  stripe: Stripe,
  limiter: Limiter,
  cursor: string | null,
): Promise<PageRead<TestClockPage>> {
  const params = { limit: 100, ...(cursor ? { starting_after: cursor } : {}) };
  try {
    const page = await limiter(() => stripe.testHelpers.testClocks.list(params));
    const ids = page.data.map((clock) => clock.id);
    return { page: { ids, hasMore: page.has_more }, listed: ids };
  } catch (error) {
    if (cursor !== null && isMissing(error)) return { cursorMissing: error };
    throw error;
  }
}
