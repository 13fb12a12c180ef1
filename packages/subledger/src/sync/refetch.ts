import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type Stripe from 'stripe';
import * as schema from '../store/schema/index.ts';
import { lockSerialKey } from './claim.ts';
import { type ColumnContext, isKindName, type KindName } from './kinds.ts';
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
           reason = excluded.reason, serial_key = excluded.serial_key, requested_at = now()`,
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
};

/**
 * Reads every pending object of a serial key from Stripe, then writes them under the key's lock. A read
 * taken after every event we knew of is at least as new as those events, and Stripe's clock at the
 * read (the `Date` header) orders it against events still on their way.
 */
export async function runRefetch(deps: RefetchDependencies, serialKey: string): Promise<number> {
  const readAt = new Date();
  const pending = (
    await deps.pool.query<PendingRow>(
      'select object_type, object_id, stripe_account, livemode, known_created from sync_refetches where serial_key = $1',
      [serialKey],
    )
  ).rows.filter((row) => isKindName(row.object_type));
  if (pending.length === 0) return 0;
  const writes: MirrorWrite[] = [];
  for (const row of pending) writes.push(await fetchWrite(deps, row));
  const client = await deps.pool.connect();
  try {
    await client.query('begin');
    await lockSerialKey(client, serialKey);
    await writeMirror(drizzle(client, { schema }), writes, deps.context);
    await client.query(
      `with done as (
         delete from sync_refetches r using unnest($1::text[], $2::text[], $3::text[], $4::boolean[]) as d(t, i, a, l)
         where r.object_type = d.t and r.object_id = d.i and r.stripe_account = d.a and r.livemode = d.l
           and r.requested_at <= $5
         returning r.object_type, r.object_id
       )
       update stripe_events e set outcome = 'refetched'
       from done where e.object_type = done.object_type and e.object_id = done.object_id and e.outcome = 'refetch'`,
      [
        pending.map((row) => row.object_type),
        pending.map((row) => row.object_id),
        pending.map((row) => row.stripe_account),
        pending.map((row) => row.livemode),
        readAt,
      ],
    );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
  return writes.length;
}

async function fetchWrite(deps: RefetchDependencies, row: PendingRow): Promise<MirrorWrite> {
  const stripe = deps.stripeFor(row.livemode);
  if (!stripe)
    throw new Error(`no Stripe key for ${row.livemode ? 'live' : 'test'} mode to read ${row.object_id}`);
  const kind = row.object_type as KindName;
  const place = { stripeAccount: row.stripe_account, livemode: row.livemode };
  const fetched = await retrieveObject(stripe, kind, row.object_id, place);
  return {
    kind,
    id: row.object_id,
    ...place,
    object: fetched.object ?? { id: row.object_id, object: kind, deleted: true },
    deleted: fetched.deleted,
    version: Math.max(row.known_created, fetched.asOf ?? 0),
    eventId: null,
    source: 'fetch',
  };
}
