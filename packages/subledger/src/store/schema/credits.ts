import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const seconds = (name: string) => bigint(name, { mode: 'number' });

/** Where a pool lives: an app account's credits of one type, on one Stripe account, in one mode. */
function poolColumns() {
  return {
    accountId: text('account_id').notNull(),
    creditType: text('credit_type').notNull(),
    stripeAccount: text('stripe_account').notNull(),
    livemode: boolean('livemode').notNull(),
  };
}

type Pooled = {
  accountId: AnyPgColumn;
  creditType: AnyPgColumn;
  stripeAccount: AnyPgColumn;
  livemode: AnyPgColumn;
};
const poolOf = (table: Pooled) =>
  [table.accountId, table.creditType, table.stripeAccount, table.livemode] as const;

/** One row per pool: the row every change to the pool locks, so changes to one pool run one at a time. */
export const creditPools = pgTable(
  'credit_pools',
  { ...poolColumns(), createdAt: at('created_at').notNull().defaultNow() },
  (table) => [primaryKey({ columns: [...poolOf(table)] })],
);

/** What is left of each grant. A source (an invoice, a top-up, a manual grant's key) grants once. */
export const creditLots = pgTable(
  'credit_lots',
  {
    id: text('id').primaryKey(),
    ...poolColumns(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    remaining: bigint('remaining', { mode: 'number' }).notNull(),
    expiresAt: seconds('expires_at'),
    createdAt: seconds('created_at').notNull(),
    sourceKind: text('source_kind', { enum: ['invoice', 'top_up', 'manual', 'rollover'] }).notNull(),
    sourceId: text('source_id').notNull(),
    reason: text('reason'),
    /** When a later period's rollover settled this plan grant (carried what it had left, up to the cap). */
    rolledOverAt: seconds('rolled_over_at'),
  },
  (table) => [
    uniqueIndex('credit_lots_source_idx').on(
      table.stripeAccount,
      table.livemode,
      table.creditType,
      table.sourceKind,
      table.sourceId,
    ),
    index('credit_lots_pool_idx').on(...poolOf(table)),
    check(
      'credit_lots_remaining_check',
      sql`${table.remaining} >= 0 and ${table.remaining} <= ${table.amount}`,
    ),
  ],
);

/** Credits set aside until committed, released or expired; `allocations` says which lots they came from. */
export const creditHolds = pgTable(
  'credit_holds',
  {
    id: text('id').primaryKey(),
    ...poolColumns(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    expiresAt: seconds('expires_at').notNull(),
    allocations: jsonb('allocations').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (table) => [index('credit_holds_pool_idx').on(...poolOf(table))],
);

/** Every movement of credits in or out of a lot, append-only; `spender` is who spent, the pool who paid. */
export const creditEntries = pgTable(
  'credit_entries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ...poolColumns(),
    key: text('key').notNull(),
    kind: text('kind', { enum: ['grant', 'spend', 'hold', 'release', 'expire'] }).notNull(),
    lotId: text('lot_id').notNull(),
    holdId: text('hold_id'),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    spender: text('spender'),
    at: at('at').notNull().defaultNow(),
  },
  (table) => [
    index('credit_entries_pool_idx').on(...poolOf(table), table.id),
    // An account's ledger, newest first, across its credit types (its statement and timeline).
    index('credit_entries_account_idx').on(table.accountId, table.stripeAccount, table.livemode, table.id),
    // Verifying a lot, and a hold's entries.
    index('credit_entries_lot_idx').on(table.lotId),
  ],
);

/** The answer each operation key got: a retried operation answers the same and moves nothing. */
export const creditOperations = pgTable(
  'credit_operations',
  {
    ...poolColumns(),
    key: text('key').notNull(),
    outcome: jsonb('outcome').notNull(),
    at: at('at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [...poolOf(table), table.key] })],
);

/**
 * Paid invoices and paid top-up checkouts the mirror has seen, waiting to grant their credits. The sync
 * writes a request in the same transaction as the object, so none is missed whatever path wrote it
 * (webhook, fetch, backfill, reconcile); granting is idempotent per source, so a request handled twice
 * grants once.
 */
export const creditGrantRequests = pgTable(
  'credit_grant_requests',
  {
    sourceKind: text('source_kind', { enum: ['invoice', 'top_up'] }).notNull(),
    sourceId: text('source_id').notNull(),
    stripeAccount: text('stripe_account').notNull(),
    livemode: boolean('livemode').notNull(),
    requestedAt: at('requested_at').notNull().defaultNow(),
    nextAttemptAt: at('next_attempt_at').notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** Set once handled (granted, or nothing to grant); the row stays so the source is not asked again. */
    handledAt: at('handled_at'),
    outcome: text('outcome'),
  },
  (table) => [
    primaryKey({ columns: [table.stripeAccount, table.livemode, table.sourceKind, table.sourceId] }),
    index('credit_grant_requests_pending_idx').on(table.nextAttemptAt).where(sql`${table.handledAt} is null`),
  ],
);
