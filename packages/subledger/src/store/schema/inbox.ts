import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  json,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

/** Where an inbox event is in its life: waiting (maybe for a retry), done, or given up with a reason. */
export const INBOX_STATUSES = ['pending', 'processed', 'dead'] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];

/**
 * The inbox: every verified Stripe event, stored before it is acknowledged (unique on its id, so a
 * duplicate delivery is a no-op) and claimed from here by workers. The table is its own queue.
 */
export const stripeEvents = pgTable(
  'stripe_events',
  {
    id: text('id').primaryKey(),
    /** Arrival order; workers claim in this order. */
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    type: text('type').notNull(),
    apiVersion: text('api_version'),
    livemode: boolean('livemode').notNull(),
    stripeAccount: text('stripe_account').notNull(),
    /** Stripe's `created`, in seconds: the ordering evidence. */
    created: bigint('created', { mode: 'number' }).notNull(),
    objectType: text('object_type'),
    objectId: text('object_id'),
    /** Events sharing this key (a customer, or the object itself) are applied one at a time. */
    serialKey: text('serial_key').notNull(),
    /**
     * The event as received. `json`, not `jsonb`: it is written once and read whole, and keeping the
     * text spares every event a binary conversion in and out.
     */
    payload: json('payload').notNull(),
    status: text('status', { enum: INBOX_STATUSES }).notNull().default('pending'),
    /** How it was processed: applied, stale, superseded, refetch, refetched, ignored, replayed… */
    outcome: text('outcome'),
    attempts: integer('attempts').notNull().default(0),
    /** `attempts` when the event was last replayed: a replay gets the whole retry budget again. */
    replayedAttempts: integer('replayed_attempts').notNull().default(0),
    lastError: text('last_error'),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    availableAt: timestamp('available_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    processedAt: timestamp('processed_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [
    index('stripe_events_pending_idx').on(table.seq).where(sql`${table.status} = 'pending'`),
    index('stripe_events_object_idx').on(table.objectType, table.objectId),
    index('stripe_events_received_idx').on(table.receivedAt),
    index('stripe_events_dead_idx').on(table.id).where(sql`${table.status} = 'dead'`),
    check('stripe_events_status_check', sql`${table.status} in ('pending', 'processed', 'dead')`),
  ],
);

/**
 * Objects whose newest state could not be proven from an event payload, queued to be read from Stripe.
 * One row per object, so a burst of events costs one fetch. The table is its own queue: a refetcher
 * leases rows (`leased_by`), reads them, writes the mirror and deletes them.
 */
export const syncRefetches = pgTable(
  'sync_refetches',
  {
    objectType: text('object_type').notNull(),
    objectId: text('object_id').notNull(),
    stripeAccount: text('stripe_account').notNull(),
    livemode: boolean('livemode').notNull(),
    serialKey: text('serial_key').notNull(),
    /** The newest event `created` known for the object when the refetch was asked for. */
    knownCreated: bigint('known_created', { mode: 'number' }).notNull(),
    reason: text('reason').notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /**
     * Bumped by every request: a job clears only the requests it read, so one made while it ran (even
     * in a transaction that commits after its read) stays for the next job.
     */
    generation: bigserial('generation', { mode: 'number' }).notNull(),
    /** When it may be read: now, or after a failed read, later (backoff). */
    availableAt: timestamp('available_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** Failed reads so far, and the last one's reason. */
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /**
     * The refetcher reading it. It holds a session advisory lock named after itself for as long as it
     * lives, so a lease whose lock is free belongs to a process that died and is taken over at once.
     */
    leasedBy: text('leased_by'),
  },
  (table) => [
    primaryKey({ columns: [table.objectType, table.objectId, table.stripeAccount, table.livemode] }),
    index('sync_refetches_serial_idx').on(table.serialKey),
    index('sync_refetches_ready_idx').on(table.availableAt),
  ],
);
