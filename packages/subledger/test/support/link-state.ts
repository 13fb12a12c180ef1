import type { MirrorWrite } from '../../src/sync/mirror-writer.ts';
import type { Place } from '../../src/sync/stripe-reads.ts';
import type { TestDatabase } from './database.ts';
import { freshPlace } from './link-writes.ts';
import { writeInTransaction } from './mirror-writes.ts';

/** The account links a place holds, by account. */
export const linksIn = async (database: TestDatabase, place: Place) =>
  (
    await database.pool.query<{ account_id: string; customer_id: string; source: string }>(
      `select account_id, customer_id, source from account_customers
       where stripe_account = $1 and livemode = $2 order by account_id`,
      [place.stripeAccount, place.livemode],
    )
  ).rows;

/**
 * The links the place's mirrored customers and checkout sessions make in an empty place, in one batch:
 * what the rule says they are. A deleted customer is written as its row holds it, the tombstone laid
 * over its last known object; a backfill from Stripe could not do so, as Stripe's lists leave it out.
 */
export async function linksFromScratch(database: TestDatabase, place: Place) {
  const rows = await database.pool.query<{
    kind: string;
    id: string;
    data: Record<string, unknown>;
    deleted: boolean;
  }>(
    `select 'customer' as kind, id, data, deleted from customers where stripe_account = $1
     union all select 'checkout.session', id, data, false from checkout_sessions where stripe_account = $1`,
    [place.stripeAccount],
  );
  const scratch = freshPlace();
  await writeInTransaction(
    database,
    rows.rows.map((row) => ({
      kind: row.kind as MirrorWrite['kind'],
      id: row.id,
      ...scratch,
      object: row.data,
      deleted: row.deleted,
      version: 1,
      eventId: null,
      source: 'fetch',
      readAt: new Date(),
    })),
    { accountKeys: [] },
  );
  return linksIn(database, scratch);
}
