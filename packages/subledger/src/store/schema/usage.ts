import {
  bigint,
  bigserial,
  boolean,
  index,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Uses of metered features, recorded by the app: what a check counts against a plan's limit. The key
 * makes a retried record count once.
 */
export const usageEvents = pgTable(
  'usage_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    accountId: text('account_id').notNull(),
    stripeAccount: text('stripe_account').notNull(),
    livemode: boolean('livemode').notNull(),
    featureId: text('feature_id').notNull(),
    quantity: bigint('quantity', { mode: 'number' }).notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    occurredAt: at('occurred_at').notNull(),
    recordedAt: at('recorded_at').notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('usage_events_key_idx').on(table.stripeAccount, table.livemode, table.idempotencyKey),
    index('usage_events_window_idx').on(
      table.accountId,
      table.stripeAccount,
      table.livemode,
      table.featureId,
      table.occurredAt,
    ),
  ],
);
