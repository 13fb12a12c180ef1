import {
  type AnyPgColumn,
  bigint,
  boolean,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/** The `stripe_account` of objects that live on the platform rather than a connected account. */
export const PLATFORM = 'platform';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Columns every mirror row has: where the object lives, the whole object, and the version evidence
 * (the event, or the fetch, that last wrote it). Ids are unique per Stripe account and mode, not
 * globally: a product may carry the same custom id in test and live, or on two connected accounts.
 */
function mirrorColumns() {
  return {
    id: text('id').notNull(),
    stripeAccount: text('stripe_account').notNull(),
    livemode: boolean('livemode').notNull(),
    data: jsonb('data').notNull(),
    deleted: boolean('deleted').notNull().default(false),
    lastEventId: text('last_event_id'),
    /** Stripe's `created` of that event in seconds, or the time a fetch read the object. */
    lastEventCreated: bigint('last_event_created', { mode: 'number' }).notNull(),
    /** `event` when a payload was applied, `fetch` when the object was read from Stripe. */
    source: text('source', { enum: ['event', 'fetch'] }).notNull(),
    syncedAt: at('synced_at').notNull().defaultNow(),
  };
}

type Keyed = { id: AnyPgColumn; stripeAccount: AnyPgColumn; livemode: AnyPgColumn };
const key = (table: Keyed) => primaryKey({ columns: [table.id, table.stripeAccount, table.livemode] });

export const customers = pgTable(
  'customers',
  {
    ...mirrorColumns(),
    email: text('email'),
    name: text('name'),
    createdAt: at('created_at'),
    /** The app account its metadata names (`subledger_account_id`): an account's candidate customers. */
    accountId: text('account_id'),
  },
  (table) => [
    key(table),
    index('customers_email_idx').on(table.email),
    index('customers_account_idx').on(table.accountId),
  ],
);

export const products = pgTable(
  'products',
  { ...mirrorColumns(), active: boolean('active'), name: text('name') },
  (table) => [key(table)],
);

export const prices = pgTable(
  'prices',
  {
    ...mirrorColumns(),
    productId: text('product_id'),
    active: boolean('active'),
    lookupKey: text('lookup_key'),
    type: text('type'),
    currency: text('currency'),
    unitAmount: bigint('unit_amount', { mode: 'number' }),
    recurringInterval: text('recurring_interval'),
  },
  (table) => [
    key(table),
    index('prices_product_idx').on(table.productId),
    index('prices_lookup_key_idx').on(table.lookupKey),
  ],
);

export const subscriptions = pgTable(
  'subscriptions',
  {
    ...mirrorColumns(),
    customerId: text('customer_id'),
    status: text('status'),
    /** The earliest period end among its items (or the subscription's own, in older API versions). */
    currentPeriodEndAt: at('current_period_end_at'),
    cancelAtPeriodEnd: boolean('cancel_at_period_end'),
    trialEndAt: at('trial_end_at'),
  },
  (table) => [
    key(table),
    index('subscriptions_customer_idx').on(table.customerId),
    index('subscriptions_status_idx').on(table.status),
  ],
);

export const subscriptionItems = pgTable(
  'subscription_items',
  {
    ...mirrorColumns(),
    subscriptionId: text('subscription_id').notNull(),
    priceId: text('price_id'),
    quantity: bigint('quantity', { mode: 'number' }),
    currentPeriodEndAt: at('current_period_end_at'),
  },
  (table) => [key(table), index('subscription_items_subscription_idx').on(table.subscriptionId)],
);

export const invoices = pgTable(
  'invoices',
  {
    ...mirrorColumns(),
    customerId: text('customer_id'),
    subscriptionId: text('subscription_id'),
    status: text('status'),
    billingReason: text('billing_reason'),
    currency: text('currency'),
    amountDue: bigint('amount_due', { mode: 'number' }),
    amountPaid: bigint('amount_paid', { mode: 'number' }),
    periodEndAt: at('period_end_at'),
  },
  (table) => [
    key(table),
    index('invoices_customer_idx').on(table.customerId),
    index('invoices_subscription_idx').on(table.subscriptionId),
  ],
);

export const invoicePayments = pgTable(
  'invoice_payments',
  {
    ...mirrorColumns(),
    invoiceId: text('invoice_id'),
    status: text('status'),
    amountPaid: bigint('amount_paid', { mode: 'number' }),
  },
  (table) => [key(table), index('invoice_payments_invoice_idx').on(table.invoiceId)],
);

export const checkoutSessions = pgTable(
  'checkout_sessions',
  {
    ...mirrorColumns(),
    customerId: text('customer_id'),
    status: text('status'),
    mode: text('mode'),
    paymentStatus: text('payment_status'),
    clientReferenceId: text('client_reference_id'),
    subscriptionId: text('subscription_id'),
    accountId: text('account_id'),
  },
  (table) => [
    key(table),
    index('checkout_sessions_customer_idx').on(table.customerId),
    index('checkout_sessions_account_idx').on(table.accountId),
  ],
);

export const paymentIntents = pgTable(
  'payment_intents',
  {
    ...mirrorColumns(),
    customerId: text('customer_id'),
    status: text('status'),
    amount: bigint('amount', { mode: 'number' }),
    currency: text('currency'),
  },
  (table) => [key(table), index('payment_intents_customer_idx').on(table.customerId)],
);

/** One row per customer: Stripe's active entitlement summary, with the feature lookup keys typed. */
export const activeEntitlements = pgTable(
  'active_entitlements',
  { ...mirrorColumns(), featureLookupKeys: text('feature_lookup_keys').array().notNull() },
  (table) => [key(table)],
);

export const billingMeters = pgTable(
  'billing_meters',
  { ...mirrorColumns(), eventName: text('event_name'), status: text('status') },
  (table) => [key(table), index('billing_meters_event_name_idx').on(table.eventName)],
);

/**
 * Which Stripe customer pays for an app account: one per account, mode and Stripe account. Written from
 * the customer's metadata or a completed checkout session, so it can be rebuilt from Stripe.
 */
export const accountCustomers = pgTable(
  'account_customers',
  {
    accountId: text('account_id').notNull(),
    stripeAccount: text('stripe_account').notNull(),
    livemode: boolean('livemode').notNull(),
    customerId: text('customer_id').notNull(),
    source: text('source').notNull(),
    linkedAt: at('linked_at').notNull().defaultNow(),
    /** When the linking statement was made (Unix seconds): the newest statement wins (`linkAccounts`). */
    statedAt: bigint('stated_at', { mode: 'number' }).notNull().default(0),
  },
  (table) => [
    primaryKey({ columns: [table.accountId, table.stripeAccount, table.livemode] }),
    uniqueIndex('account_customers_customer_idx').on(table.customerId, table.stripeAccount, table.livemode),
  ],
);
