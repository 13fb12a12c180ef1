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
