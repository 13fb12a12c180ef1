import type pg from 'pg';
import {
  type Allocation,
  applyOperations,
  type Hold,
  type Lot,
  type Operation,
  type Outcome,
  type PoolState,
} from './ledger.ts';

/** A pool's address: an app account's credits of one type, on one Stripe account, in one mode. */
export type PoolKey = { accountId: string; creditType: string; stripeAccount: string; livemode: boolean };

export type PoolOperation = Operation & { spender?: string | undefined };

const POOL = 'account_id = $1 and credit_type = $2 and stripe_account = $3 and livemode = $4';
const poolValues = (pool: PoolKey) => [pool.accountId, pool.creditType, pool.stripeAccount, pool.livemode];

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

/**
 * Applies a batch of one pool's operations under its lock: operations whose key was answered before
 * get that answer again; the others are applied in order (pure), and their entries, the lots and holds
 * they changed and their answers are written in the same transaction.
 */
export async function applyBatch(
  client: pg.PoolClient,
  pool: PoolKey,
  operations: readonly PoolOperation[],
  now: number,
): Promise<Outcome[]> {
  await lockPool(client, pool);
  const known = await knownOutcomes(
    client,
    pool,
    operations.map((operation) => operation.key),
  );
  const fresh = operations.filter((operation) => !known.has(operation.key));
  const before = await loadPool(client, pool);
  const applied = applyOperations(before, fresh, now);
  const spenders = new Map(fresh.map((operation) => [operation.key, operation.spender ?? pool.accountId]));
  await writeLots(client, before, applied.state);
  await writeHolds(client, pool, before, applied.state);
  await client.query(
    `insert into credit_entries (account_id, credit_type, stripe_account, livemode, key, kind, lot_id, hold_id, amount, spender)
     select $1, $2, $3, $4, e.key, e.kind, e.lot_id, e.hold_id, e.amount, e.spender
     from unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[])
       as e(key, kind, lot_id, hold_id, amount, spender)`,
    [
      ...poolValues(pool),
      applied.entries.map((entry) => entry.key),
      applied.entries.map((entry) => entry.kind),
      applied.entries.map((entry) => entry.lotId),
      applied.entries.map((entry) => entry.holdId),
      applied.entries.map((entry) => entry.amount),
      applied.entries.map((entry) => spenders.get(entry.key) ?? null),
    ],
  );
  const answers = new Map(
    fresh.map((operation, index) => [operation.key, applied.outcomes[index] as Outcome]),
  );
  await client.query(
    `insert into credit_operations (account_id, credit_type, stripe_account, livemode, key, outcome)
     select $1, $2, $3, $4, o.key, o.outcome from unnest($5::text[], $6::jsonb[]) as o(key, outcome)
     on conflict do nothing`,
    [
      ...poolValues(pool),
      [...answers.keys()],
      [...answers.values()].map((outcome) => JSON.stringify(outcome)),
    ],
  );
  return operations.map((operation) => (known.get(operation.key) ?? answers.get(operation.key)) as Outcome);
}

async function knownOutcomes(
  client: pg.PoolClient,
  pool: PoolKey,
  keys: string[],
): Promise<Map<string, Outcome>> {
  const { rows } = await client.query<{ key: string; outcome: Outcome }>(
    `select key, outcome from credit_operations where ${POOL} and key = any($5::text[])`,
    [...poolValues(pool), keys],
  );
  return new Map(rows.map((row) => [row.key, row.outcome]));
}

async function writeLots(client: pg.PoolClient, before: PoolState, after: PoolState): Promise<void> {
  const was = new Map(before.lots.map((lot) => [lot.id, lot.remaining]));
  const changed = after.lots.filter((lot) => was.get(lot.id) !== lot.remaining);
  if (changed.length === 0) return;
  await client.query(
    `update credit_lots set remaining = c.remaining
     from unnest($1::text[], $2::bigint[]) as c(id, remaining) where credit_lots.id = c.id`,
    [changed.map((lot) => lot.id), changed.map((lot) => lot.remaining)],
  );
}

async function writeHolds(
  client: pg.PoolClient,
  pool: PoolKey,
  before: PoolState,
  after: PoolState,
): Promise<void> {
  const kept = new Set(after.holds.map((hold) => hold.id));
  const had = new Set(before.holds.map((hold) => hold.id));
  const closed = before.holds.filter((hold) => !kept.has(hold.id)).map((hold) => hold.id);
  const opened = after.holds.filter((hold) => !had.has(hold.id));
  if (closed.length > 0) await client.query('delete from credit_holds where id = any($1::text[])', [closed]);
  if (opened.length === 0) return;
  await client.query(
    `insert into credit_holds (id, account_id, credit_type, stripe_account, livemode, amount, expires_at, allocations)
     select h.id, $1, $2, $3, $4, h.amount, h.expires_at, h.allocations
     from unnest($5::text[], $6::bigint[], $7::bigint[], $8::jsonb[]) as h(id, amount, expires_at, allocations)`,
    [
      ...poolValues(pool),
      opened.map((hold) => hold.id),
      opened.map((hold) => hold.amount),
      opened.map((hold) => hold.expiresAt),
      opened.map((hold) => JSON.stringify(hold.allocations)),
    ],
  );
}
