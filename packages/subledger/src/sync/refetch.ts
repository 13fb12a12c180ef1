import { randomUUID } from 'node:crypto';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type Stripe from 'stripe';
import { databaseClock } from '../store/index.ts';
import { inTransaction, isDataError } from '../store/transaction.ts';
import { isLastingRefusal } from '../stripe/index.ts';
import { lockSerialKey, tryLockSerialKeys } from './claim.ts';
import { deauthorizedAmong } from './connected-accounts.ts';
import type { StripeObject } from './envelope.ts';
import { type ColumnContext, isKindName, type KindName } from './kinds.ts';
import type { Limiter } from './limiter.ts';
import { type MirrorWrite, unprovenReads, writeMirror } from './mirror-writer.ts';
import { MAX_ATTEMPTS, retryDelaySeconds } from './ordering.ts';
import {
  freeRefetcherLock,
  hasRefetches,
  holdRefetcherLock,
  type LeasedRefetch,
  leaseRefetches,
  returnRefetches,
  settleRefetches,
} from './refetch-queue.ts';
import { retrieveObject } from './stripe-reads.ts';
import { fetchVersion, onTestClocks } from './test-clocks.ts';
import { missingObject } from './tombstones.ts';
import { objectKeyOf } from './versions.ts';
import { failureReason } from './worker.ts';

export type RefetchDependencies = {
  pool: pg.Pool;
  /** The client for a mode, or null when no key for that mode is configured. */
  stripeFor: (livemode: boolean) => Stripe | null;
  context: ColumnContext;
  /** Every read from Stripe goes through it, so refetches stay inside the configured rate. */
  limiter: Limiter;
  /**
   * Told of reads given up after `MAX_ATTEMPTS` failures, the last of a kind that repeats (see
   * `lastingFailureOf`); their events are dead-lettered.
   */
  onGiveUp?: (given: LeasedRefetch[], error: unknown) => void;
};

export type Served = { written: number; failures: unknown[] };

/**
 * Reads whose serial key was busy when they were to be written, kept by a refetcher for its next lease
 * of the same request. A read stays good until a newer event asks again (the request's generation
 * moves on): it was taken after every event that had asked. Kept this way, a customer whose events a
 * worker is applying costs Stripe one read, not one per try.
 */
export type HeldReads = Map<string, Read>;

/** How long a held read is used, from when it was taken; a request not leased again by then is read anew. */
const HELD_READ_MS = 10_000;

const heldKey = (row: LeasedRefetch) => objectKeyOf(row.objectType as KindName, row, row.objectId);

type Failed = { row: LeasedRefetch; error: unknown };

/** What one step leased and read: the reads, the reads that failed, and what cannot be read. */
type Batch = { leased: LeasedRefetch[]; reads: Read[]; failed: Failed[]; unfetchable: LeasedRefetch[] };

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
  options: { waitForKeys?: boolean; held?: HeldReads } = {},
): Promise<Served> {
  if (leased.length === 0) return { written: 0, failures: [] };
  // An object of a mode no key is configured for, or of a connected account that revoked the platform's
  // access (Stripe answers 403 until it grants it again), cannot be read: retrying would keep it queued
  // forever, so it is settled `unfetchable` (its events stay in the inbox for replay).
  const revoked = new Set(await deauthorizedAmong(deps.pool, leased));
  const readable = (row: LeasedRefetch) =>
    isKindName(row.objectType) && deps.stripeFor(row.livemode) !== null && !revoked.has(row);
  const readableRows = leased.filter(readable);
  const clock = await databaseClock(deps.pool);
  const attempts = await Promise.allSettled(
    readableRows.map((row) => heldRead(options.held, row) ?? deps.limiter(() => readRow(deps, row, clock))),
  );
  const reads: Read[] = [];
  const failed: Failed[] = [];
  attempts.forEach((attempt, index) => {
    if (attempt.status === 'fulfilled') reads.push(attempt.value);
    else failed.push({ row: readableRows[index] as LeasedRefetch, error: attempt.reason });
  });
  const batch: Batch = { leased, reads, failed, unfetchable: leased.filter((row) => !readable(row)) };
  try {
    const outcome = await writeReads(deps, refetcher, batch, options);
    holdReads(options.held, reads, outcome.busy);
    reportGivenUp(deps, ...outcome.givenUp);
    return { written: outcome.written, failures: failed.map((failure) => failure.error) };
  } catch (error) {
    // The failure may be one read's: it must not count against, nor hold back, what shared its write.
    if (reads.length > 0 && leased.length > 1) return writeOneByOne(deps, refetcher, batch, options);
    // Leases are never taken again by the refetcher holding them: hand them back, to be retried.
    reportGivenUp(deps, await returnFailed(deps.pool, refetcher, leased, error));
    throw error;
  }
}

