import { sql } from 'drizzle-orm';
import { bigint, boolean, check, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * How far a long Stripe read (a backfill) got, per object kind and place: the last object written and
 * whether the kind is done. A crashed run resumes after `last_id`; a run whose kinds are all complete
 * starts over.
 */
export const syncCheckpoints = pgTable(
  'sync_checkpoints',
  {
    job: text('job').notNull(),
    stripeAccount: text('stripe_account').notNull(),
    livemode: boolean('livemode').notNull(),
    kind: text('kind').notNull(),
    /** The test clock whose list the run is in (Stripe lists some kinds by clock); null: the account's list. */
    testClock: text('test_clock'),
    /** The id the next page starts after; null before the first page. */
    lastId: text('last_id'),
    /** Objects written for this kind in the run so far. */
    objects: bigint('objects', { mode: 'number' }).notNull().default(0),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [
    primaryKey({ columns: [table.job, table.stripeAccount, table.livemode, table.kind] }),
    check('sync_checkpoints_objects_check', sql`${table.objects} >= 0`),
  ],
);
