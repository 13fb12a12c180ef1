import type pg from 'pg';
import { PLAN_METADATA_KEY } from '../catalog/index.ts';
import type { Database } from '../store/index.ts';
import type { Place } from '../sync/index.ts';
import { subscriptionFactsOf } from './facts.ts';
import type { SubscriptionFacts } from './state.ts';

/**
 * A subscription's price: its id, its `lookup_key` (how a catalog names it) and the plan its product
 * names in metadata (`subledger_plan`), which still names it after the catalog replaced the price.
 */
export type PriceRef = { id: string | null; lookupKey: string | null; productPlan: string | null };

/**
 * The mirror write that made a subscription's row what it is: `key` (the row version's transaction id)
 * differs for every write; read in the same statement as the facts, so the two always agree.
 */
export type SubscriptionWrite = {
  key: string;
  eventId: string | null;
  source: 'event' | 'fetch';
  version: number;
  /** When the mirror wrote it (Unix seconds). */
  syncedAt: number;
};

/** The key of subscription row `s`'s last write: its id and its row version's transaction id. */
export const WRITE_KEY = `s.id || '@' || s.xmin::text`;

/** What the mirror holds about an account that decides its access: everything a check needs. */
export type AccountFacts = {
  accountId: string;
  customerId: string;
  subscriptions: { facts: SubscriptionFacts; prices: PriceRef[]; write?: SubscriptionWrite }[];
  /** `lookup_key`s of the customer's active entitlements in Stripe. */
  stripeEntitlements: string[];
};

/** A pool or a client in a transaction. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

type Row = {
  account_id: string;
  customer_id: string;
  subscriptions: {
    subscription: unknown;
    prices: PriceRef[];
    open_invoices: unknown[];
    write: SubscriptionWrite;
  }[];
  entitlements: string[] | null;
};

/**
 * Subscriptions with their prices, past-due subscriptions' open invoices (only the two times the grace
 * needs, not whole invoices) and active entitlements, for every account asked: one statement, whatever
 * the number of accounts, so a cold cache costs one round trip.
 */
const ACCOUNT_FACTS = `
  select l.account_id, l.customer_id,
    coalesce((
      select json_agg(json_build_object(
        'subscription', s.data,
        'write', json_build_object('key', ${WRITE_KEY}, 'eventId', s.last_event_id,
                                   'source', s.source, 'version', s.last_event_created,
                                   'syncedAt', extract(epoch from s.synced_at)),
        'prices', (
          select coalesce(json_agg(json_build_object(
                   'id', i.price_id,
                   'lookupKey', i.data->'price'->>'lookup_key',
                   'productPlan', (select p.data->'metadata'->>'${PLAN_METADATA_KEY}' from products p
                                   where p.id = i.data->'price'->>'product' and p.stripe_account = i.stripe_account
                                     and p.livemode = i.livemode and not p.deleted)
                 ) order by i.id), '[]')
          from subscription_items i
          where i.subscription_id = s.id and i.stripe_account = s.stripe_account and i.livemode = s.livemode
            and not i.deleted),
        'open_invoices', case when s.status = 'past_due' then (
          select coalesce(json_agg(json_build_object('created', v.data->'created',
                                                     'status_transitions', v.data->'status_transitions')), '[]')
          from invoices v
          where v.subscription_id = s.id and v.stripe_account = s.stripe_account and v.livemode = s.livemode
            and v.status = 'open' and not v.deleted) else '[]' end
      ) order by s.id)
      from subscriptions s
      where s.customer_id = l.customer_id and s.stripe_account = l.stripe_account and s.livemode = l.livemode
        and not s.deleted), '[]') as subscriptions,
    (select e.feature_lookup_keys from active_entitlements e
     where e.id = l.customer_id and e.stripe_account = l.stripe_account and e.livemode = l.livemode
       and not e.deleted) as entitlements
  from account_customers l
  where l.account_id = any($1::text[]) and l.stripe_account = $2 and l.livemode = $3`;

/** The facts of each account that has a linked customer; accounts without one are absent from the map. */
export async function readAccountFacts(
  database: Database | Queryable,
  accountIds: readonly string[],
  place: Place,
): Promise<Map<string, AccountFacts>> {
  const queryable = 'pool' in database ? database.pool : database;
  const { rows } = await queryable.query<Row>(ACCOUNT_FACTS, [
    accountIds,
    place.stripeAccount,
    place.livemode,
  ]);
  return new Map(rows.map((row) => [row.account_id, toAccountFacts(row)]));
}

function toAccountFacts(row: Row): AccountFacts {
  return {
    accountId: row.account_id,
    customerId: row.customer_id,
    subscriptions: row.subscriptions.map((entry) => ({
      facts: subscriptionFactsOf(entry.subscription, entry.open_invoices),
      prices: entry.prices,
      write: entry.write,
    })),
    stripeEntitlements: row.entitlements ?? [],
  };
}
