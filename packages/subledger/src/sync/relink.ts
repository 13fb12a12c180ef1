import { getTableName } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { type Link, linkAccounts } from './account-links.ts';
import type { DriftItem } from './drift.ts';
import type { StripeObject } from './envelope.ts';
import { type ColumnContext, KINDS, type KindName } from './kinds.ts';
import type { MirrorWrite } from './mirror-writer.ts';
import type { Place } from './stripe-reads.ts';

/** The kinds whose objects state which account a customer belongs to (see `linkAccounts`). */
export const LINKING_KINDS: ReadonlySet<KindName> = new Set(['customer', 'checkout.session']);

/**
 * The account links that these mirror rows state, made again where they are lost or wrong. Reconcile
 * compares objects, and a link is not an object of Stripe's: a mirror equal to Stripe could still lack
 * the links its customers and checkout sessions state (links deleted by hand, a partial restore), and
 * nothing else would ever make them again. The rows are read `for share`, so a worker writing one of
 * them, and its links, meanwhile is waited for and its result is what counts. Without `fix`, the changes
 * are rolled back and only reported. Returns one drift item per link made or withdrawn, by customer.
 */
export async function relinkRows(
  pool: pg.Pool,
  kind: KindName,
  ids: string[],
  target: { place: Place; context: ColumnContext; fix: boolean },
): Promise<DriftItem[]> {
  if (!LINKING_KINDS.has(kind) || ids.length === 0) return [];
  const client = await pool.connect();
  try {
    await client.query('begin');
    const rows = await rowsForShare(client, kind, ids, target.place);
    const changed = await linkAccounts(drizzle(client), rows, target.context);
    await client.query(target.fix ? 'commit' : 'rollback');
    return changed.map(linkDrift);
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function rowsForShare(
  client: pg.PoolClient,
  kind: KindName,
  ids: string[],
  place: Place,
): Promise<MirrorWrite[]> {
  const { rows } = await client.query<{ id: string; data: StripeObject; deleted: boolean }>(
    `select id, data, deleted from "${getTableName(KINDS[kind].table)}"
     where stripe_account = $1 and livemode = $2 and id = any($3::text[])
     order by id for share`,
    [place.stripeAccount, place.livemode, ids],
  );
  // Only what `linkAccounts` reads of a write matters here: the rows are not written again.
  return rows.map((row) => ({
    kind,
    id: row.id,
    ...place,
    object: row.data,
    deleted: row.deleted,
    version: 0,
    eventId: null,
    source: 'fetch',
    readAt: new Date(0),
  }));
}

const linkDrift = (link: Link): DriftItem => ({
  kind: 'customer',
  id: link.customerId,
  problem: 'account_link',
  fields: [link.accountId],
});
