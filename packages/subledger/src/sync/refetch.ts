import { getTableName } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type Stripe from 'stripe';
import * as schema from '../store/schema/index.ts';
import { inTransaction } from '../store/transaction.ts';
import { lockSerialKey } from './claim.ts';
import { idOf, type StripeObject } from './envelope.ts';
import { type ColumnContext, isKindName, KINDS, type KindName } from './kinds.ts';
import { type MirrorWrite, writeMirror } from './mirror-writer.ts';
import { retrieveObject } from './stripe-reads.ts';

export type RefetchRequest = {
  kind: KindName;
  id: string;
  stripeAccount: string;
  livemode: boolean;
  serialKey: string;
  knownCreated: number;
  reason: string;
};

/** The job that reads a serial key's pending refetches from Stripe. */
export const REFETCH_TASK = 'subledger_refetch';

// A short delay lets a burst of events for one customer join the job before it runs: one fetch each.
const COALESCE_DELAY = "interval '200 milliseconds'";

/** Records objects to read from Stripe and schedules one job per serial key, in the caller's transaction. */
export async function requestRefetches(client: pg.PoolClient, requests: RefetchRequest[]): Promise<void> {
  if (requests.length === 0) return;
  const column = <T>(read: (request: RefetchRequest) => T) => requests.map(read);
  await client.query(
    `insert into sync_refetches (object_type, object_id, stripe_account, livemode, serial_key, known_created, reason)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::text[], $6::bigint[], $7::text[])
     on conflict (object_type, object_id, stripe_account, livemode) do update
       set known_created = greatest(sync_refetches.known_created, excluded.known_created),
           reason = excluded.reason, serial_key = excluded.serial_key, requested_at = now(),
           generation = nextval(pg_get_serial_sequence('sync_refetches', 'generation'))`,
    [
      column((request) => request.kind),
      column((request) => request.id),
      column((request) => request.stripeAccount),
      column((request) => request.livemode),
      column((request) => request.serialKey),
      column((request) => request.knownCreated),
      column((request) => request.reason),
    ],
  );
  await client.query(
    `select graphile_worker.add_job('${REFETCH_TASK}', json_build_object('serialKey', key),
       run_at := now() + ${COALESCE_DELAY}, job_key := 'refetch:' || key, job_key_mode := 'preserve_run_at',
       max_attempts := 25)
     from (select distinct unnest($1::text[]) as key) keys`,
    [[...new Set(column((request) => request.serialKey))]],
  );
}

export type RefetchDependencies = {
  pool: pg.Pool;
  /** The client for a mode, or null when no key for that mode is configured. */
  stripeFor: (livemode: boolean) => Stripe | null;
  context: ColumnContext;
};

type PendingRow = {
  object_type: string;
  object_id: string;
  stripe_account: string;
  livemode: boolean;
  known_created: number;
  generation: number;
};

/**
 * Runs a serial key's refetch job while holding a session advisory lock named after the job's id: the
 * sign, visible to every process, that a live worker is on it. A process killed mid-job (SIGKILL, OOM, a
 * lost host) loses its session and with it the lock, so `releaseStrandedRefetches` can tell its job
 * apart from one that is merely slow. The id, not the job key, names it: graphile-worker clears the key
 * of a running job when the same key is queued again. Without a job (a direct call) there is no marker.
 */
export async function runRefetch(
  deps: RefetchDependencies,
  serialKey: string,
  jobId?: string,
): Promise<number> {
  if (jobId === undefined) return refetchPending(deps, serialKey);
  const marker = await deps.pool.connect();
  let healthy = true;
  try {
    await marker.query('select pg_advisory_lock(hashtextextended($1, 0))', [runningLockOf(jobId)]);
    try {
      return await refetchPending(deps, serialKey);
    } finally {
      await marker
        .query('select pg_advisory_unlock(hashtextextended($1, 0))', [runningLockOf(jobId)])
        .catch(() => {
          healthy = false;
        });
    }
  } finally {
    // A session that could not unlock is closed rather than returned to the pool holding the lock.
    marker.release(!healthy);
  }
}

const runningLockOf = (jobId: string) => `running:job:${jobId}`;

/**
 * graphile-worker frees the jobs of a worker that died only after four hours (its `resetLockedAt`), so
 * an object whose refetch job was taken by a killed process would stay stale that long. A refetch job
 * locked for more than `graceSeconds` whose running lock nobody holds belongs to a dead worker: that
 * worker's jobs are unlocked (graphile-worker's own `force_unlock_workers`) and run again elsewhere.
 * The grace covers the moment between graphile-worker taking a job and the task taking its lock; if a
 * live but stalled worker is unlocked by mistake, the job merely runs twice, which a refetch allows.
 * Returns how many workers were found dead.
 */
export async function releaseStrandedRefetches(pool: pg.Pool, graceSeconds = 5): Promise<number> {
  const result = await pool.query<{ workers: string[] }>(
    `with stranded as (
       select distinct locked_by from graphile_worker.jobs
       where task_identifier = $1 and locked_by is not null and locked_at < now() - make_interval(secs => $2)
         and pg_try_advisory_xact_lock(hashtextextended('running:job:' || id, 0))
     ), released as (
       select graphile_worker.force_unlock_workers(array(select locked_by from stranded))
     )
     select array(select locked_by from stranded) as workers from released`,
    [REFETCH_TASK, graceSeconds],
  );
  return result.rows[0]?.workers.length ?? 0;
}

