import { randomUUID } from 'node:crypto';
import { getTableName } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type Stripe from 'stripe';
import * as schema from '../store/schema/index.ts';
import { inTransaction } from '../store/transaction.ts';
import { lockSerialKey, tryLockSerialKeys } from './claim.ts';
import { idOf, type StripeObject } from './envelope.ts';
import { type ColumnContext, isKindName, KINDS, type KindName } from './kinds.ts';
import type { Limiter } from './listing.ts';
import { type MirrorWrite, writeMirror } from './mirror-writer.ts';
import { retryDelaySeconds } from './ordering.ts';
import {
  freeRefetcherLock,
  holdRefetcherLock,
  type LeasedRefetch,
  leaseRefetches,
  returnRefetches,
  settleRefetches,
} from './refetch-queue.ts';
import { retrieveObject } from './stripe-reads.ts';
import { failureReason } from './worker.ts';

export type RefetchDependencies = {
  pool: pg.Pool;
  /** The client for a mode, or null when no key for that mode is configured. */
  stripeFor: (livemode: boolean) => Stripe | null;
  context: ColumnContext;
  /** Every read from Stripe goes through it, so refetches stay inside the configured rate. */
  limiter: Limiter;
};

export type Served = { written: number; failures: unknown[] };

/**
 * Reads leased refetches from Stripe side by side, then writes them in one transaction under their
 * serial keys' locks, and settles or hands back each lease. A read taken after every event we knew of is
 * at least as new as those events (see `fetchVersion`). A key another transaction holds is not waited
 * for (that could deadlock with a worker's batch) unless `waitForKeys`: its reads are handed back and
 * taken again. A failed read is handed back with backoff; the others are written regardless.
 */
export async function serveRefetches(
  deps: RefetchDependencies,
  refetcher: string,
  leased: LeasedRefetch[],
  options: { waitForKeys?: boolean } = {},
): Promise<Served> {
  if (leased.length === 0) return { written: 0, failures: [] };
  // An object of a mode no key is configured for can never be read: retrying would keep it queued
  // forever, so it is settled `unfetchable` (its events stay in the inbox for replay).
  const readable = (row: LeasedRefetch) =>
    isKindName(row.objectType) && deps.stripeFor(row.livemode) !== null;
  const readableRows = leased.filter(readable);
  const clocks = new Map<string, boolean>();
  const reads = await Promise.allSettled(
    readableRows.map((row) => deps.limiter(() => fetchWrite(deps, row, clocks))),
  );
  const fetched: { row: LeasedRefetch; write: MirrorWrite }[] = [];
  const failed: { row: LeasedRefetch; error: unknown }[] = [];
  reads.forEach((read, index) => {
    const row = readableRows[index] as LeasedRefetch;
    if (read.status === 'fulfilled') fetched.push({ row, write: read.value });
    else failed.push({ row, error: read.reason });
  });
  let written = 0;
  await inTransaction(deps.pool, async (client) => {
    const keys = [...new Set(fetched.map((done) => done.row.serialKey))];
    const locked = options.waitForKeys ? await lockAll(client, keys) : await tryLockSerialKeys(client, keys);
    const writable = fetched.filter((done) => locked.has(done.row.serialKey));
    await writeMirror(
      drizzle(client, { schema }),
      writable.map((done) => done.write),
      deps.context,
    );
    await settleRefetches(
      client,
      writable.map((done) => done.row),
      'refetched',
    );
    await settleRefetches(
      client,
      leased.filter((row) => !readable(row)),
      'unfetchable',
    );
    for (const { row, error } of failed)
      await returnRefetches(client, refetcher, [row], {
        error: failureReason(error),
        delaySeconds: retryDelaySeconds,
      });
    // Whatever is still leased (a key that was busy, a request made while we read) is ready again.
    await returnRefetches(client, refetcher, leased);
    written = writable.length;
  });
  return { written, failures: failed.map((failure) => failure.error) };
}

async function lockAll(client: pg.PoolClient, keys: string[]): Promise<Set<string>> {
  for (const key of keys.sort()) await lockSerialKey(client, key);
  return new Set(keys);
}

/**
 * Reads a serial key's pending refetches now, waiting for the key (the background refetcher does the
 * same for every key). Throws the first failed read, after writing the others.
 */
export async function refetchNow(deps: RefetchDependencies, serialKey: string): Promise<number> {
  const refetcher = randomUUID();
  const session = await deps.pool.connect();
  let healthy = true;
  try {
    await holdRefetcherLock(session, refetcher);
    const leased = await leaseRefetches(deps.pool, refetcher, { limit: 1000, serialKey });
    const served = await serveRefetches(deps, refetcher, leased, { waitForKeys: true });
    if (served.failures.length > 0) throw served.failures[0];
    return served.written;
  } finally {
    await freeRefetcherLock(session, refetcher).catch(() => {
      healthy = false;
    });
    // A session that could not unlock is closed rather than returned to the pool holding the lock.
    session.release(!healthy);
  }
}

async function fetchWrite(
  deps: RefetchDependencies,
  row: LeasedRefetch,
  clocks: Map<string, boolean>,
): Promise<MirrorWrite> {
  const stripe = deps.stripeFor(row.livemode) as Stripe;
  const kind = row.objectType as KindName;
  const place = { stripeAccount: row.stripeAccount, livemode: row.livemode };
  const fetched = await retrieveObject(stripe, kind, row.objectId, place);
  const object = fetched.object ?? { id: row.objectId, object: kind, deleted: true };
  const onClock = await isOnTestClock(deps.pool, stripe, object, place, clocks);
  return {
    kind,
    id: row.objectId,
    ...place,
    object,
    deleted: fetched.deleted,
    version: fetchVersion(row.knownCreated, fetched.asOf, onClock),
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
