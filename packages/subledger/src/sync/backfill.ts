import { getTableName } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type Stripe from 'stripe';
import { type Database, databaseNow } from '../store/index.ts';
import { inTransaction } from '../store/transaction.ts';
import { isMissing } from '../stripe/index.ts';
import { objectIdOf, type StripeObject } from './envelope.ts';
import { type ColumnContext, KIND_NAMES, KINDS, type KindName } from './kinds.ts';
import { createLimiter, type Limiter } from './limiter.ts';
import { type ListedPage, listPages } from './listing.ts';
import { type MirrorWrite, writeMirror } from './mirror-writer.ts';
import { mirrorCount, type OnProgress } from './progress.ts';
import type { Place } from './stripe-reads.ts';
import { fetchVersion, onTestClocksAt } from './test-clocks.ts';

export type BackfillOptions = {
  database: Database;
  stripe: Stripe;
  context: ColumnContext;
  place: Place;
  requestsPerSecond: number;
  /** The kinds to read (default: every mirrored kind). */
  kinds?: readonly KindName[];
  onProgress?: OnProgress;
  /** A limiter shared with other readers; else one of `requestsPerSecond` is made. */
  limiter?: Limiter;
  /** Objects per page, 1 … 100 (default 100); each page is one checkpoint. */
  pageSize?: number;
  /** Start over, forgetting an unfinished run of these kinds instead of resuming it. */
  restart?: boolean;
};

export type BackfillResult = {
  /** Objects read and written per kind, including those written before a resumed crash. */
  byKind: Record<string, number>;
  objects: number;
  /** Whether an unfinished run was continued rather than started over. */
  resumed: boolean;
  /**
   * When the continued run began. Objects Stripe lists before its cursor (created since) and changes
   * to those it had read are not read again: the webhooks and reconcile bring them.
   */
  resumedFrom: Date | null;
};

const JOB = 'backfill';

/**
 * Reads every object of the mirrored kinds from Stripe, page by page, into the mirror. Each page is
 * written in one transaction with its checkpoint, so a crash resumes after the last page written; kinds
 * already finished are not read again. Once every kind is finished, or with `restart`, the next run
 * starts over. Checkpoints are kept per kind: a run of some kinds leaves the others' as they are.
 */
export async function backfill(options: BackfillOptions): Promise<BackfillResult> {
  return exclusively(
    options.database.pool,
    `${JOB}:${options.place.stripeAccount}:${options.place.livemode}`,
    () => backfillKinds(options),
  );
}

async function backfillKinds(options: BackfillOptions): Promise<BackfillResult> {
  const { database, place } = options;
  const kinds = options.kinds ?? KIND_NAMES;
  const limiter = options.limiter ?? createLimiter(options.requestsPerSecond);
  const checkpoints = await loadCheckpoints(database.pool, place, kinds);
  const resumedFrom = options.restart ? null : runToResume([...checkpoints.values()]);
  // Kinds finished by an earlier run are read again: "complete" means complete in the run resumed.
  const ofRun = (checkpoint: Checkpoint) => resumedFrom !== null && checkpoint.startedAt >= resumedFrom;
  await clearCheckpoints(
    database.pool,
    place,
    kinds.filter((kind) => {
      const checkpoint = checkpoints.get(kind);
      return checkpoint && !ofRun(checkpoint);
    }),
  );
  const run = { startedAt: resumedFrom ?? (await databaseNow(database.pool)), limiter };
  const byKind: Record<string, number> = {};
  for (const kind of kinds) {
    const found = checkpoints.get(kind);
    const checkpoint = found && ofRun(found) ? found : null;
    byKind[kind] = checkpoint?.completedAt
      ? checkpoint.objects
      : await backfillKind(options, kind, run, checkpoint);
  }
  const objects = Object.values(byKind).reduce((sum, count) => sum + count, 0);
  return { byKind, objects, resumed: resumedFrom !== null, resumedFrom };
}

/**
 * When the unfinished run these checkpoints hold began, or null when none is: every checkpoint of a run
 * carries the run's start, so the kinds it finished are those of that start (or a later run's).
 */
const runToResume = (checkpoints: Checkpoint[]): Date | null =>
  checkpoints
    .filter((checkpoint) => checkpoint.completedAt === null)
    .reduce<Date | null>(
      (first, checkpoint) => (!first || checkpoint.startedAt < first ? checkpoint.startedAt : first),
      null,
    );

