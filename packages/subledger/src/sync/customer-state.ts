import { drizzle } from 'drizzle-orm/node-postgres';
import type Stripe from 'stripe';
import { type Database, databaseNow } from '../store/index.ts';
import { inTransaction } from '../store/transaction.ts';
import { RECENT_INVOICES } from './account-view.ts';
import { lockSerialKey } from './claim.ts';
import type { StripeObject } from './envelope.ts';
import type { ColumnContext, KindName } from './kinds.ts';
import { type MirrorWrite, unprovenReads, writeMirror } from './mirror-writer.ts';
import { requestRefetches } from './refetch-queue.ts';
import { type PagedKind, type Place, requestOptions, retrieveObject, withWholeList } from './stripe-reads.ts';
import { fetchVersion, onTestClocksAt } from './test-clocks.ts';
import { objectKeyOf } from './versions.ts';

/**
 * One customer's state read from Stripe now and written as fetches, for the eager sync of an account
 * (see `syncAccount`): the customer, its subscriptions, recent invoices and checkout sessions, and its
 * active entitlements.
 */

export type CustomerSync = { database: Database; stripe: Stripe; context: ColumnContext; place: Place };

/** How many of the customer's checkout sessions are read (newest first). */
const RECENT_SESSIONS = 10;

/**
 * When an object was read: Stripe's clock at the answer (its `Date`, in seconds, when it sent one), and
 * the database's clock just before Stripe was asked (`databaseNow`).
 */
export type ReadClock = { asOf: number | null; readAt: Date };

/** An object read before the customer's state (a checkout session listed account-wide), as of its read. */
export type EarlierRead = { object: StripeObject; clock: ReadClock };

type Read = {
  kind: KindName;
  id: string;
  object: StripeObject;
  deleted: boolean;
  clock: ReadClock;
  /** The object lives on a test clock, whose events carry the clock's time (see `fetchVersion`). */
  onTestClock?: boolean;
};

/**
 * Reads one customer's state from Stripe and writes it, with `sessions`, checkout sessions of the
 * customer read earlier, each as of its own read: Stripe (and an event applied meanwhile) may have
 * changed one since, which the customer's state, read later, then shows.
 */
export async function syncCustomer(
  options: CustomerSync,
  customerId: string,
  sessions: EarlierRead[],
): Promise<void> {
  const { database, stripe, context, place } = options;
  const readAt = await databaseNow(database.pool);
  const known = await knownVersions(database, customerId, place);
  const { reads, asOf } = await readCustomerState(stripe, customerId, place);
  const all = [
    ...sessions.map(({ object, clock }) => ({ ...readOf('checkout.session', object), clock })),
    ...reads.map((read) => ({ ...read, clock: { asOf, readAt } })),
  ];
  const clocked = await onTestClocksAt(
    database.pool,
    stripe,
    place,
    all.map((read) => read.object),
  );
  const writes = toWrites(
    all.map((read, index) => ({ ...read, onTestClock: clocked[index] === true })),
    known,
    place,
  );
  await writeUnderCustomerLock(database, customerId, place, writes, context);
}

/**
 * The version each of the customer's rows holds now, read before Stripe is: a fetch is written with
 * max(that, Stripe's clock at the read), so an event applied meanwhile that is newer than the read
 * still wins over it (see `writeMirror`).
 */
async function knownVersions(
  database: Database,
  customerId: string,
  place: Place,
): Promise<Map<string, number>> {
  const owned = (kind: KindName, table: string, column: string) =>
    `select '${kind}' as kind, id, last_event_created from ${table}
     where ${column} = $1 and stripe_account = $2 and livemode = $3`;
  const { rows } = await database.pool.query<{ kind: KindName; id: string; last_event_created: number }>(
    [
      owned('customer', 'customers', 'id'),
      owned('subscription', 'subscriptions', 'customer_id'),
      owned('invoice', 'invoices', 'customer_id'),
      owned('checkout.session', 'checkout_sessions', 'customer_id'),
      owned('entitlements.active_entitlement_summary', 'active_entitlements', 'id'),
    ].join(' union all '),
    [customerId, place.stripeAccount, place.livemode],
  );
  return new Map(rows.map((row) => [objectKeyOf(row.kind, place, row.id), row.last_event_created]));
}

/**
 * The customer first, then its subscriptions (all statuses, every item), recent invoices (every line)
 * and checkout sessions, and its active entitlements. Every list is read after the customer, so Stripe's
 * clock at the customer read (its `Date` header) is a lower bound of when each of them was read.
 */
