import type pg from 'pg';
import type { Allocation, Hold, Lot, Operation, PoolState } from './ledger.ts';

/** A pool's address: an app account's credits of one type, on one Stripe account, in one mode. */
export type PoolKey = { accountId: string; creditType: string; stripeAccount: string; livemode: boolean };

export type PoolOperation = Operation & { spender?: string | undefined };

/** A pool's id within one place (Stripe account and mode): its account and credit type. */
export const poolId = (accountId: string, creditType: string) => `${accountId}\u0000${creditType}`;

/** The columns naming a pool, as `$1`–`$4` (see poolValues). */
export const POOL = 'account_id = $1 and credit_type = $2 and stripe_account = $3 and livemode = $4';
export const poolValues = (pool: PoolKey) => [
  pool.accountId,
  pool.creditType,
  pool.stripeAccount,
  pool.livemode,
];

/** Takes the pool's lock (creating its row on first use) for the rest of the transaction. */
export async function lockPool(client: pg.PoolClient, pool: PoolKey): Promise<void> {
  await client.query(
    `insert into credit_pools (account_id, credit_type, stripe_account, livemode) values ($1, $2, $3, $4)
     on conflict do nothing`,
    poolValues(pool),
  );
  await client.query(`select 1 from credit_pools where ${POOL} for update`, poolValues(pool));
}

/** The lots that have credits left or that a hold may return credits to, and the pool's holds. */
export async function loadPool(client: Pick<pg.Pool, 'query'>, pool: PoolKey): Promise<PoolState> {
  const [lots, holds] = await Promise.all([
    client.query<{ id: string; remaining: string; expires_at: string | null; created_at: string }>(
      `select id, remaining, expires_at, created_at from credit_lots
       where ${POOL} and (remaining > 0 or id in (
         select jsonb_array_elements(allocations)->>'lotId' from credit_holds where ${POOL}))`,
      poolValues(pool),
    ),
    client.query<{ id: string; amount: string; expires_at: string; allocations: Allocation[] }>(
      `select id, amount, expires_at, allocations from credit_holds where ${POOL}`,
      poolValues(pool),
    ),
  ]);
  return {
    lots: lots.rows.map(
      (row): Lot => ({
        id: row.id,
        remaining: Number(row.remaining),
        expiresAt: row.expires_at === null ? null : Number(row.expires_at),
        createdAt: Number(row.created_at),
      }),
    ),
    holds: holds.rows.map(
      (row): Hold => ({
        id: row.id,
        amount: Number(row.amount),
        expiresAt: Number(row.expires_at),
        allocations: row.allocations,
      }),
    ),
  };
}