/**
 * After a batch's write failed: each read written in a transaction of its own, so that one the database
 * refuses is handed back with its error and backoff, alone, as the worker retries a failed batch's
 * events; the others are written. A database that is down fails the first, and the error goes up.
 */
async function writeOneByOne(
  deps: RefetchDependencies,
  refetcher: string,
  batch: Batch,
  options: { waitForKeys?: boolean; held?: HeldReads },
): Promise<Served> {
  let written = 0;
  const busy: Read[] = [];
  const failures = batch.failed.map((failure) => failure.error);
  for (const read of batch.reads) {
    const alone = { leased: [read.row], reads: [read], failed: [], unfetchable: [] };
    try {
      const outcome = await writeReads(deps, refetcher, alone, options);
      written += outcome.written;
      busy.push(...outcome.busy);
      reportGivenUp(deps, ...outcome.givenUp);
    } catch (error) {
      reportGivenUp(deps, await returnFailed(deps.pool, refetcher, [read.row], error));
      failures.push(error);
    }
  }
  const readRows = new Set(batch.reads.map((read) => read.row));
  const unread = { ...batch, leased: batch.leased.filter((row) => !readRows.has(row)), reads: [] };
  reportGivenUp(deps, ...(await writeReads(deps, refetcher, unread, options)).givenUp);
  holdReads(options.held, batch.reads, busy);
  return { written, failures };
}

/** The read a refetcher holds for this lease's request, if it is still good. */
function heldRead(held: HeldReads | undefined, row: LeasedRefetch): Promise<Read> | null {
  const read = held?.get(heldKey(row));
  if (!read || read.row.generation !== row.generation || isStale(read)) return null;
  return Promise.resolve({ ...read, row });
}

const isStale = (read: Read) => Date.now() - read.takenAt > HELD_READ_MS;

/** Keeps the reads whose key was busy; lets go of the others and of any held too long. */
function holdReads(held: HeldReads | undefined, reads: Read[], busy: Read[]): void {
  if (!held) return;
  for (const read of reads) held.delete(heldKey(read.row));
  for (const [key, read] of held) if (isStale(read)) held.delete(key);
  for (const read of busy) if (!isStale(read)) held.set(heldKey(read.row), read);
}

/**
 * Writes a batch's reads under their keys' locks, and settles or hands back every lease, at once.
 * Returns how many were written, and the reads whose key another transaction held.
 */
async function writeReads(
  deps: RefetchDependencies,
  refetcher: string,
  batch: Batch,
  options: { waitForKeys?: boolean },
): Promise<{ written: number; busy: Read[]; givenUp: GivenUp[] }> {
  const { leased, reads, failed, unfetchable } = batch;
  const writes = await writesOf(deps, reads);
  const fetched = reads.map((read, index) => ({ row: read.row, read, write: writes[index] as MirrorWrite }));
  return inTransaction(deps.pool, async (client) => {
    const keys = [...new Set(fetched.map((done) => done.row.serialKey))];
    const locked = options.waitForKeys ? await lockAll(client, keys) : await tryLockSerialKeys(client, keys);
    const writable = fetched.filter((done) => locked.has(done.row.serialKey));
    const writes = writable.map((done) => done.write);
    const db = drizzle(client);
    const written = await writeMirror(db, writes, deps.context);
    // A read that cannot be proven newer than its row stays leased, so it is handed back and read again.
    const unproven = new Set(await unprovenReads(db, writes, written));
    await settleRefetches(
      client,
      writable.filter((done) => !unproven.has(done.write)).map((done) => done.row),
      'refetched',
    );
    await settleRefetches(client, unfetchable, 'unfetchable');
    const givenUp: GivenUp[] = [];
    for (const { row, error } of failed) givenUp.push(await returnFailed(client, refetcher, [row], error));
    // Whatever is still leased (a key that was busy, a request made while we read) is ready again.
    await returnRefetches(client, refetcher, leased);
    const busy = fetched.filter((done) => !locked.has(done.row.serialKey)).map((done) => done.read);
    return { written: writable.length - unproven.size, busy, givenUp };
  });
}

/** Reads handed back after failing, and the error; those given up for good among them. */
type GivenUp = { rows: LeasedRefetch[]; error: unknown };

