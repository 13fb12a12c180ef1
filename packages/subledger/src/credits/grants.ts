import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { rolloverAmount } from './plan-grants.ts';
import { lockPool, POOL, type PoolKey, poolValues } from './pool-store.ts';
import { poolBalance } from './statement.ts';

export type GrantSource = { kind: 'invoice' | 'top_up' | 'manual'; id: string };

export type Grant = {
  accountId: string;
  creditType: string;
  amount: number;
  /** Unix seconds; null or absent: the credits never expire. */
  expiresAt?: number | null;
  /** What grants them: each source grants once, however often it is reported. */
  source: GrantSource;
  reason?: string;
  /**
   * A renewal's settlement: the plan credits of earlier periods (those ending by `periodStart`) are
   * closed, and what they had left, at most `cap` (0: nothing), is carried into a lot ending with this one.
   */
  rollover?: { cap: number; periodStart: number } | null;
};

export type GrantResult = { granted: boolean; lotId: string; carried: number; balance: number };

type NewLot = {
  amount: number;
  expiresAt: number | null;
  kind: 'invoice' | 'top_up' | 'manual' | 'rollover';
  sourceId: string;
  reason: string | null;
};

const newLotId = () => `lot_${randomBytes(12).toString('base64url')}`;

/** Grants once per source, under the pool's lock; a rollover is settled in the same transaction. */
export async function grantCredits(
  client: pg.PoolClient,
  pool: PoolKey,
  grant: Grant,
  now: number,
): Promise<GrantResult> {
  await lockPool(client, pool);
  const lot: NewLot = {
    amount: grant.amount,
    expiresAt: grant.expiresAt ?? null,
    kind: grant.source.kind,
    sourceId: grant.source.id,
    reason: grant.reason ?? null,
  };
  const lotId = await insertLot(client, pool, lot, now);
  let carried = 0;
  if (lotId && grant.rollover) {
    carried = await settlePlanLots(client, pool, grant.rollover, `rollover:${grant.source.id}`, now);
    if (carried > 0)
      await insertLot(
        client,
        pool,
        { ...lot, amount: carried, kind: 'rollover', reason: 'unused plan credits carried over' },
        now,
      );
  }
  const { available } = await poolBalance(client, pool, now);
  return {
    granted: lotId !== null,
    lotId: lotId ?? (await lotOfSource(client, pool, grant.source)),
    carried,
    balance: available,
  };
}

/** The new lot's id, with its grant entry; null when its source granted before. */
async function insertLot(client: pg.PoolClient, pool: PoolKey, lot: NewLot, now: number) {
  const id = newLotId();
  const inserted = await client.query(
    `insert into credit_lots (id, account_id, credit_type, stripe_account, livemode, amount, remaining, expires_at,
       created_at, source_kind, source_id, reason)
     values ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11)
     on conflict (stripe_account, livemode, credit_type, source_kind, source_id) do nothing`,
    [id, ...poolValues(pool), lot.amount, lot.expiresAt, now, lot.kind, lot.sourceId, lot.reason],
  );
  if (inserted.rowCount !== 1) return null;
  await client.query(
    `insert into credit_entries (account_id, credit_type, stripe_account, livemode, key, kind, lot_id, amount)
     values ($1, $2, $3, $4, $5, 'grant', $6, $7)`,
    [...poolValues(pool), `grant:${lot.kind}:${lot.sourceId}`, id, lot.amount],
  );
  return id;
}

/**
 * Closes the plan lots of periods that ended by `periodStart`: what each has left is taken out (an
 * `expire` entry under `key`), what had already expired is counted from its expiry entry, and the lots
 * are marked rolled over so no later renewal counts them again. Returns what may be carried.
 */
async function settlePlanLots(
  client: pg.PoolClient,
  pool: PoolKey,
  rollover: { cap: number; periodStart: number },
  key: string,
  now: number,
): Promise<number> {
  const { rows } = await client.query<{ id: string; remaining: string; expired: string }>(
    `update credit_lots l set rolled_over_at = $6
     where ${POOL} and l.source_kind in ('invoice', 'rollover') and l.rolled_over_at is null
       and l.expires_at <= $5
     returning l.id, l.remaining,
       (select coalesce(-sum(e.amount), 0) from credit_entries e
        where e.lot_id = l.id and e.kind = 'expire') as expired`,
    [...poolValues(pool), rollover.periodStart, now],
  );
  const open = rows.filter((row) => Number(row.remaining) > 0);
  if (open.length > 0) {
    await client.query(
      `insert into credit_entries (account_id, credit_type, stripe_account, livemode, key, kind, lot_id, amount)
       select $1, $2, $3, $4, $5, 'expire', o.id, -o.remaining from unnest($6::text[], $7::bigint[]) as o(id, remaining)`,
      [...poolValues(pool), key, open.map((row) => row.id), open.map((row) => Number(row.remaining))],
    );
    await client.query('update credit_lots set remaining = 0 where id = any($1::text[])', [
      open.map((row) => row.id),
    ]);
  }
  return rolloverAmount(
    rows.map((row) => Number(row.remaining) + Number(row.expired)),
    rollover.cap,
  );
}

async function lotOfSource(client: pg.PoolClient, pool: PoolKey, source: GrantSource): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `select id from credit_lots where stripe_account = $1 and livemode = $2 and credit_type = $3
       and source_kind = $4 and source_id = $5`,
    [pool.stripeAccount, pool.livemode, pool.creditType, source.kind, source.id],
  );
  return rows[0]?.id as string;
}
