import { type SQL, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { pgArray, writeTogether } from './bulk-upsert.ts';
import type { KindName } from './kinds.ts';

/**
 * The SQL of the refetch queue (`sync_refetches`), one statement each: asking for reads, leasing them to
 * a refetcher, and settling or handing them back.
 */

export type RefetchRequest = {
  kind: KindName;
  id: string;
  stripeAccount: string;
  livemode: boolean;
  serialKey: string;
  knownCreated: number;
  reason: string;
};

/** Refetchers listen here; a notification only says "look". */
export const REFETCH_CHANNEL = 'subledger_refetch';

/**
 * Records objects to read from Stripe, in the caller's transaction; one row per object. A new request
 * for an object whose read failed ends its backoff: a change has been announced since, and the failure
 * (an outage, a rate limit) may be over. Its attempts are kept, so that a read failing again backs off
 * from where it was. The statement, to be run with the caller's others (`writeTogether`), or null when
 * nothing is asked.
 */
export function refetchRequests(requests: RefetchRequest[]): SQL | null {
  if (requests.length === 0) return null;
  const column = <T>(read: (request: RefetchRequest) => T) => pgArray(requests.map(read));
  return sql`
    insert into sync_refetches (object_type, object_id, stripe_account, livemode, serial_key, known_created, reason)
    select * from unnest(${column((request) => request.kind)}::text[], ${column((request) => request.id)}::text[],
                         ${column((request) => request.stripeAccount)}::text[],
                         ${column((request) => request.livemode)}::boolean[],
                         ${column((request) => request.serialKey)}::text[],
                         ${column((request) => request.knownCreated)}::bigint[],
                         ${column((request) => request.reason)}::text[])
    on conflict (object_type, object_id, stripe_account, livemode) do update
      set known_created = greatest(sync_refetches.known_created, excluded.known_created),
          reason = excluded.reason, serial_key = excluded.serial_key, requested_at = now(),
          available_at = least(sync_refetches.available_at, now()),
          generation = nextval(pg_get_serial_sequence('sync_refetches', 'generation'))
    returning pg_notify(${REFETCH_CHANNEL}, '') is null as notified`;
}

/** `refetchRequests`, alone. */
export async function requestRefetches(client: pg.PoolClient, requests: RefetchRequest[]): Promise<void> {
  const statement = refetchRequests(requests);
  if (statement) await writeTogether(drizzle(client), [statement]);
}

export type LeasedRefetch = {
  objectType: string;
  objectId: string;
  stripeAccount: string;
  livemode: boolean;
  serialKey: string;
  knownCreated: number;
  generation: number;
  /** Failed reads before this lease. */
  attempts: number;
};

/** The session advisory lock a refetcher holds while it lives; its leases are void once it is free. */
export async function holdRefetcherLock(session: pg.ClientBase, refetcher: string): Promise<void> {
  await session.query('select pg_advisory_lock(hashtextextended($1, 0))', [refetcherLock(refetcher)]);
}

export async function freeRefetcherLock(session: pg.ClientBase, refetcher: string): Promise<void> {
  await session.query('select pg_advisory_unlock(hashtextextended($1, 0))', [refetcherLock(refetcher)]);
}

const REFETCHER_LOCK = 'subledger:refetcher:';
const refetcherLock = (refetcher: string) => `${REFETCHER_LOCK}${refetcher}`;

const LEASE = `
  with ready as (
    select object_type, object_id, stripe_account, livemode from sync_refetches
    where ($3::text is null or serial_key = $3)
      and case when leased_by is null then available_at <= now() or $3 is not null
               else leased_by <> $2 and pg_try_advisory_xact_lock(hashtextextended($4 || leased_by, 0))
          end
    order by available_at
    limit $1
    for update skip locked
  )
  update sync_refetches r set leased_by = $2
  from ready
  where (r.object_type, r.object_id, r.stripe_account, r.livemode)
      = (ready.object_type, ready.object_id, ready.stripe_account, ready.livemode)
  returning r.object_type as "objectType", r.object_id as "objectId", r.stripe_account as "stripeAccount",
    r.livemode, r.serial_key as "serialKey", r.known_created as "knownCreated", r.generation, r.attempts`;

/**
 * Leases up to `limit` refetches to `refetcher`: those ready (all of one serial key's, even in backoff,
 * when `serialKey` is given), and those leased by a refetcher whose lock is free because it died.
 */
export async function leaseRefetches(
  pool: pg.Pool,
  refetcher: string,
  options: { limit: number; serialKey?: string },
): Promise<LeasedRefetch[]> {
  return (
    await pool.query<LeasedRefetch>(LEASE, [
      options.limit,
      refetcher,
      options.serialKey ?? null,
      REFETCHER_LOCK,
    ])
  ).rows;
}

/** Whether any read of `serialKey` is still queued or in flight. */
export async function hasRefetches(pool: pg.Pool, serialKey: string): Promise<boolean> {
  const { rows } = await pool.query<{ queued: boolean }>(
    'select exists (select 1 from sync_refetches where serial_key = $1) as queued',
    [serialKey],
  );
  return rows[0]?.queued ?? false;
}

const keysOf = (rows: LeasedRefetch[]) => [
  rows.map((row) => row.objectType),
  rows.map((row) => row.objectId),
  rows.map((row) => row.stripeAccount),
  rows.map((row) => row.livemode),
];

/** Sets `columns` on the events still waiting for a read of an object in `done`. */
const SETTLE_WAITING = (columns: string) => `
  update stripe_events e set ${columns}
  from done
  where e.object_type = done.object_type and e.object_id = done.object_id
    and e.stripe_account = done.stripe_account and e.livemode = done.livemode and e.outcome = 'refetch'`;

/** Records `outcome` on the events still waiting for a read of an object in `done`. */
const RECORD_OUTCOME = (outcome: string) => SETTLE_WAITING(`outcome = ${outcome}`);

/**
 * Deletes the refetches that were served (only as the generation read: a request made meanwhile stays)
 * and records the outcome on the events that asked for them: those of the same object in the same
 * account and mode (a custom id, a product's or a plan's, may name other objects in live mode or on
 * another account, whose own reads may still be queued).
 */
export async function settleRefetches(client: pg.ClientBase, rows: LeasedRefetch[], outcome: string) {
  if (rows.length === 0) return;
  await client.query(
    `with done as (
       delete from sync_refetches r
       using unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[]) as d(t, i, a, l, g)
       where r.object_type = d.t and r.object_id = d.i and r.stripe_account = d.a and r.livemode = d.l
         and r.generation = d.g
       returning r.object_type, r.object_id, r.stripe_account, r.livemode
     )
     ${RECORD_OUTCOME('$6')}`,
    [...keysOf(rows), rows.map((row) => row.generation), outcome],
  );
}

/**
 * Deletes every refetch of these places, whatever its generation or lease, and records the outcome on
 * the events that asked for them (as `settleRefetches`): for an account no read can reach any more.
 */
export async function settlePlaceRefetches(
  client: pg.ClientBase,
  places: { stripeAccount: string; livemode: boolean }[],
  outcome: string,
) {
  if (places.length === 0) return;
  await client.query(
    `with done as (
       delete from sync_refetches r
       using unnest($1::text[], $2::boolean[]) as p(a, l)
       where r.stripe_account = p.a and r.livemode = p.l
       returning r.object_type, r.object_id, r.stripe_account, r.livemode
     )
     ${RECORD_OUTCOME('$3')}`,
    [places.map((place) => place.stripeAccount), places.map((place) => place.livemode), outcome],
  );
}

/**
 * Hands back the refetcher's leases that none of its steps is serving: those whose hand-back failed,
 * or whose lease was taken by a statement whose answer was lost. Ready again at once.
 */
export async function returnStrayRefetches(
  client: pg.ClientBase | pg.Pool,
  refetcher: string,
  serving: LeasedRefetch[],
): Promise<void> {
  await client.query(
    `update sync_refetches r set leased_by = null
     where r.leased_by = $5
       and (r.object_type, r.object_id, r.stripe_account, r.livemode) not in (
         select * from unnest($1::text[], $2::text[], $3::text[], $4::boolean[]))`,
    [...keysOf(serving), refetcher],
  );
}

/** Why a read failed, how long its next attempt waits, and after how many it is given up. */
export type ReadFailure = {
  error: string;
  delaySeconds: (attempt: number) => number;
  /** Infinity for a failure that may pass (an outage, a rate limit): such a read is never given up. */
  maxAttempts: number;
  /** What fails each time; the reason a given-up read's events carry begins with it. */
  failing: string;
};

/**
 * Hands leased refetches back: ready again at once, or, for a failed read, after the delay its attempt
 * earns, with the reason kept. A read that failed `maxAttempts` times is given up (`giveUpRefetches`).
 * Returns the refetches given up.
 */
export async function returnRefetches(
  client: pg.ClientBase | pg.Pool,
  refetcher: string,
  rows: LeasedRefetch[],
  failure?: ReadFailure,
): Promise<LeasedRefetch[]> {
  const spent = failure ? rows.filter((row) => row.attempts + 1 >= failure.maxAttempts) : [];
  const givenUp = failure && spent.length > 0 ? await giveUpRefetches(client, refetcher, spent, failure) : [];
  const returned = rows.filter((row) => !givenUp.includes(row));
  if (returned.length === 0) return givenUp;
  const delays = returned.map((row) => (failure ? failure.delaySeconds(row.attempts + 1) : 0));
  await client.query(
    `update sync_refetches r set leased_by = null, available_at = now() + make_interval(secs => d.delay),
       attempts = r.attempts + case when $7 then 1 else 0 end,
       last_error = case when $7 then $8 else r.last_error end
     from unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::float8[]) as d(t, i, a, l, delay)
     where r.object_type = d.t and r.object_id = d.i and r.stripe_account = d.a and r.livemode = d.l
       and r.leased_by = $6`,
    [...keysOf(returned), delays, refetcher, failure !== undefined, failure?.error.slice(0, 2000) ?? null],
  );
  return givenUp;
}

/**
 * A read Stripe keeps refusing (a restricted key lacking a permission), or whose object the mirror
 * cannot store (a quantity beyond its column), would be retried forever while its events look settled.
 * It is deleted, and the events waiting for it are dead-lettered with the reason, as the worker
 * dead-letters an event it cannot apply: `replay --failed` asks for the read again once the cause is
 * fixed (a key's permission, a migration), and reconcile repairs the row meanwhile where it can. Only as
 * the generation read: one asked for again meanwhile (a newer event, which the dead-lettering would not
 * see) is handed back instead. Returns the rows given up.
 */
async function giveUpRefetches(
  client: pg.ClientBase | pg.Pool,
  refetcher: string,
  rows: LeasedRefetch[],
  failure: ReadFailure,
): Promise<LeasedRefetch[]> {
  const reason = `${failure.failing} ${failure.maxAttempts} times: ${failure.error}`;
  const { rows: deleted } = await client.query<{ key: string }>(
    `with done as (
       delete from sync_refetches r
       using unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[]) as d(t, i, a, l, g)
       where r.object_type = d.t and r.object_id = d.i and r.stripe_account = d.a and r.livemode = d.l
         and r.generation = d.g and r.leased_by = $6
       returning r.object_type, r.object_id, r.stripe_account, r.livemode
     ), settled as (
       ${SETTLE_WAITING(`status = 'dead', outcome = 'dead', last_error = $7, processed_at = now()`)}
       returning e.id
     )
     select object_type || '/' || object_id || '/' || stripe_account || '/' || livemode as key from done`,
    [...keysOf(rows), rows.map((row) => row.generation), refetcher, reason.slice(0, 2000)],
  );
  const keys = new Set(deleted.map((row) => row.key));
  return rows.filter((row) =>
    keys.has(`${row.objectType}/${row.objectId}/${row.stripeAccount}/${row.livemode}`),
  );
}
