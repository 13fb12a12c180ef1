import type pg from 'pg';
import type { Place } from '../sync/index.ts';
import {
  type Allocation,
  applyOperations,
  type Entry,
  type Hold,
  type Outcome,
  type PoolState,
} from './ledger.ts';
import { type PoolKey, type PoolOperation, poolId } from './pool-store.ts';

/** One pool's operations, in the order they arrived. */
export type PoolBatch = { pool: PoolKey; operations: readonly PoolOperation[] };

/**
 * Locks every pool of the batches, sorted, in one statement (sorted, so that two processes locking
 * overlapping sets wait for each other instead of deadlocking). `any` on both columns may lock a few
 * more pools than asked (account A's type y when B has it): harmless, they are released at commit.
 */
const LOCK = `
  select account_id, credit_type from credit_pools
  where account_id = any($1::text[]) and credit_type = any($2::text[]) and stripe_account = $3 and livemode = $4
  order by account_id, credit_type for update`;

/**
 * The lots (with credits left, or that an open hold may return credits to), the holds and the answers
 * already given to these keys, of every pool at once. Read after the lock, in its own statement: a
 * statement sees the data as of its start, so a read in the locking statement could predate a commit
 * it waited for.
 */
const LOAD = `
  select
    (select coalesce(json_agg(json_build_array(l.account_id, l.credit_type, l.id, l.remaining, l.expires_at,
                                               l.created_at)), '[]')
     from credit_lots l
     where l.account_id = any($1::text[]) and l.credit_type = any($2::text[]) and l.stripe_account = $3
       and l.livemode = $4
       and (l.remaining > 0 or l.id in (
         select jsonb_array_elements(h.allocations)->>'lotId' from credit_holds h
         where h.account_id = any($1::text[]) and h.credit_type = any($2::text[]) and h.stripe_account = $3
           and h.livemode = $4))) as lots,
    (select coalesce(json_agg(json_build_array(h.account_id, h.credit_type, h.id, h.amount, h.expires_at,
                                               h.allocations)), '[]')
     from credit_holds h
     where h.account_id = any($1::text[]) and h.credit_type = any($2::text[]) and h.stripe_account = $3
       and h.livemode = $4) as holds,
    (select coalesce(json_agg(json_build_array(o.account_id, o.credit_type, o.key, o.outcome)), '[]')
     from credit_operations o
     where o.account_id = any($1::text[]) and o.credit_type = any($2::text[]) and o.stripe_account = $3
       and o.livemode = $4 and o.key = any($5::text[])) as known`;

/** Every change of the batch in one statement: lots, holds closed and opened, entries, answers. */
const WRITE = `
  with lots as (
    update credit_lots set remaining = c.remaining
    from unnest($3::text[], $4::bigint[]) as c(id, remaining) where credit_lots.id = c.id
  ), closed as (
    delete from credit_holds where id = any($5::text[])
  ), opened as (
    insert into credit_holds (id, account_id, credit_type, stripe_account, livemode, amount, expires_at, allocations)
    select h.id, h.account_id, h.credit_type, $1, $2, h.amount, h.expires_at, h.allocations
    from unnest($6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::jsonb[])
      as h(id, account_id, credit_type, amount, expires_at, allocations)
  ), entries as (
    insert into credit_entries (account_id, credit_type, stripe_account, livemode, key, kind, lot_id, hold_id, amount,
                                spender)
    select e.account_id, e.credit_type, $1, $2, e.key, e.kind, e.lot_id, e.hold_id, e.amount, e.spender
    from unnest($12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::bigint[],
                $19::text[]) as e(account_id, credit_type, key, kind, lot_id, hold_id, amount, spender)
  )
  insert into credit_operations (account_id, credit_type, stripe_account, livemode, key, outcome)
  select o.account_id, o.credit_type, $1, $2, o.key, o.outcome
  from unnest($20::text[], $21::text[], $22::text[], $23::jsonb[]) as o(account_id, credit_type, key, outcome)
  on conflict do nothing`;

type Loaded = {
  lots: [string, string, string, string, string | null, string][];
  holds: [string, string, string, string, string, Allocation[]][];
  known: [string, string, string, Outcome][];
};

/**
 * Applies the operations of many pools of one place in one transaction: lock all (one statement), load
 * all (one), apply each pool's operations in order (pure), write all (one). Keys answered before get
 * that answer again. Returns each batch's answers, in its operations' order.
 */
