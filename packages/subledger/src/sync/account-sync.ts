import { drizzle } from 'drizzle-orm/node-postgres';
import type Stripe from 'stripe';
import { type Database, databaseNow } from '../store/index.ts';
import { inTransaction } from '../store/transaction.ts';
import { compareStatements, type Statement } from './account-links.ts';
import { type AccountView, accountLink, accountView, RECENT_INVOICES } from './account-view.ts';
import { lockSerialKey } from './claim.ts';
import { ACCOUNT_METADATA_KEY, checkoutAccountId } from './columns.ts';
import { idOf, type StripeObject } from './envelope.ts';
import type { ColumnContext, KindName } from './kinds.ts';
import { type MirrorWrite, unprovenReads, writeMirror } from './mirror-writer.ts';
import { requestRefetches } from './refetch-queue.ts';
import { type Place, requestOptions, retrieveObject } from './stripe-reads.ts';
import { fetchVersion, onTestClocksAt } from './test-clocks.ts';
import { objectKeyOf } from './versions.ts';

/**
 * Eager sync of one app account: the checkout "success page" and the manual poll read the account's
 * state from Stripe now instead of waiting for webhooks. Fetch, map, write: the reads happen outside
 * any transaction; the writes go through `writeMirror` as fetches, under the customer's serial-key lock,
 * so they never interleave with a worker applying that customer's events.
 */

export type AccountSyncOptions = {
  database: Database;
  /** The client for the place's mode; null when no key is configured. */
  stripe: Stripe | null;
  context: ColumnContext;
  accountId: string;
  place: Place;
};

export type AccountSyncResult =
  | { ok: true; account: AccountView }
  | { ok: false; code: 'account_not_found' | 'stripe_not_configured'; message: string };

/**
 * Completed checkout sessions read, newest first, when looking for one that names an account. Stripe
 * cannot filter sessions by `client_reference_id` or metadata; an eager sync follows its checkout
 * closely, so its session is among the newest.
 */
export const MAX_SCANNED_SESSIONS = 500;

/** How many of the customer's checkout sessions are read (newest first). */
const RECENT_SESSIONS = 10;

type Read = {
  kind: KindName;
  id: string;
  object: StripeObject;
  deleted: boolean;
  /** The object lives on a test clock, whose events carry the clock's time (see `fetchVersion`). */
  onTestClock?: boolean;
};

export async function syncAccount(options: AccountSyncOptions): Promise<AccountSyncResult> {
  const { database, stripe, accountId, place } = options;
  if (!stripe)
    return {
      ok: false,
      code: 'stripe_not_configured',
      message: 'no Stripe key is configured (STRIPE_SECRET_KEY), so the account cannot be read from Stripe',
    };
  const sync = { ...options, stripe };
  const link = await accountLink(database, accountId, place);
  if (link && !link.deleted) await syncCustomer(sync, link.customerId, []);
  // Read again: Stripe may have deleted the customer, or its metadata may no longer name the account.
  const held = await accountLink(database, accountId, place);
  // A live link: a checkout completed since may have given the account a newer customer. No link, or a
  // deleted customer (it bills no one: the account may have checked out again since, with a new one):
  // the account's customer is looked for.
  if (held && !held.deleted) await followCheckouts(sync, held.statedAt, null);
  else await findCustomer(sync, held?.customerId ?? null);
  // When no other is found, an account whose customer was deleted answers with that customer's state,
  // as its `GET /v1/accounts/:id` does: its billing ended (no customer, ended subscriptions, past
  // invoices), which an app must tell apart from an account that never had any (`account_not_found`).
  const account = await accountView(database, accountId, place);
  return account ? { ok: true, account } : notFound(accountId);
}

type Sync = AccountSyncOptions & { stripe: Stripe };

/** Reads one customer's state from Stripe and writes it. */
async function syncCustomer(options: Sync, customerId: string, sessions: StripeObject[]): Promise<void> {
  const { database, stripe, context, place } = options;
  const readAt = await databaseNow(database.pool);
  const known = await knownVersions(database, customerId, place);
  const { reads, asOf } = await readCustomerState(stripe, customerId, place);
  const all = [...reads, ...sessions.map(sessionRead)];
  const clocked = await onTestClocksAt(
    database.pool,
    stripe,
    place,
    all.map((read) => read.object),
  );
  const writes = toWrites(
    all.map((read, index) => ({ ...read, onTestClock: clocked[index] === true })),
    known,
    { asOf, readAt },
    place,
  );
  await writeUnderCustomerLock(database, customerId, place, writes, context);
}

const notFound = (accountId: string): AccountSyncResult => ({
  ok: false,
  code: 'account_not_found',
  message: `no Stripe customer belongs to account ${accountId}`,
});

/**
 * The account's customer when no live link is mirrored (the link is lost, was never made, or names a
 * deleted customer). Both kinds of candidate are written, and `linkAccounts` chooses between them by the
 * rule the webhooks and a backfill follow: the newest customer whose metadata names the account, then
 * the completed checkout sessions naming it that are not older than that customer (older ones lose to
 * it). Neither may be the deleted customer: search is eventually consistent and may still list it, and
 * its own checkout is what the account moved on from.
 */
async function findCustomer(options: Sync, deletedId: string | null): Promise<void> {
  const { stripe, accountId, place } = options;
  const byMetadata = await newestCustomerNaming(stripe, accountId, place, deletedId);
  if (byMetadata) await syncCustomer(options, byMetadata.id, []);
  await followCheckouts(options, byMetadata?.created ?? null, deletedId);
}