/** Checks for stranded refetch jobs every `everyMs` until the returned function is called. */
export function watchStrandedRefetches(
  pool: pg.Pool,
  onError: (error: unknown) => void,
  everyMs = 2_000,
): () => void {
  const check = () => void releaseStrandedRefetches(pool).catch(onError);
  check();
  const timer = setInterval(check, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Reads every pending object of a serial key from Stripe, then writes them under the key's lock. A read
 * taken after every event we knew of is at least as new as those events (see `fetchVersion`).
 */
async function refetchPending(deps: RefetchDependencies, serialKey: string): Promise<number> {
  const pending = (
    await deps.pool.query<PendingRow>(
      `select object_type, object_id, stripe_account, livemode, known_created, generation
       from sync_refetches where serial_key = $1`,
      [serialKey],
    )
  ).rows.filter((row) => isKindName(row.object_type));
  if (pending.length === 0) return 0;
  // An object of a mode no key is configured for can never be read: retrying would block its customer's
  // other refetches forever, so it is settled `unfetchable` (its events stay in the inbox for replay).
  const unfetchable = pending.filter((row) => !deps.stripeFor(row.livemode));
  const fetched: PendingRow[] = [];
  const writes: MirrorWrite[] = [];
  const failures: unknown[] = [];
  const clocks = new Map<string, boolean>();
  for (const row of pending.filter((candidate) => deps.stripeFor(candidate.livemode))) {
    try {
      writes.push(await fetchWrite(deps, row, clocks));
      fetched.push(row);
    } catch (error) {
      failures.push(error);
    }
  }
  await inTransaction(deps.pool, async (client) => {
    await lockSerialKey(client, serialKey);
    await writeMirror(drizzle(client, { schema }), writes, deps.context);
    await settleRefetches(client, fetched, 'refetched');
    await settleRefetches(client, unfetchable, 'unfetchable');
  });
  // What was read is written; the job is retried (with backoff) for the rest only.
  if (failures.length > 0) throw failures[0];
  return writes.length;
}

/** Clears the refetch requests this job read (not newer ones), and records the outcome on their events. */
async function settleRefetches(client: pg.PoolClient, rows: PendingRow[], outcome: string) {
  if (rows.length === 0) return;
  await client.query(
    `with done as (
       delete from sync_refetches r
       using unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[]) as d(t, i, a, l, g)
       where r.object_type = d.t and r.object_id = d.i and r.stripe_account = d.a and r.livemode = d.l
         and r.generation = d.g
       returning r.object_type, r.object_id
     )
     update stripe_events e set outcome = $6
     from done where e.object_type = done.object_type and e.object_id = done.object_id and e.outcome = 'refetch'`,
    [
      rows.map((row) => row.object_type),
      rows.map((row) => row.object_id),
      rows.map((row) => row.stripe_account),
      rows.map((row) => row.livemode),
      rows.map((row) => row.generation),
      outcome,
    ],
  );
}

async function fetchWrite(
  deps: RefetchDependencies,
  row: PendingRow,
  clocks: Map<string, boolean>,
): Promise<MirrorWrite> {
  const stripe = deps.stripeFor(row.livemode) as Stripe;
  const kind = row.object_type as KindName;
  const place = { stripeAccount: row.stripe_account, livemode: row.livemode };
  const fetched = await retrieveObject(stripe, kind, row.object_id, place);
  const object = fetched.object ?? { id: row.object_id, object: kind, deleted: true };
  const onClock = await isOnTestClock(deps.pool, stripe, object, place, clocks);
  return {
    kind,
    id: row.object_id,
    ...place,
    object,
    deleted: fetched.deleted,
    version: fetchVersion(row.known_created, fetched.asOf, onClock),
    eventId: null,
    source: 'fetch',
  };
}

/**
 * The version of an object read from Stripe. Normally the later of the newest event known for it and
 * Stripe's clock at the read, which orders the read against events still on their way. Events of
 * objects on a test clock carry the clock's time, though, which stands still while Stripe's clock runs
 * on (or runs ahead of it after an advance): the `Date` of a read cannot be compared with them, and
 * taking it made every later event of the object look stale, so its changes were lost until a
 * reconcile. Such a read is versioned by the newest event known instead. An event created between that
 * one and the read may then still be applied after it, briefly showing a state the read had passed,
 * until the newest event, which every change before the read has, is applied in turn.
 */
export function fetchVersion(knownCreated: number, asOf: number | null, onTestClock: boolean): number {
  return onTestClock ? knownCreated : Math.max(knownCreated, asOf ?? 0);
}

/**
 * Whether an object lives on a test clock: it names one (customers, subscriptions, invoices) or its
 * customer does, as the mirror has that customer (else as Stripe does). `clocks` caches per customer.
 */
export async function isOnTestClock(
  pool: pg.Pool,
  stripe: Stripe,
  object: StripeObject,
  place: { stripeAccount: string; livemode: boolean },
  clocks: Map<string, boolean>,
): Promise<boolean> {
  if (place.livemode) return false;
  if ('test_clock' in object) return idOf(object.test_clock) !== null;
  const customer = idOf(object.customer);
  if (!customer) return false;
  const known = clocks.get(customer);
  if (known !== undefined) return known;
  const { rows } = await pool.query<{ clock: unknown }>(
    `select data->'test_clock' as clock from "${getTableName(KINDS.customer.table)}"
     where id = $1 and stripe_account = $2 and livemode = $3`,
    [customer, place.stripeAccount, place.livemode],
  );
  const clock = rows[0]
    ? idOf(rows[0].clock)
    : idOf((await retrieveObject(stripe, 'customer', customer, place)).object?.test_clock);
  clocks.set(customer, clock !== null);
  return clock !== null;
}