export async function applyBatches(
  client: pg.PoolClient,
  place: Place,
  batches: readonly PoolBatch[],
  now: number,
): Promise<Outcome[][]> {
  const accounts = [...new Set(batches.map((batch) => batch.pool.accountId))];
  const types = [...new Set(batches.map((batch) => batch.pool.creditType))];
  const scope = [accounts, types, place.stripeAccount, place.livemode];
  await lockPools(client, batches, scope);
  const keys = batches.flatMap((batch) => batch.operations.map((operation) => operation.key));
  const loaded = (await client.query<Loaded>({ name: 'credits_load', text: LOAD, values: [...scope, keys] }))
    .rows[0] as Loaded;
  const states = statesOf(batches, loaded);
  const known = new Map(
    loaded.known.map(([account, type, key, outcome]) => [`${poolId(account, type)}\u0000${key}`, outcome]),
  );
  const changes = new Changes();
  const answers = batches.map((batch) => {
    const id = poolId(batch.pool.accountId, batch.pool.creditType);
    const before = states.get(id) as PoolState;
    const fresh = batch.operations.filter((operation) => !known.has(`${id}\u0000${operation.key}`));
    const applied = applyOperations(before, fresh, now);
    const outcomes = new Map(
      fresh.map((operation, index) => [operation.key, applied.outcomes[index] as Outcome]),
    );
    changes.add(batch, before, applied.state, applied.entries, outcomes);
    return batch.operations.map(
      (operation) => (known.get(`${id}\u0000${operation.key}`) ?? outcomes.get(operation.key)) as Outcome,
    );
  });
  await client.query({
    name: 'credits_write',
    text: WRITE,
    values: [place.stripeAccount, place.livemode, ...changes.values()],
  });
  return answers;
}

/** Takes every pool's lock, creating the rows of pools used for the first time. */
async function lockPools(client: pg.PoolClient, batches: readonly PoolBatch[], scope: unknown[]) {
  const locked = await client.query<{ account_id: string; credit_type: string }>({
    name: 'credits_lock',
    text: LOCK,
    values: scope,
  });
  const have = new Set(locked.rows.map((row) => poolId(row.account_id, row.credit_type)));
  const missing = batches.filter((batch) => !have.has(poolId(batch.pool.accountId, batch.pool.creditType)));
  if (missing.length === 0) return;
  await client.query(
    `insert into credit_pools (account_id, credit_type, stripe_account, livemode)
     select a, t, $3, $4 from unnest($1::text[], $2::text[]) as p(a, t) on conflict do nothing`,
    [
      missing.map((batch) => batch.pool.accountId),
      missing.map((batch) => batch.pool.creditType),
      scope[2],
      scope[3],
    ],
  );
  await client.query({ name: 'credits_lock', text: LOCK, values: scope });
}

function statesOf(batches: readonly PoolBatch[], loaded: Loaded): Map<string, PoolState> {
  const states = new Map<string, PoolState>(
    batches.map((batch) => [poolId(batch.pool.accountId, batch.pool.creditType), { lots: [], holds: [] }]),
  );
  for (const [account, type, id, remaining, expiresAt, createdAt] of loaded.lots)
    states.get(poolId(account, type))?.lots.push({
      id,
      remaining: Number(remaining),
      expiresAt: expiresAt === null ? null : Number(expiresAt),
      createdAt: Number(createdAt),
    });
  for (const [account, type, id, amount, expiresAt, allocations] of loaded.holds)
    states
      .get(poolId(account, type))
      ?.holds.push({ id, amount: Number(amount), expiresAt: Number(expiresAt), allocations });
  return states;
}

/** The batch's writes, gathered as columns for WRITE's arrays. */
class Changes {
  readonly #lots = { id: [] as string[], remaining: [] as number[] };
  readonly #closed: string[] = [];
  readonly #opened = columns(6);
  readonly #entries = columns(8);
  readonly #answers = columns(4);

  add(
    batch: PoolBatch,
    before: PoolState,
    after: PoolState,
    entries: Entry[],
    outcomes: Map<string, Outcome>,
  ) {
    const { accountId, creditType } = batch.pool;
    const was = new Map(before.lots.map((lot) => [lot.id, lot.remaining]));
    for (const lot of after.lots)
      if (was.get(lot.id) !== lot.remaining) {
        this.#lots.id.push(lot.id);
        this.#lots.remaining.push(lot.remaining);
      }
    const kept = new Set(after.holds.map((hold) => hold.id));
    const had = new Set(before.holds.map((hold) => hold.id));
    this.#closed.push(...[...had].filter((id) => !kept.has(id)));
    for (const hold of after.holds.filter((candidate: Hold) => !had.has(candidate.id)))
      push(this.#opened, [
        hold.id,
        accountId,
        creditType,
        hold.amount,
        hold.expiresAt,
        JSON.stringify(hold.allocations),
      ]);
    const spenders = new Map(
      batch.operations.map((operation) => [operation.key, operation.spender ?? accountId]),
    );
    for (const entry of entries)
      push(this.#entries, [
        accountId,
        creditType,
        entry.key,
        entry.kind,
        entry.lotId,
        entry.holdId,
        entry.amount,
        spenders.get(entry.key) ?? null,
      ]);
    // Only what moved credits is remembered: a refusal moved nothing, so the same key may try again (a
    // consume after a top-up, a commit of a smaller amount).
    for (const [key, outcome] of outcomes)
      if (outcome.ok) push(this.#answers, [accountId, creditType, key, JSON.stringify(outcome)]);
  }

  values(): unknown[] {
    return [
      this.#lots.id,
      this.#lots.remaining,
      this.#closed,
      ...this.#opened,
      ...this.#entries,
      ...this.#answers,
    ];
  }
}

const columns = (count: number): unknown[][] => Array.from({ length: count }, () => []);
const push = (target: unknown[][], row: unknown[]) => {
  for (const [index, value] of row.entries()) target[index]?.push(value);
};