/**
 * Follows the completed checkout sessions naming the account created since `since` (Unix seconds; null:
 * any), newest first: each one's customer is synced with it until the account is linked to that customer
 * (its statement is the newest `linkAccounts` accepts), or the session is on the linked customer. With a
 * live link, `since` is its statement's time: one list request finds a newer purchase that gave the
 * account a new customer (a Payment Link or a pricing table makes one), which the webhooks will link.
 */
async function followCheckouts(options: Sync, since: number | null, deletedId: string | null) {
  const { database, accountId, place } = options;
  let linked = (await accountLink(database, accountId, place))?.customerId ?? null;
  for await (const session of sessionsNaming(options, since)) {
    const customerId = idOf(session.customer);
    if (customerId === deletedId || !customerId) continue;
    if (customerId === linked) return;
    await syncCustomer(options, customerId, [session]);
    linked = (await accountLink(database, accountId, place))?.customerId ?? null;
    if (customerId === linked) return;
  }
}

/**
 * Stripe's search finds customers by metadata (the emulator implements it too). Search is eventually
 * consistent (Stripe indexes within about a minute), which is why checkout sessions are looked at next.
 */
export async function customerByMetadata(
  stripe: Stripe,
  accountId: string,
  place: Place,
): Promise<string | null> {
  return (await newestCustomerNaming(stripe, accountId, place, null))?.id ?? null;
}

/**
 * The newest customer whose metadata names the account, other than `skipped`, in the order `linkAccounts`
 * gives their statements (of two created in the same second, the same one wins).
 */
async function newestCustomerNaming(
  stripe: Stripe,
  accountId: string,
  place: Place,
  skipped: string | null,
): Promise<Stripe.Customer | null> {
  const query = `metadata['${ACCOUNT_METADATA_KEY}']:'${quoteSearchValue(accountId)}'`;
  const result = await stripe.customers.search({ query, limit: 10 }, requestOptions(place));
  // Search matches case-insensitively; the account id must match exactly.
  const named = result.data.filter(
    (customer) => customer.metadata?.[ACCOUNT_METADATA_KEY] === accountId && customer.id !== skipped,
  );
  const statement = (customer: Stripe.Customer): Statement => ({
    ...place,
    accountId,
    customerId: customer.id,
    source: 'customer_metadata',
    statedAt: customer.created,
    customerDeleted: false,
  });
  return named.sort((a, b) => compareStatements(statement(b), statement(a)))[0] ?? null;
}

/** A value inside single quotes in Stripe's search language: quotes and backslashes escaped. */
export const quoteSearchValue = (value: string) => value.replace(/[\\']/g, (char) => `\\${char}`);

/** The completed checkout sessions naming the account, newest first, at most `MAX_SCANNED_SESSIONS` read. */
async function* sessionsNaming(options: Sync, since: number | null): AsyncGenerator<StripeObject> {
  const { stripe, context, accountId, place } = options;
  let scanned = 0;
  const sessions = stripe.checkout.sessions.list(
    { status: 'complete', limit: 100, ...(since === null ? {} : { created: { gte: since } }) },
    requestOptions(place),
  );
  for await (const session of sessions) {
    const object = session as unknown as StripeObject;
    if (checkoutAccountId(object, context.accountKeys) === accountId) yield object;
    if (++scanned >= MAX_SCANNED_SESSIONS) return;
  }
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
 * The customer first, then its subscriptions (all statuses, items embedded), recent invoices and
 * checkout sessions, and its active entitlements. Every list is read after the customer, so Stripe's
 * clock at the customer read (its `Date` header) is a lower bound of when each of them was read.
 */
async function readCustomerState(stripe: Stripe, customerId: string, place: Place) {
  const options = requestOptions(place);
  const customer = await retrieveObject(stripe, 'customer', customerId, place);
  const [subscriptionList, invoiceList, sessionList, entitlements] = await Promise.all([
    stripe.subscriptions
      .list({ customer: customerId, status: 'all', limit: 100 }, options)
      .autoPagingToArray({ limit: 10_000 }),
    stripe.invoices.list({ customer: customerId, limit: RECENT_INVOICES }, options),
    stripe.checkout.sessions.list({ customer: customerId, limit: RECENT_SESSIONS }, options),
    retrieveObject(stripe, 'entitlements.active_entitlement_summary', customerId, place),
  ]);
  const listed = (kind: KindName, objects: readonly unknown[]): Read[] =>
    objects.map((object) => readOf(kind, object as StripeObject));
  const reads: Read[] = [
    {
      kind: 'customer',
      id: customerId,
      object: customer.object ?? { id: customerId, object: 'customer', deleted: true },
      deleted: customer.deleted,
    },
    ...listed('subscription', subscriptionList),
    ...listed('invoice', invoiceList.data),
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

const readOf = (kind: KindName, object: StripeObject): Read => ({
  kind,
  id: String(object.id),
  object,
  deleted: object.deleted === true,
});

const sessionRead = (session: StripeObject): Read => readOf('checkout.session', session);

/**
 * Reads to mirror writes (pure): one per object, versioned by `fetchVersion` from the row's known version
 * and Stripe's clock.
 */
export function toWrites(
  reads: readonly Read[],
  known: ReadonlyMap<string, number>,
  clock: { asOf: number | null; readAt: Date },
  place: Place,
): MirrorWrite[] {
  const writes = new Map<string, MirrorWrite>();
  for (const read of reads) {
    const key = objectKeyOf(read.kind, place, read.id);
    writes.set(key, {
      kind: read.kind,
      id: read.id,
      ...place,
      object: read.object,
      deleted: read.deleted,
      version: fetchVersion(known.get(key) ?? 0, clock.asOf, read.onTestClock === true),
      eventId: null,
      source: 'fetch',
      readAt: clock.readAt,
    });
  }
  return [...writes.values()];
}

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
