import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../store/index.ts';
import {
  accountCustomers,
  activeEntitlements,
  customers,
  invoices,
  PLATFORM,
  subscriptionItems,
  subscriptions,
} from '../store/schema/mirror.ts';
import { isLiveKey } from '../stripe/key-mode.ts';
import type { LinkSource } from './link-rule.ts';
import type { Place } from './stripe-reads.ts';

/**
 * One app account as the mirror holds it: its customer, subscriptions, recent invoices and active
 * entitlements. Snake_case and Unix seconds, as Stripe's own JSON; this object is the HTTP body of
 * `GET /v1/accounts/:account_id` and the output of `subledger inspect account --json`.
 */
export type AccountView = {
  account_id: string;
  /** The mode of the mirror it was read from, as Stripe names it on its own objects. */
  livemode: boolean;
  customer: { id: string; email: string | null; name: string | null } | null;
  subscriptions: SubscriptionView[];
  invoices: InvoiceView[];
  /** The `lookup_key` of each active entitlement's feature. */
  entitlements: string[];
  /** When the newest of these rows was written (by an event or a fetch); null when none is mirrored. */
  synced_at: number | null;
};

export type SubscriptionView = {
  id: string;
  status: string | null;
  items: { price: string | null; quantity: number | null }[];
  current_period_end: number | null;
  cancel_at_period_end: boolean | null;
  trial_end: number | null;
};

export type InvoiceView = {
  id: string;
  status: string | null;
  billing_reason: string | null;
  currency: string | null;
  amount_due: number | null;
  amount_paid: number | null;
  subscription: string | null;
  created: number | null;
};

/**
 * An app's own account id: any text Stripe metadata could hold (500 characters), no control characters,
 * and well-formed: PostgreSQL stores a lone UTF-16 surrogate as U+FFFD, so `team\uD800` and `team\uDFFF`,
 * distinct here (and in a token's claim), would read and write one account.
 */
export const accountIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(500, 'must be at most 500 characters')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters')
  .refine((id) => id.isWellFormed(), 'must be well-formed Unicode (no lone surrogate)');

/** How many of an account's invoices the view lists, newest first. */
export const RECENT_INVOICES = 10;

/** The platform, in the mode of the configured key: where the HTTP API and the CLI look accounts up. */
export function defaultPlace(secretKey: string | undefined): Place {
  return { stripeAccount: PLATFORM, livemode: isLiveKey(secretKey) };
}

/** The customer linked to an account, or null when no link is mirrored. */
export async function linkedCustomer(database: Database, accountId: string, place: Place) {
  return (await accountLink(database, accountId, place))?.customerId ?? null;
}

/**
 * The account's link, the kind of its statement (`source`) and when it was made (`statedAt`, Unix
 * seconds), and whether the mirror holds its customer's tombstone; null when no link is mirrored.
 */
export async function accountLink(
  database: Database,
  accountId: string,
  place: Place,
): Promise<{ customerId: string; source: LinkSource; statedAt: number; deleted: boolean } | null> {
  const [link] = await database.db
    .select({
      customerId: accountCustomers.customerId,
      source: accountCustomers.source,
      statedAt: accountCustomers.statedAt,
      deleted: customers.deleted,
    })
    .from(accountCustomers)
    .leftJoin(
      customers,
      and(
        eq(customers.id, accountCustomers.customerId),
        eq(customers.stripeAccount, accountCustomers.stripeAccount),
        eq(customers.livemode, accountCustomers.livemode),
      ),
    )
    .where(
      and(
        eq(accountCustomers.accountId, accountId),
        eq(accountCustomers.stripeAccount, place.stripeAccount),
        eq(accountCustomers.livemode, place.livemode),
      ),
    );
  return link
    ? {
        customerId: link.customerId,
        source: link.source as LinkSource,
        statedAt: link.statedAt,
        deleted: link.deleted === true,
      }
    : null;
}

