import type Stripe from 'stripe';
import { type Database, databaseNow } from '../store/index.ts';
import { type AccountView, accountLink, accountView } from './account-view.ts';
import { ACCOUNT_METADATA_KEY, checkoutAccountId } from './columns.ts';
import { type EarlierRead, syncCustomer } from './customer-state.ts';
import { idOf } from './envelope.ts';
import type { ColumnContext } from './kinds.ts';
import { compareStatements, type Statement } from './link-rule.ts';
import { listPages } from './listing.ts';
import { type Place, requestOptions } from './stripe-reads.ts';

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
  // The customers naming the account are searched for while its linked customer is read: one newer
  // than the link takes the account in the webhooks' rule (`linkAccounts`), so it must here too.
  const [named] = await Promise.all([
    customersNaming(stripe, accountId, place),
    link && !link.deleted ? syncCustomer(sync, link.customerId, []) : null,
  ]);
  // Read again: Stripe may have deleted the customer, or its metadata may no longer name the account.
  const held = await accountLink(database, accountId, place);
  await syncNewerNamed(sync, named, held);
  // A deleted customer bills no one: the account may have checked out again since, with a new one.
  await followCheckouts(sync, held?.deleted ? held.customerId : null);
  // When no other is found, an account whose customer was deleted answers with that customer's state,
  // as its `GET /v1/accounts/:id` does: its billing ended (no customer, ended subscriptions, past
  // invoices), which an app must tell apart from an account that never had any (`account_not_found`).
  const account = await accountView(database, accountId, place);
  return account ? { ok: true, account } : notFound(accountId);
}

type Sync = AccountSyncOptions & { stripe: Stripe };

const notFound = (accountId: string): AccountSyncResult => ({
  ok: false,
  code: 'account_not_found',
  message: `no Stripe customer belongs to account ${accountId}`,
});

/**
 * Syncs the newest customer whose metadata names the account when its statement wins over the held
 * link's (`compareStatements`): a customer made for the account since it was linked, or any live one
 * when the linked customer is deleted or none is linked. `linkAccounts` then links it, as the webhooks
 * would. The held customer is not taken for another: search is eventually consistent, and may still
 * list it deleted.
 */
async function syncNewerNamed(options: Sync, named: Stripe.Customer[], held: HeldLink | null) {
  const { accountId, place } = options;
  const rival = named.find((customer) => customer.id !== held?.customerId);
  if (!rival) return;
  const heldStatement = held && {
    ...place,
    accountId,
    customerId: held.customerId,
    source: held.source,
    statedAt: held.statedAt,
    customerDeleted: held.deleted,
  };
  if (heldStatement && compareStatements(metadataStatement(rival, accountId, place), heldStatement) <= 0)
    return;
  await syncCustomer(options, rival.id, []);
}

type HeldLink = NonNullable<Awaited<ReturnType<typeof accountLink>>>;

/**
 * Follows the completed checkout sessions naming the account, newest first: those made since its live
 * link's statement, or any when none holds it. Each one's customer is synced with it until the account
 * is linked to that customer (its statement is the newest `linkAccounts` accepts), or the session is on
 * the linked customer. With a live link, one list request finds a newer purchase that gave the account a
 * new customer (a Payment Link or a pricing table makes one), which the webhooks will link. The deleted
 * customer's sessions are passed over: they are what the account moved on from.
 */
async function followCheckouts(options: Sync, deletedId: string | null) {
  const { database, accountId, place } = options;
  const current = await accountLink(database, accountId, place);
  let linked = current?.customerId ?? null;
  const since = current && !current.deleted ? current.statedAt : null;
  for await (const session of sessionsNaming(options, since)) {
    const customerId = idOf(session.object.customer);
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
  return (await customersNaming(stripe, accountId, place))[0]?.id ?? null;
}

/** The customers whose metadata names the account, newest first in the order `linkAccounts` gives them. */
async function customersNaming(stripe: Stripe, accountId: string, place: Place): Promise<Stripe.Customer[]> {
  const query = `metadata['${ACCOUNT_METADATA_KEY}']:'${quoteSearchValue(accountId)}'`;
  const result = await stripe.customers.search({ query, limit: 10 }, requestOptions(place));
  // Search matches case-insensitively; the account id must match exactly.
  const named = result.data.filter((customer) => customer.metadata?.[ACCOUNT_METADATA_KEY] === accountId);
  const statement = (customer: Stripe.Customer) => metadataStatement(customer, accountId, place);
  return named.sort((a, b) => compareStatements(statement(b), statement(a)));
}

/** What a live customer's metadata naming the account states. */
const metadataStatement = (customer: Stripe.Customer, accountId: string, place: Place): Statement => ({
  ...place,
  accountId,
  customerId: customer.id,
  source: 'customer_metadata',
  statedAt: customer.created,
  customerDeleted: false,
});

/** A value inside single quotes in Stripe's search language: quotes and backslashes escaped. */
export const quoteSearchValue = (value: string) => value.replace(/[\\']/g, (char) => `\\${char}`);

/**
 * The completed checkout sessions naming the account, newest first, at most `MAX_SCANNED_SESSIONS` read,
 * each as of its page's read: its customer's state is read later, when Stripe may have changed it.
 */
async function* sessionsNaming(options: Sync, since: number | null): AsyncGenerator<EarlierRead> {
  const { database, stripe, context, accountId, place } = options;
  const pages = listPages(stripe, 'checkout.session', place, {
    limiter: (call) => call(),
    clock: () => databaseNow(database.pool),
    filters: { status: 'complete', ...(since === null ? {} : { created: { gte: since } }) },
  });
  let scanned = 0;
  for await (const page of pages)
    for (const object of page.objects) {
      if (checkoutAccountId(object, context.accountKeys) === accountId)
        yield { object, clock: { asOf: page.asOf, readAt: page.readAt } };
      if (++scanned >= MAX_SCANNED_SESSIONS) return;
    }
}
