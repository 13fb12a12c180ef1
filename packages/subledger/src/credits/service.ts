import { createHash } from 'node:crypto';
import { type Database, inTransaction } from '../store/index.ts';
import type { Place } from '../sync/index.ts';
import { applyBatches } from './batch-store.ts';
import { type Grant, type GrantResult, grantCredits } from './grants.ts';
import type { Outcome } from './ledger.ts';
import { type PoolKey, type PoolOperation, poolId } from './pool-store.ts';
import { poolBalance, readEntries, readPools } from './statement.ts';

type Spend = { accountId: string; creditType: string; amount: number; key: string; spender?: string };

/** What closing a hold answers, with the credit type of its pool. */
type Closed = Outcome & { creditType: string };

const idOf = (pool: PoolKey) => poolId(pool.accountId, pool.creditType);

/** At most this many operations go into one transaction. */
const MAX_BATCH = 500;
/** Transactions in flight at once per process; a pool is in at most one of them. */
const IN_FLIGHT = 2;

type Waiting = {
  pool: PoolKey;
  operation: PoolOperation;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
};

/**
 * Credits of app accounts: grants, and spends through consume, reserve, commit and release. Every change
 * to a pool runs under the pool's row lock. In each process, operations wait while the transactions in
 * flight commit, then go together: all waiting operations of every pool not already in flight, in one
 * transaction that takes each pool's lock once. So a busy pool takes one lock per batch rather than per
 * spend, and many quiet pools share one commit. Nothing here calls Stripe.
 */
export function createCreditsService(options: { database: Database; place: Place; now?: () => number }) {
  const { database, place } = options;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const poolOf = (accountId: string, creditType: string): PoolKey => ({ accountId, creditType, ...place });
  const waiting: Waiting[] = [];
  const busy = new Set<string>();
  let inFlight = 0;
  let scheduled = false;

  function submit(pool: PoolKey, operation: PoolOperation): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      waiting.push({ pool, operation, resolve, reject });
      if (!scheduled && inFlight < IN_FLIGHT) {
        scheduled = true;
        queueMicrotask(startBatches);
      }
    });
  }

  /** Starts transactions while fewer than IN_FLIGHT run and operations of pools not in flight wait. */
  function startBatches(): void {
    scheduled = false;
    while (inFlight < IN_FLIGHT && waiting.length > 0) {
      const taken: Waiting[] = [];
      const left: Waiting[] = [];
      for (const candidate of waiting) {
        const free = !busy.has(idOf(candidate.pool)) && taken.length < MAX_BATCH;
        (free ? taken : left).push(candidate);
      }
      if (taken.length === 0) return;
      waiting.splice(0, waiting.length, ...left);
      const pools = new Set(taken.map((entry) => idOf(entry.pool)));
      for (const id of pools) busy.add(id);
      inFlight++;
      void run(taken).finally(() => {
        inFlight--;
        for (const id of pools) busy.delete(id);
        startBatches();
      });
    }
  }

  async function run(taken: Waiting[]): Promise<void> {
    const groups = new Map<
      string,
      { batch: { pool: PoolKey; operations: PoolOperation[] }; waiting: Waiting[] }
    >();
    for (const entry of taken) {
      const id = idOf(entry.pool);
      const group = groups.get(id) ?? { batch: { pool: entry.pool, operations: [] }, waiting: [] };
      group.batch.operations.push(entry.operation);
      group.waiting.push(entry);
      groups.set(id, group);
    }
    const list = [...groups.values()];
    try {
      const answers = await inTransaction(database.pool, (client) =>
        applyBatches(
          client,
          place,
          list.map((group) => group.batch),
          now(),
        ),
      );
      for (const [index, group] of list.entries())
        for (const [position, entry] of group.waiting.entries())
          entry.resolve(answers[index]?.[position] as Outcome);
    } catch (error) {
      for (const entry of taken) entry.reject(error);
    }
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

  const holdMissing: Closed = { ok: false, code: 'hold_not_found', balance: 0, creditType: '' };

  return {
    /** Grants credits once per source; answers whether this call granted them, and the balance. */
    grant: (grant: Grant): Promise<GrantResult> =>
      inTransaction(database.pool, (client) =>
        grantCredits(client, poolOf(grant.accountId, grant.creditType), grant, now()),
      ),
    consume: (spend: Spend) =>
      submit(poolOf(spend.accountId, spend.creditType), {
        kind: 'consume',
        key: `consume:${spend.key}`,
        amount: spend.amount,
        spender: spend.spender,
      }),
    /** Sets credits aside as a hold (its id follows from the pool and key) until commit, release or expiry. */
    async reserve(
      spend: Spend & { ttlSeconds: number },
    ): Promise<Outcome & { holdId: string; expiresAt: number }> {
      const pool = poolOf(spend.accountId, spend.creditType);
      const holdId = holdIdOf(pool, spend.key);
      const expiresAt = now() + spend.ttlSeconds;
      const outcome = await submit(pool, {
        kind: 'reserve',
        key: `reserve:${spend.key}`,
        holdId,
        amount: spend.amount,
        expiresAt,
        spender: spend.spender,
      });
      return { ...outcome, holdId, expiresAt };
    },
    /** Spends `actual` of a hold (default: all of it) and returns the rest. */
    async commit(holdId: string, actual?: number): Promise<Closed> {
      const pool = await poolOfHold(holdId);
      if (!pool) return holdMissing;
      const operation = { kind: 'commit', key: `commit:${holdId}`, holdId } as const;
      const outcome = await submit(pool, actual === undefined ? operation : { ...operation, actual });
      return { ...outcome, creditType: pool.creditType };
    },
    /** Returns all of a hold's credits. */
    async release(holdId: string): Promise<Closed> {
      const pool = await poolOfHold(holdId);
      if (!pool) return holdMissing;
      const outcome = await submit(pool, { kind: 'release', key: `release:${holdId}`, holdId });
      return { ...outcome, creditType: pool.creditType };
    },
    /** The account's pools: balance, held credits and live lots of each credit type. */
    pools: (accountId: string) => readPools(database.pool, place, accountId, now()),
    /** The account's ledger entries, newest first. */
    entries: (accountId: string, options: { limit?: number; before?: number } = {}) =>
      readEntries(database.pool, place, accountId, { limit: options.limit ?? 50, ...options }),
    /** What the pool may spend now, and what holds set aside. */
    async balance(accountId: string, creditType: string): Promise<{ available: number; held: number }> {
      const { available, held } = await poolBalance(database.pool, poolOf(accountId, creditType), now());
      return { available, held };
    },
  };
}

export type CreditsService = ReturnType<typeof createCreditsService>;
