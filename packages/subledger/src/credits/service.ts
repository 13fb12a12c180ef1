import { createHash, randomBytes } from 'node:crypto';
import { type Database, inTransaction } from '../store/index.ts';
import type { Place } from '../sync/index.ts';
import { applyOperations, availableBalance, heldBalance, type Outcome } from './ledger.ts';
import { applyBatch, loadPool, lockPool, type PoolKey, type PoolOperation } from './pool-store.ts';

export type GrantSource = { kind: 'invoice' | 'top_up' | 'manual' | 'rollover'; id: string };

export type Grant = {
  accountId: string;
  creditType: string;
  amount: number;
  /** Unix seconds; null or absent: the credits never expire. */
  expiresAt?: number | null;
  /** What grants them: each source grants once, however often it is reported. */
  source: GrantSource;
  reason?: string;
};

type Spend = { accountId: string; creditType: string; amount: number; key: string; spender?: string };

/** Operations of one pool wait here while the pool's previous batch commits, then go together. */
const MAX_BATCH = 500;

/**
 * Credits of app accounts: grants, and spends through consume, reserve, commit and release. Every change
 * to a pool runs under the pool's row lock; in each process a pool's operations are gathered while its
 * previous batch commits and applied together in one transaction, so a busy pool takes one lock per
 * batch rather than per spend. Nothing here calls Stripe.
 */
export function createCreditsService(options: { database: Database; place: Place; now?: () => number }) {
  const { database, place } = options;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const poolOf = (accountId: string, creditType: string): PoolKey => ({ accountId, creditType, ...place });
  const queues = new Map<string, { pool: PoolKey; waiting: Waiting[]; running: boolean }>();

  type Waiting = {
    operation: PoolOperation;
    resolve: (outcome: Outcome) => void;
    reject: (error: unknown) => void;
  };

  function submit(pool: PoolKey, operation: PoolOperation): Promise<Outcome> {
    const id = JSON.stringify(pool);
    const queue = queues.get(id) ?? { pool, waiting: [], running: false };
    queues.set(id, queue);
    return new Promise((resolve, reject) => {
      queue.waiting.push({ operation, resolve, reject });
      if (!queue.running) void drain(id, queue);
    });
  }

  async function drain(id: string, queue: { pool: PoolKey; waiting: Waiting[]; running: boolean }) {
    queue.running = true;
    while (queue.waiting.length > 0) {
      const batch = queue.waiting.splice(0, MAX_BATCH);
      try {
        const outcomes = await inTransaction(database.pool, (client) =>
          applyBatch(
            client,
            queue.pool,
            batch.map((waiting) => waiting.operation),
            now(),
          ),
        );
        for (const [index, waiting] of batch.entries()) waiting.resolve(outcomes[index] as Outcome);
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    queue.running = false;
    queues.delete(id);
  }

  const holdIdOf = (pool: PoolKey, key: string) =>
    `hold_${createHash('sha256')
      .update(`${JSON.stringify(pool)}|${key}`)
      .digest('base64url')
      .slice(0, 24)}`;

  async function poolOfHold(holdId: string): Promise<PoolKey | null> {
    const { rows } = await database.pool.query<{ account_id: string; credit_type: string }>(
      `select account_id, credit_type from credit_holds where id = $1 and stripe_account = $2 and livemode = $3
       union all
       select account_id, credit_type from credit_entries where hold_id = $1 and stripe_account = $2 and livemode = $3
       limit 1`,
      [holdId, place.stripeAccount, place.livemode],
    );
    const row = rows[0];
    return row ? poolOf(row.account_id, row.credit_type) : null;
  }

  const holdMissing: Outcome = { ok: false, code: 'hold_not_found', balance: 0 };

  return {
    /** Grants credits once per source; answers whether this call granted them, and the balance. */
    async grant(grant: Grant): Promise<{ granted: boolean; lotId: string; balance: number }> {
      const pool = poolOf(grant.accountId, grant.creditType);
      return inTransaction(database.pool, async (client) => {
        await lockPool(client, pool);
        const lotId = `lot_${randomBytes(12).toString('base64url')}`;
        const inserted = await client.query<{ id: string }>(
          `insert into credit_lots (id, account_id, credit_type, stripe_account, livemode, amount, remaining, expires_at,
             created_at, source_kind, source_id, reason)
           values ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11)
           on conflict (stripe_account, livemode, credit_type, source_kind, source_id) do nothing returning id`,
          [
            lotId,
            pool.accountId,
            pool.creditType,
            pool.stripeAccount,
            pool.livemode,
            grant.amount,
            grant.expiresAt ?? null,
            now(),
            grant.source.kind,
            grant.source.id,
            grant.reason ?? null,
          ],
        );
        if (inserted.rowCount === 1)
          await client.query(
            `insert into credit_entries (account_id, credit_type, stripe_account, livemode, key, kind, lot_id, amount)
             values ($1, $2, $3, $4, $5, 'grant', $6, $7)`,
            [
              pool.accountId,
              pool.creditType,
              pool.stripeAccount,
              pool.livemode,
              `grant:${grant.source.kind}:${grant.source.id}`,
              lotId,
              grant.amount,
            ],
          );
        const existing =
          inserted.rows[0]?.id ??
          ((
            await client.query<{ id: string }>(
              `select id from credit_lots where stripe_account = $1 and livemode = $2 and credit_type = $3
             and source_kind = $4 and source_id = $5`,
              [pool.stripeAccount, pool.livemode, pool.creditType, grant.source.kind, grant.source.id],
            )
          ).rows[0]?.id as string);
        const balance = availableBalance(await loadPool(client, pool), now());
        return { granted: inserted.rowCount === 1, lotId: existing, balance };
      });
    },
    consume: (spend: Spend) =>
      submit(poolOf(spend.accountId, spend.creditType), {
        kind: 'consume',
        key: spend.key,
        amount: spend.amount,
        spender: spend.spender,
      }),
    async reserve(spend: Spend & { ttlSeconds: number }): Promise<Outcome & { holdId: string }> {
      const pool = poolOf(spend.accountId, spend.creditType);
      const holdId = holdIdOf(pool, spend.key);
      const outcome = await submit(pool, {
        kind: 'reserve',
        key: spend.key,
        holdId,
        amount: spend.amount,
        expiresAt: now() + spend.ttlSeconds,
        spender: spend.spender,
      });
      return { ...outcome, holdId };
    },
    /** Spends `actual` of a hold (default: all of it) and returns the rest. */
    async commit(holdId: string, actual?: number): Promise<Outcome> {
      const pool = await poolOfHold(holdId);
      if (!pool) return holdMissing;
      return submit(pool, {
        kind: 'commit',
        key: `commit:${holdId}`,
        holdId,
        ...(actual === undefined ? {} : { actual }),
      });
    },
    async release(holdId: string): Promise<Outcome> {
      const pool = await poolOfHold(holdId);
      if (!pool) return holdMissing;
      return submit(pool, { kind: 'release', key: `release:${holdId}`, holdId });
    },
    /** What the pool may spend now, and what holds set aside. */
    async balance(accountId: string, creditType: string): Promise<{ available: number; held: number }> {
      // Holds and lots that ran out are swept by the pool's next batch; the answer counts them as swept.
      const { state } = applyOperations(
        await loadPool(database.pool, poolOf(accountId, creditType)),
        [],
        now(),
      );
      return { available: availableBalance(state, now()), held: heldBalance(state, now()) };
    },
  };
}

export type CreditsService = ReturnType<typeof createCreditsService>;