/** A backfill run: when it began (every checkpoint it writes carries that), and its request budget. */
type Run = { startedAt: Date; limiter: Limiter };

async function backfillKind(
  options: BackfillOptions,
  kind: KindName,
  { startedAt, limiter }: Run,
  checkpoint: Checkpoint | null,
): Promise<number> {
  const { database, stripe, place } = options;
  const target = { pool: database.pool, stripe, place, context: options.context, limiter };
  const expected = await mirrorCount(database.pool, kind, place);
  let done = checkpoint?.objects ?? 0;
  const clock = () => databaseNow(database.pool);
  const pages = (from: ListPosition | null) =>
    listPages(stripe, kind, place, { limiter, clock, ...from, pageSize: options.pageSize ?? 100 });
  const resumeAt = checkpoint?.lastId
    ? { testClock: checkpoint.testClock, startingAfter: checkpoint.lastId }
    : null;
  for await (const page of restartOnLostCursor(pages, resumeAt, () => {
    done = 0;
  })) {
    done += page.objects.length;
    const position = { testClock: page.testClock, lastId: page.cursor };
    const saveCheckpoint = (client: pg.PoolClient) =>
      saveProgress(client, place, kind, { ...position, objects: done, completed: false, startedAt });
    await writeFetched(target, fetchedOf(page), saveCheckpoint);
    await options.onProgress?.({ job: 'backfill', kind, done, expected, finished: false });
  }
  await inTransaction(database.pool, (client) =>
    saveProgress(client, place, kind, {
      testClock: null,
      lastId: null,
      objects: done,
      completed: true,
      startedAt,
    }),
  );
  await options.onProgress?.({ job: 'backfill', kind, done, expected, finished: true });
  return done;
}

/** Where a checkpoint resumes a kind: after an object, in the account's list or a test clock's. */
type ListPosition = { testClock: string | null; startingAfter: string };

/**
 * A checkpoint's cursor is an object id, maybe in a test clock's list. When that object was deleted
 * since, and every object listed after it too, or its clock was, Stripe answers 404 for it (see
 * `listPages`), at the first page or later, and the kind is read again from the start (the writes are
 * idempotent).
 */
async function* restartOnLostCursor(
  pages: (from: ListPosition | null) => AsyncGenerator<ListedPage>,
  from: ListPosition | null,
  onRestart: () => void,
): AsyncGenerator<ListedPage> {
  try {
    yield* pages(from);
  } catch (error) {
    if (from === null || !isMissing(error)) throw error;
    onRestart();
    yield* pages(null);
  }
}

/** An object read from Stripe, with when it was read: what `writeFetched` needs to write it safely. */
export type FetchedObject = {
  kind: KindName;
  id: string;
  object: StripeObject;
  deleted: boolean;
  /** Stripe's clock at the read, in seconds. */
  asOf: number;
  /** The local time just before the read. */
  readAt: Date;
};

export const fetchedOf = (page: ListedPage): FetchedObject[] =>
  page.objects.map((object) => ({
    kind: page.kind,
    id: objectIdOf(object) ?? String(object.id),
    object,
    deleted: false,
    asOf: page.asOf,
    readAt: page.readAt,
  }));

export type FetchTarget = {
  pool: pg.Pool;
  stripe: Stripe;
  place: Place;
  context: ColumnContext;
  /** The reader's limiter, which the reads of customers the mirror lacks (see `onTestClocks`) keep too. */
  limiter: Limiter;
};

/**
 * Writes objects read from Stripe as `fetch` writes, in one transaction (with `within`, e.g. saving a
 * checkpoint). A read is newer than what a row held when the row was last written before the read
 * began, so such a row takes the read at the version `fetchVersion` gives it: never backwards, and
 * never ahead of a test clock's later events. A row written after the read began may hold something
 * newer and is left alone; the rows are locked meanwhile, as the inbox worker locks them. Returns the
 * ids of the writes that took effect.
 */
