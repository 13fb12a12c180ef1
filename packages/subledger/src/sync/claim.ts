import { type SQL, sql } from 'drizzle-orm';
import type pg from 'pg';
import { pgArray } from './bulk-upsert.ts';
import type { InboxEvent, StripeEventPayload } from './envelope.ts';

/**
 * The SQL of claiming and settling inbox events, one statement each. A claim looks at the oldest ready
 * events, takes the serial keys among them that no other transaction holds, and locks the events of
 * those keys only: one customer's events are applied by one transaction at a time, whichever process runs
 * it, and in arrival order, since the events of a busy key stay free for whoever takes the key next.
 * Locking rows first and keys second would leave a busy key's oldest events locked by a transaction
 * that will not apply them, while the next claim applies that key's newer ones. The locks end with the
 * transaction, so a worker that dies releases everything it held.
 */

/**
 * A claimed event without its payload: ordering needs only the columns, and most payloads are not
 * applied. `waitedMs`: how long it had waited in the inbox when claimed, by the database's clock, which
 * also stamped its arrival: this host's clock may disagree with it.
 */
export type ClaimedEvent = Omit<InboxEvent, 'json'> & { waitedMs: number };

const COLUMNS = `id, type, api_version as "apiVersion", livemode, stripe_account as "stripeAccount", created,
  object_type as "objectType", object_id as "objectId", serial_key as "serialKey",
  (extract(epoch from clock_timestamp() - received_at) * 1000)::float8 as "waitedMs"`;

/**
 * Keys are tried oldest first and only as many are taken as the oldest `limit` events have: a claim
 * holds no key whose events it will not apply, so another loop, or a refetch of that customer, is not
 * kept waiting for nothing. A LIMIT above the filter makes PostgreSQL try no lock beyond it; `offset 0`
 * keeps the filter above the ordering, where PostgreSQL would otherwise push it down, into the grouping.
 *
 * Each key carries its events' `seq`s out of the grouping, and the events are then read by `seq` from
 * that one array: no step joins events with keys. Planned on statistics that had not seen a backlog
 * (after an outage, in a burst), such a join ran as a nested loop per returned event, and a claim of
 * 2,000 from 20,000 ready events took minutes.
 */
const CLAIM_READY = `
  with ahead as (
    select seq, serial_key from stripe_events
    where status = 'pending' and available_at <= now()
    order by seq
    limit $2
  ), wanted as (
    select count(distinct serial_key) as keys from (select serial_key from ahead order by seq limit $1) oldest
  ), taken as (
    select seqs from (
      select min(seq) as first, array_agg(seq) as seqs, serial_key as key
      from ahead group by serial_key order by first offset 0
    ) k
    where pg_try_advisory_xact_lock(hashtextextended(key, 0))
    limit (select keys from wanted)
  )
  select ${COLUMNS} from stripe_events
  where seq = any(array(select unnest(seqs) from taken)) and status = 'pending'
  order by seq
  limit $1
  for update skip locked`;

const CLAIM_ONE = `
  select ${COLUMNS} from stripe_events
  where id = $1 and status = 'pending'
  for update skip locked`;

/**
 * How many batches' worth of ready events a claim looks at: the oldest are often another loop's batch in
 * flight, whose keys are busy, and the claim must see past them.
 */
const CLAIM_LOOKAHEAD = 3;

export async function claimReady(client: pg.PoolClient, limit: number): Promise<ClaimedEvent[]> {
  return (await client.query<ClaimedEvent>(CLAIM_READY, [limit, limit * CLAIM_LOOKAHEAD])).rows;
}

/**
 * Claims one event, waiting for its serial key first: used to retry the events of a failed batch one by
 * one. Keys before rows, as in every claim: a row locked while its key is waited for would be skipped
 * by the key's holder, which would apply that customer's newer events first.
 */
export async function claimOne(client: pg.PoolClient, id: string): Promise<ClaimedEvent[]> {
  const { rows } = await client.query<{ serialKey: string }>(
    `select serial_key as "serialKey" from stripe_events where id = $1 and status = 'pending'`,
    [id],
  );
  const key = rows[0]?.serialKey;
  if (key === undefined) return [];
  await lockSerialKey(client, key);
  return (await client.query<ClaimedEvent>(CLAIM_ONE, [id])).rows;
}

