import { getTableName } from 'drizzle-orm';
import type pg from 'pg';
import { KINDS, type KindName } from './kinds.ts';
import type { Place } from './stripe-reads.ts';

/** The bar of one pass of a catch-up: Stripe lists at most 20 event types per request. */
export type CatchUpPassName = `events (${number} of ${number})`;

/**
 * Where a long Stripe read stands for one kind. Stripe lists carry no totals, so `expected` is the
 * mirror's count of the kind when the read began (null when it has none): a good guess for a reconcile
 * or a repeated backfill, unknown for a first one. A catch-up reports its passes over `/v1/events`
 * instead, each with an estimate of its own (`catchUpProgress`).
 */
export type SyncProgress = {
  job: 'backfill' | 'reconcile' | 'catch-up';
  kind: KindName | CatchUpPassName;
  done: number;
  expected: number | null;
  finished: boolean;
};

/** Called after each page is written (and checkpointed); a throw stops the job there. */
export type OnProgress = (progress: SyncProgress) => void | Promise<void>;

/** How many live rows the mirror holds for a kind on a place. */
export async function mirrorCount(pool: pg.Pool, kind: KindName, place: Place): Promise<number | null> {
  const { rows } = await pool.query<{ count: number }>(
    `select count(*)::int as count from "${getTableName(KINDS[kind].table)}"
     where stripe_account = $1 and livemode = $2 and not deleted`,
    [place.stripeAccount, place.livemode],
  );
  const count = rows[0]?.count ?? 0;
  return count > 0 ? count : null;
}