async function readCustomerState(stripe: Stripe, customerId: string, place: Place) {
  const options = requestOptions(place);
  const customer = await retrieveObject(stripe, 'customer', customerId, place);
  // A listed subscription or invoice embeds one page of its items or lines: the rest are read too.
  const whole = (kind: PagedKind, objects: readonly unknown[]) =>
    Promise.all(objects.map((object) => withWholeList(stripe, kind, object as StripeObject, options)));
  const [subscriptionList, invoiceList, sessionList, entitlements] = await Promise.all([
    stripe.subscriptions
      .list({ customer: customerId, status: 'all', limit: 100 }, options)
      .autoPagingToArray({ limit: 10_000 })
      .then((subscriptions) => whole('subscription', subscriptions)),
    stripe.invoices
      .list({ customer: customerId, limit: RECENT_INVOICES }, options)
      .then((invoices) => whole('invoice', invoices.data)),
    stripe.checkout.sessions.list({ customer: customerId, limit: RECENT_SESSIONS }, options),
    retrieveObject(stripe, 'entitlements.active_entitlement_summary', customerId, place),
  ]);
  const listed = (kind: KindName, objects: readonly unknown[]) =>
    objects.map((object) => readOf(kind, object as StripeObject));
  const reads: Unclocked[] = [
    {
      kind: 'customer',
      id: customerId,
      object: customer.object ?? { id: customerId, object: 'customer', deleted: true },
      deleted: customer.deleted,
    },
    ...listed('subscription', subscriptionList),
    ...listed('invoice', invoiceList),
    ...listed('checkout.session', sessionList.data),
  ];
  if (entitlements.object)
    reads.push({
      kind: 'entitlements.active_entitlement_summary',
      id: customerId,
      object: entitlements.object,
      deleted: false,
    });
  return { reads, asOf: customer.asOf };
}

/** A read whose clock is the one of the customer's state it is part of. */
type Unclocked = Omit<Read, 'clock'>;

const readOf = (kind: KindName, object: StripeObject): Unclocked => ({
  kind,
  id: String(object.id),
  object,
  deleted: object.deleted === true,
});

/**
 * Reads to mirror writes (pure): one per object, from its latest read (a copy read earlier never
 * replaces a fresher one), versioned by `fetchVersion` from the row's known version and Stripe's clock
 * at that read, and carrying when that read began. The known versions are read after an earlier read:
 * a row an event wrote since that read began ties the write, and is kept, its object read again
 * (`writeMirror`, `unprovenReads`), unless Stripe's clock at the read was past the event's second, when
 * the read held its change.
 */
export function toWrites(
  reads: readonly Read[],
  known: ReadonlyMap<string, number>,
  place: Place,
): MirrorWrite[] {
  const latest = new Map<string, Read>();
  for (const read of reads) {
    const key = objectKeyOf(read.kind, place, read.id);
    const held = latest.get(key);
    if (!held || !readBefore(read.clock, held.clock)) latest.set(key, read);
  }
  return [...latest].map(([key, read]) => ({
    kind: read.kind,
    id: read.id,
    ...place,
    object: read.object,
    deleted: read.deleted,
    version: fetchVersion(known.get(key) ?? 0, read.clock.asOf, read.onTestClock === true),
    eventId: null,
    source: 'fetch',
    readAt: read.clock.readAt,
  }));
}

/** Whether read `a` began before read `b`, or at once and Stripe answered it in an earlier second. */
const readBefore = (a: ReadClock, b: ReadClock) =>
  a.readAt < b.readAt || (a.readAt.getTime() === b.readAt.getTime() && (a.asOf ?? 0) < (b.asOf ?? 0));

async function writeUnderCustomerLock(
  database: Database,
  customerId: string,
  place: Place,
  writes: MirrorWrite[],
  context: ColumnContext,
): Promise<void> {
  const serialKey = `${place.stripeAccount}/${customerId}`;
  await inTransaction(database.pool, async (client) => {
    await lockSerialKey(client, serialKey);
    const db = drizzle(client);
    const written = await writeMirror(db, writes, context);
    // An event of a read's second was applied while it was on its way: the refetcher reads it again.
    const unproven = await unprovenReads(db, writes, written);
    await requestRefetches(
      client,
      unproven.map((write) => ({
        kind: write.kind,
        id: write.id,
        ...place,
        serialKey,
        knownCreated: write.version,
        reason: 'same_second',
      })),
    );
  });
}