export async function lockSerialKey(client: pg.PoolClient, serialKey: string): Promise<void> {
  await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [serialKey]);
}

/** Takes the locks of those keys no other transaction holds, at once; returns the keys it got. */
export async function tryLockSerialKeys(client: pg.PoolClient, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await client.query<{ locked: string[] }>(
    `select array(select key from unnest($1::text[]) key
                  where pg_try_advisory_xact_lock(hashtextextended(key, 0))) as locked`,
    [keys],
  );
  return new Set(rows[0]?.locked ?? []);
}

/** The payloads of the events a batch applies, by event id. */
export async function payloadsOf(
  client: pg.PoolClient,
  ids: string[],
): Promise<Map<string, StripeEventPayload>> {
  if (ids.length === 0) return new Map();
  const { rows } = await client.query<{ id: string; payload: StripeEventPayload }>(
    'select id, payload from stripe_events where id = any($1::text[])',
    [ids],
  );
  return new Map(rows.map((row) => [row.id, row.payload]));
}

/**
 * Settles a batch's events with their outcomes: the statement, to be run with the batch's last others
 * (`writeTogether`), or null for no events.
 */
export function processedMarks(outcomes: Map<string, string>): SQL | null {
  if (outcomes.size === 0) return null;
  return sql`
    update stripe_events set status = 'processed', outcome = o.outcome, processed_at = now(),
      attempts = attempts + 1, last_error = null
    from unnest(${pgArray([...outcomes.keys()])}::text[], ${pgArray([...outcomes.values()])}::text[]) as o(id, outcome)
    where stripe_events.id = o.id
    returning stripe_events.id`;
}

/**
 * The attempt being recorded, counted since the event was received or last replayed: read from the row
 * as the UPDATE finds it, never from an earlier read (see `RECORD_FAILURE`).
 */
const ATTEMPT_SINCE_REPLAY = 'attempts + 1 - replayed_attempts';
const BUDGET_SPENT = `${ATTEMPT_SINCE_REPLAY} >= $3`;

/**
 * One statement, computed from the row itself: a `subledger replay` (`replayed_attempts = attempts`)
 * that commits while this runs is waited for and counted. Read first and written second, the counters
 * overwrote such a replay, and the event was dead-lettered at once ("attempts: 10 (1 since its
 * replay)", dead). `$4` is `delaySeconds` as a table by attempt (1-based); the index is kept inside it.
 */
const RECORD_FAILURE = `
  update stripe_events set attempts = attempts + 1, last_error = $2,
    status = case when ${BUDGET_SPENT} then 'dead' else 'pending' end,
    outcome = case when ${BUDGET_SPENT} then 'dead' else outcome end,
    processed_at = case when ${BUDGET_SPENT} then now() else processed_at end,
    available_at = now() + make_interval(
      secs => ($4::float8[])[least(greatest(${ATTEMPT_SINCE_REPLAY}, 1), cardinality($4::float8[]))])
  where id = $1 and status = 'pending'
  returning status`;

/**
 * Records a failed attempt: the event is retried after `delaySeconds(n)`, n its attempts since it was
 * received or last replayed, or dead-lettered with the error once n reaches `maxAttempts`. An event
 * settled meanwhile is left as it is (`not_pending`).
 */
export async function markFailed(
  pool: pg.Pool,
  id: string,
  error: string,
  delaySeconds: (attempt: number) => number,
  maxAttempts: number,
): Promise<'retry' | 'dead' | 'not_pending'> {
  const delays = Array.from({ length: maxAttempts }, (_, index) => delaySeconds(index + 1));
  const { rows } = await pool.query<{ status: 'pending' | 'dead' }>(RECORD_FAILURE, [
    id,
    error.slice(0, 2000),
    maxAttempts,
    delays,
  ]);
  const status = rows[0]?.status;
  if (status === undefined) return 'not_pending';
  return status === 'dead' ? 'dead' : 'retry';
}
