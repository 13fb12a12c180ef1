import { bigserial, boolean, index, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Each account's access state as last recorded: what the next transition is measured from. */
export const accountAccess = pgTable(
  'account_access',
  {
    accountId: text('account_id').notNull(),
    stripeAccount: text('stripe_account').notNull(),
    livemode: boolean('livemode').notNull(),
    state: text('state').notNull(),
    reason: text('reason').notNull(),
    subscriptionId: text('subscription_id'),
    /** When the state ends by itself (a trial's end, a scheduled cancel, a grace's end); null: never. */
    changesAt: at('changes_at'),
    /** The newest subscription write seen by that evaluation: a write not yet seen is a cause. */
    lastWrite: text('last_write'),
    evaluatedAt: at('evaluated_at').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.accountId, table.stripeAccount, table.livemode] }),
    index('account_access_changes_idx').on(table.changesAt),
  ],
);

/** The account's timeline: every change of access state, what caused it, and when. */
export const accessTransitions = pgTable(
  'access_transitions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    accountId: text('account_id').notNull(),
    stripeAccount: text('stripe_account').notNull(),
    livemode: boolean('livemode').notNull(),
    fromState: text('from_state').notNull(),
    toState: text('to_state').notNull(),
    reason: text('reason').notNull(),
    subscriptionId: text('subscription_id'),
    /** The Stripe event that last wrote the deciding subscription; null when the clock caused it. */
    causeEventId: text('cause_event_id'),
    /** `event`, `fetch` (a sync or reconcile read Stripe) or `clock` (a trial, cancel or grace ran out). */
    cause: text('cause', { enum: ['event', 'fetch', 'clock'] }).notNull(),
    at: at('at').notNull(),
  },
  (table) => [
    index('access_transitions_account_idx').on(
      table.accountId,
      table.stripeAccount,
      table.livemode,
      table.at,
    ),
  ],
);
