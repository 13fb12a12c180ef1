import type pg from 'pg';
import type { Place } from '../sync/index.ts';
import { applyOperations, availableBalance, heldBalance } from './ledger.ts';
import { loadPool, type PoolKey } from './pool-store.ts';

export type LotView = {
  id: string;
  amount: number;
  remaining: number;
  expiresAt: number | null;
  source: { kind: string; id: string };
  reason: string | null;
};

export type PoolView = { creditType: string; available: number; held: number; lots: LotView[] };

/** One movement of credits, as the account's ledger lists it. */
export type EntryView = {
  id: number;
  creditType: string;
  kind: string;
  amount: number;
  lotId: string;
  holdId: string | null;
  key: string;
  /** Who spent (a team member's account, or the account itself); null for grants and expiries. */
  spender: string | null;
  at: number;
};

/**
 * What a pool may spend now and what its holds set aside. Holds and lots that ran out count as swept,
 * as the pool's next change will sweep them.
 */
export async function poolBalance(queryable: Pick<pg.Pool, 'query'>, key: PoolKey, now: number) {
  const { state } = applyOperations(await loadPool(queryable, key), [], now);
  return { state, available: availableBalance(state, now), held: heldBalance(state, now) };
}

/** An account's credits: each pool's balance and live lots. */
export async function readPools(
  pool: pg.Pool,
  place: Place,
  accountId: string,
  now: number,
): Promise<PoolView[]> {
  const { rows: types } = await pool.query<{ credit_type: string }>(
    `select credit_type from credit_pools where account_id = $1 and stripe_account = $2 and livemode = $3
     order by credit_type`,
    [accountId, place.stripeAccount, place.livemode],
  );
  const views: PoolView[] = [];
  for (const { credit_type: creditType } of types) {
    const { state, available, held } = await poolBalance(pool, { accountId, creditType, ...place }, now);
    const live = new Set(state.lots.filter((lot) => lot.remaining > 0).map((lot) => lot.id));
    views.push({
      creditType,
      available,
      held,
      lots: (await lotsOf(pool, place, accountId, creditType)).filter((lot) => live.has(lot.id)),
    });
  }
  return views;
}

async function lotsOf(pool: pg.Pool, place: Place, accountId: string, creditType: string) {
  const { rows } = await pool.query<LotView & { sourceKind: string; sourceId: string }>(
    `select id, amount::float8 as amount, remaining::float8 as remaining, expires_at::float8 as "expiresAt",
            source_kind as "sourceKind", source_id as "sourceId", reason
     from credit_lots
     where account_id = $1 and credit_type = $2 and stripe_account = $3 and livemode = $4 and remaining > 0
     order by coalesce(expires_at, 9e18), created_at`,
    [accountId, creditType, place.stripeAccount, place.livemode],
  );
  return rows.map(({ sourceKind, sourceId, ...lot }) => ({
    ...lot,
    source: { kind: sourceKind, id: sourceId },
  }));
}

/** The account's ledger entries, newest first; `before` pages back from an entry id. */
export async function readEntries(
  pool: pg.Pool,
  place: Place,
  accountId: string,
  options: { limit: number; before?: number },
): Promise<EntryView[]> {
  const { rows } = await pool.query<EntryView>(
    `select id::float8 as id, credit_type as "creditType", kind, amount::float8 as amount, lot_id as "lotId",
            hold_id as "holdId", key, spender, floor(extract(epoch from at))::float8 as at
     from credit_entries
     where account_id = $1 and stripe_account = $2 and livemode = $3 and ($4::bigint is null or id < $4)
     order by id desc limit $5`,
    [accountId, place.stripeAccount, place.livemode, options.before ?? null, options.limit],
  );
  return rows;
}