/** The mirror's view of an account, or null when no customer is linked to it. */
export async function accountView(
  database: Database,
  accountId: string,
  place: Place,
): Promise<AccountView | null> {
  const customerId = await linkedCustomer(database, accountId, place);
  if (!customerId) return null;
  const rows = await readAccountRows(database, customerId, place);
  return toAccountView(accountId, place.livemode, rows);
}

type AccountRows = Awaited<ReturnType<typeof readAccountRows>>;

async function readAccountRows(database: Database, customerId: string, place: Place) {
  const { db } = database;
  const inPlace = <
    T extends
      | typeof customers
      | typeof subscriptions
      | typeof subscriptionItems
      | typeof invoices
      | typeof activeEntitlements,
  >(
    table: T,
  ) =>
    and(
      eq(table.stripeAccount, place.stripeAccount),
      eq(table.livemode, place.livemode),
      eq(table.deleted, false),
    );
  const createdOf = (table: typeof subscriptions | typeof invoices) =>
    sql`(${table.data}->>'created')::bigint`;
  const [customer, subscriptionRows, invoiceRows, entitlementRows] = await Promise.all([
    db
      .select()
      .from(customers)
      .where(and(eq(customers.id, customerId), inPlace(customers))),
    db
      .select()
      .from(subscriptions)
      .where(and(eq(subscriptions.customerId, customerId), inPlace(subscriptions)))
      .orderBy(desc(createdOf(subscriptions)), subscriptions.id),
    db
      .select()
      .from(invoices)
      .where(and(eq(invoices.customerId, customerId), inPlace(invoices)))
      .orderBy(desc(createdOf(invoices)), invoices.id)
      .limit(RECENT_INVOICES),
    db
      .select()
      .from(activeEntitlements)
      .where(and(eq(activeEntitlements.id, customerId), inPlace(activeEntitlements))),
  ]);
  const subscriptionIds = subscriptionRows.map((row) => row.id);
  const items =
    subscriptionIds.length === 0
      ? []
      : await db
          .select()
          .from(subscriptionItems)
          .where(and(inArray(subscriptionItems.subscriptionId, subscriptionIds), inPlace(subscriptionItems)))
          .orderBy(sql`(${subscriptionItems.data}->>'created')::bigint`, subscriptionItems.id);
  return {
    customer: customer[0] ?? null,
    subscriptions: subscriptionRows,
    items,
    invoices: invoiceRows,
    entitlements: entitlementRows[0] ?? null,
  };
}

const seconds = (date: Date | null | undefined): number | null =>
  date ? Math.floor(date.getTime() / 1000) : null;

/** Rows to the view (pure). */
export function toAccountView(accountId: string, livemode: boolean, rows: AccountRows): AccountView {
  const writtenAt = [rows.customer, ...rows.subscriptions, ...rows.invoices, rows.entitlements]
    .filter((row) => row !== null)
    .map((row) => row.syncedAt.getTime());
  return {
    account_id: accountId,
    livemode,
    customer: rows.customer && {
      id: rows.customer.id,
      email: rows.customer.email,
      name: rows.customer.name,
    },
    subscriptions: rows.subscriptions.map((subscription) => ({
      id: subscription.id,
      status: subscription.status,
      items: rows.items
        .filter((item) => item.subscriptionId === subscription.id)
        .map((item) => ({ price: item.priceId, quantity: item.quantity })),
      current_period_end: seconds(subscription.currentPeriodEndAt),
      cancel_at_period_end: subscription.cancelAtPeriodEnd,
      trial_end: seconds(subscription.trialEndAt),
    })),
    invoices: rows.invoices.map((invoice) => ({
      id: invoice.id,
      status: invoice.status,
      billing_reason: invoice.billingReason,
      currency: invoice.currency,
      amount_due: invoice.amountDue,
      amount_paid: invoice.amountPaid,
      subscription: invoice.subscriptionId,
      created: numberOr((invoice.data as { created?: unknown } | null)?.created),
    })),
    entitlements: rows.entitlements?.featureLookupKeys ?? [],
    synced_at: writtenAt.length > 0 ? Math.floor(Math.max(...writtenAt) / 1000) : null,
  };
}

const numberOr = (value: unknown): number | null => (typeof value === 'number' ? value : null);