async function returnFailed(
  client: pg.ClientBase | pg.Pool,
  refetcher: string,
  rows: LeasedRefetch[],
  error: unknown,
): Promise<GivenUp> {
  // An outage, a rate limit or a deadlock passes: its reads back off (an hour at most), never given up.
  const failing = lastingFailureOf(error);
  const failure = {
    error: failureReason(error),
    delaySeconds: retryDelaySeconds,
    maxAttempts: failing ? MAX_ATTEMPTS : Number.POSITIVE_INFINITY,
    failing: failing ?? 'the read failed',
  };
  return { rows: await returnRefetches(client, refetcher, rows, failure), error };
}

/**
 * What a failed read will meet again however long it waits, or null for a failure that may pass (an
 * outage, a rate limit, a deadlock, a lock timeout): Stripe refusing the read (a 4xx), or Postgres
 * refusing the object read (`isDataError`: a quantity beyond its column, a \u0000 jsonb cannot hold).
 */
export function lastingFailureOf(error: unknown): string | null {
  if (isLastingRefusal(error)) return "Stripe refused the object's read";
  if (isDataError(error)) return 'Postgres refused to store the object';
  return null;
}

/** Once the transaction that gave them up has committed. */
function reportGivenUp(deps: RefetchDependencies, ...given: GivenUp[]): void {
  for (const { rows, error } of given) if (rows.length > 0) deps.onGiveUp?.(rows, error);
}

async function lockAll(client: pg.PoolClient, keys: string[]): Promise<Set<string>> {
  for (const key of keys.sort()) await lockSerialKey(client, key);
  return new Set(keys);
}

/** How long `refetchNow` waits for reads of its key that another refetcher is doing. */
const OTHERS_READS_WAIT_MS = 10_000;

/**
 * Reads a serial key's pending refetches now, waiting for the key (the background refetcher does the
 * same for every key). A read of the key that another live refetcher has leased is waited for (up to
 * 10 s), so that on return the key has nothing left to read. Throws the first failed read, after
 * writing the others.
 */
export async function refetchNow(deps: RefetchDependencies, serialKey: string): Promise<number> {
  const refetcher = randomUUID();
  const session = await deps.pool.connect();
  let healthy = true;
  try {
    await holdRefetcherLock(session, refetcher);
    const deadline = Date.now() + OTHERS_READS_WAIT_MS;
    let written = 0;
    for (;;) {
      const leased = await leaseRefetches(deps.pool, refetcher, { limit: 1000, serialKey });
      const served = await serveRefetches(deps, refetcher, leased, { waitForKeys: true });
      if (served.failures.length > 0) throw served.failures[0];
      written += served.written;
      if (!(await hasRefetches(deps.pool, serialKey)) || Date.now() > deadline) return written;
      if (leased.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await freeRefetcherLock(session, refetcher).catch(() => {
      healthy = false;
    });
    // A session that could not unlock is closed rather than returned to the pool holding the lock.
    session.release(!healthy);
  }
}

type Read = {
  row: LeasedRefetch;
  object: StripeObject;
  deleted: boolean;
  asOf: number | null;
  /** `Date.now()` when Stripe was asked, for how long the read may be held. */
  takenAt: number;
  /** When Stripe was asked, by the database's clock (`databaseNow`), for the mirror's ordering rule. */
  readAt: Date;
};

async function readRow(deps: RefetchDependencies, row: LeasedRefetch, clock: () => Date): Promise<Read> {
  const stripe = deps.stripeFor(row.livemode) as Stripe;
  const kind = row.objectType as KindName;
  const place = { stripeAccount: row.stripeAccount, livemode: row.livemode };
  const readAt = clock();
  const takenAt = Date.now();
  const fetched = await retrieveObject(stripe, kind, row.objectId, place);
  const object = fetched.object ?? missingObject(kind, row.objectId);
  return { row, object, deleted: fetched.deleted, asOf: fetched.asOf, takenAt, readAt };
}

/** The mirror writes of a batch's reads, each versioned by `fetchVersion`. */
async function writesOf(deps: RefetchDependencies, reads: Read[]): Promise<MirrorWrite[]> {
  const clocked = await onTestClocks(
    deps.pool,
    (livemode) => deps.stripeFor(livemode) as Stripe,
    reads.map((read) => ({ object: read.object, place: read.row })),
    deps.limiter,
  );
  return reads.map((read, index) => ({
    kind: read.row.objectType as KindName,
    id: read.row.objectId,
    stripeAccount: read.row.stripeAccount,
    livemode: read.row.livemode,
    object: read.object,
    deleted: read.deleted,
    version: fetchVersion(read.row.knownCreated, read.asOf, clocked[index] === true),
    eventId: null,
    source: 'fetch',
    readAt: read.readAt,
  }));
}