export async function writeFetched(
  target: FetchTarget,
  fetched: FetchedObject[],
  within?: (client: pg.PoolClient) => Promise<void>,
): Promise<string[]> {
  const { pool, stripe, place, context } = target;
  const clocked = await onTestClocksAt(
    pool,
    stripe,
    place,
    fetched.map((read) => read.object),
    target.limiter,
  );
  const onClock = new Set(fetched.filter((_, index) => clocked[index]));
  return inTransaction(pool, async (client) => {
    const writes: MirrorWrite[] = [];
    for (const [kind, group] of groupByKind(fetched)) {
      const rows = await lockRows(client, kind, place, group);
      for (const read of group) {
        const row = rows.get(read.id);
        if (row && row.synced_at >= read.readAt) continue;
        writes.push({
          kind,
          id: read.id,
          ...place,
          object: read.object,
          deleted: read.deleted,
          version: fetchVersion(row?.last_event_created ?? 0, read.asOf, onClock.has(read)),
          eventId: null,
          source: 'fetch',
          readAt: read.readAt,
        });
      }
    }
    const written = writes.length > 0 ? await writeMirror(drizzle(client), writes, context) : [];
    await within?.(client);
    return written.map((write) => write.id);
  });
}

type LockedRow = { id: string; last_event_created: number; synced_at: Date };

async function lockRows(client: pg.PoolClient, kind: KindName, place: Place, reads: FetchedObject[]) {
  const { rows } = await client.query<LockedRow>(
    `select id, last_event_created, synced_at from "${getTableName(KINDS[kind].table)}"
     where stripe_account = $1 and livemode = $2 and id = any($3::text[]) order by id for update`,
    [place.stripeAccount, place.livemode, reads.map((read) => read.id)],
  );
  return new Map(rows.map((row) => [row.id, row]));
}

type Checkpoint = {
  kind: string;
  testClock: string | null;
  lastId: string | null;
  objects: number;
  startedAt: Date;
  completedAt: Date | null;
};

async function loadCheckpoints(pool: pg.Pool, place: Place, kinds: readonly KindName[]) {
  const { rows } = await pool.query<Checkpoint>(
    `select kind, test_clock as "testClock", last_id as "lastId", objects, started_at as "startedAt",
            completed_at as "completedAt"
     from sync_checkpoints
     where job = $1 and stripe_account = $2 and livemode = $3 and kind = any($4::text[])`,
    [JOB, place.stripeAccount, place.livemode, kinds],
  );
  return new Map(rows.map((row) => [row.kind, row]));
}

/** Forgets these kinds' checkpoints; other kinds' (an unfinished run of them) are left to resume. */
async function clearCheckpoints(pool: pg.Pool, place: Place, kinds: readonly KindName[]): Promise<void> {
  await pool.query(
    `delete from sync_checkpoints
     where job = $1 and stripe_account = $2 and livemode = $3 and kind = any($4::text[])`,
    [JOB, place.stripeAccount, place.livemode, kinds],
  );
}

async function saveProgress(
  client: pg.PoolClient,
  place: Place,
  kind: KindName,
  progress: {
    testClock: string | null;
    lastId: string | null;
    objects: number;
    completed: boolean;
    /** The run's start, kept from the kind's first page on. */
    startedAt: Date;
  },
): Promise<void> {
  await client.query(
    `insert into sync_checkpoints
       (job, stripe_account, livemode, kind, test_clock, last_id, objects, completed_at, started_at)
     values ($1, $2, $3, $4, $5, $6, $7, case when $8 then now() end, $9)
     on conflict (job, stripe_account, livemode, kind) do update
       set test_clock = excluded.test_clock, last_id = excluded.last_id, objects = excluded.objects,
           completed_at = excluded.completed_at, updated_at = now()`,
    [
      JOB,
      place.stripeAccount,
      place.livemode,
      kind,
      progress.testClock,
      progress.lastId,
      progress.objects,
      progress.completed,
      progress.startedAt,
    ],
  );
}

/** Two backfills of one place would overwrite each other's checkpoints: the second is refused. */
async function exclusively<T>(pool: pg.Pool, name: string, work: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>(
      'select pg_try_advisory_lock(hashtextextended($1, 0)) as locked',
      [`subledger.${name}`],
    );
    if (!rows[0]?.locked) throw new Error(`a backfill of ${name.split(':')[1]} is already running`);
    try {
      return await work();
    } finally {
      await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [`subledger.${name}`]);
    }
  } finally {
    client.release();
  }
}

function groupByKind(fetched: FetchedObject[]): Map<KindName, FetchedObject[]> {
  const groups = new Map<KindName, FetchedObject[]>();
  for (const read of fetched) groups.set(read.kind, [...(groups.get(read.kind) ?? []), read]);
  return groups;
}
