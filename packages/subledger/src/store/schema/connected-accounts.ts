import { sql } from 'drizzle-orm';
import { bigint, boolean, check, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Whether the platform may act for a connected account, per mode, as Stripe last said it: written by
 * `account.application.deauthorized` (the account revoked the platform's access, and Stripe now answers
 * every request for it 403 `account_invalid`) and by `account.application.authorized` (access granted
 * again). An account with no row never said either, and is taken as authorized. Its mirror rows are
 * never touched: they are its history.
 */
export const connectedAccounts = pgTable(
  'connected_accounts',
  {
    stripeAccount: text('stripe_account').notNull(),
    livemode: boolean('livemode').notNull(),
    /** When the account revoked access (its event's `created`); null while access is granted. */
    deauthorizedAt: timestamp('deauthorized_at', { withTimezone: true, mode: 'date' }),
    /** Stripe's `created` of the event that last wrote the row, in seconds: an older event never overrides it. */
    eventCreated: bigint('event_created', { mode: 'number' }).notNull(),
    eventId: text('event_id').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.stripeAccount, table.livemode] }),
    check('connected_accounts_not_platform_check', sql`${table.stripeAccount} <> 'platform'`),
  ],
);
