import { getTableName } from 'drizzle-orm';
import type { CronItem, Task, TaskList } from 'graphile-worker';
import type pg from 'pg';
import type Stripe from 'stripe';
import { type Database, databaseNow, PLATFORM } from '../store/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { type FetchedObject, fetchedOf, writeFetched } from './backfill.ts';
import { deauthorizedAmong } from './connected-accounts.ts';
import { type DriftItem, driftOf, type MirrorState } from './drift.ts';
import { everyMinutes } from './jobs.ts';
import { type ColumnContext, KIND_NAMES, KINDS, type KindName } from './kinds.ts';
import { createLimiter, type Limiter, listPages, retrieveListed } from './listing.ts';
import { mirrorCount, type OnProgress } from './progress.ts';
import { relinkRows } from './relink.ts';
import type { Place } from './stripe-reads.ts';
import { missingObject } from './tombstones.ts';

export type ReconcileOptions = {
  database: Database;
  stripe: Stripe;
  context: ColumnContext;
  place: Place;
  /** Write Stripe's state over the drift found (tombstones for objects Stripe no longer has). */
  fix: boolean;
  requestsPerSecond: number;
  kinds?: readonly KindName[];
  onProgress?: OnProgress;
  limiter?: Limiter;
};

export type ReconcileResult = {
  /** Objects compared per kind. */
  checked: Record<string, number>;
  drift: DriftItem[];
  /** Drift items whose fix was written (a row rewritten meanwhile, by a newer event, is left to it). */
  fixed: number;
};

/** The graphile-worker task that reconciles on a schedule. */
export const RECONCILE_TASK = 'subledger_reconcile';

/**
 * The scheduled reconcile: a task that reconciles with fixes and logs what drifted (a missed webhook, a
 * change Stripe sends no event for), and its crontab entry, every `minutes` minutes. It covers the
 * platform and every connected account the mirror holds objects of, in the place's mode, each on its own,
 * less those recorded as having revoked the platform's access (`reconcilablePlaces`): a place that fails
 * (an account that revoked access without our hearing of it answers every request 403) is logged and
 * the others are still reconciled; the job then fails naming those places, so that it is retried and seen.
 * The job runs in a queue of its own, so a reconcile slower than the interval never runs beside the next
 * one; runs missed while no worker was up are not made up. Without a Stripe client, or with `minutes` 0,
 * nothing is scheduled.
 */
export function scheduledReconcile(
  options: Omit<ReconcileOptions, 'fix' | 'onProgress'> | null,
  minutes: number,
  logger: Logger,
): { tasks: TaskList; schedules: CronItem[] } {
  if (!options) return { tasks: {}, schedules: [] };
  const task: Task = async () => {
    const failures: PlaceFailure[] = [];
    for (const place of await reconcilablePlaces(options.database.pool, options.place.livemode, logger)) {
      const failure = await reconcileLogged({ ...options, place, fix: true }, logger);
      if (failure) failures.push(failure);
    }
    if (failures.length > 0) throw placesFailed(failures, options.place.livemode);
  };
  if (minutes === 0) return { tasks: { [RECONCILE_TASK]: task }, schedules: [] };
  return {
    tasks: { [RECONCILE_TASK]: task },
    schedules: [
      {
        task: RECONCILE_TASK,
        identifier: RECONCILE_TASK,
        match: everyMinutes(minutes),
        options: { queueName: RECONCILE_TASK, jobKey: RECONCILE_TASK, maxAttempts: 3 },
      },
    ],
  };
}

/** The platform, then each connected account the mirror holds objects of, in one mode. */
export async function mirroredPlaces(pool: pg.Pool, livemode: boolean): Promise<Place[]> {
  const accounts = KIND_NAMES.map(
    (kind) => `select stripe_account from "${getTableName(KINDS[kind].table)}" where livemode = $1`,
  ).join(' union ');
  const { rows } = await pool.query<{ stripe_account: string }>(accounts, [livemode]);
  const connected = rows.map((row) => row.stripe_account).filter((account) => account !== PLATFORM);
  return [PLATFORM, ...connected.sort()].map((stripeAccount) => ({ stripeAccount, livemode }));
}

/**
 * The mirrored places, less the connected accounts that revoked the platform's access: Stripe would
 * refuse every request for them (403) until they grant it again, and their mirror rows are kept as their
 * history. Those left out are logged, in one line per run.
 */
async function reconcilablePlaces(pool: pg.Pool, livemode: boolean, logger: Logger): Promise<Place[]> {
  const places = await mirroredPlaces(pool, livemode);
  const revoked = await deauthorizedAmong(pool, places);
  if (revoked.length === 0) return places;
  const accounts = revoked.map((place) => place.stripeAccount);
  logger.info(
    { deauthorized: accounts },
    `reconcile: leaving out ${accounts.join(', ')}: access revoked (account.application.deauthorized)`,
  );
  return places.filter((place) => !revoked.includes(place));
}

type PlaceFailure = { place: Place; error: unknown };

/** Reconciles one place and logs the outcome; a failure is logged and handed back, not thrown. */
async function reconcileLogged(options: ReconcileOptions, logger: Logger): Promise<PlaceFailure | null> {
  const placeLogger = logger.child({ stripeAccount: options.place.stripeAccount });
  try {
    logResult(await reconcile(options), placeLogger);
    return null;
  } catch (error) {
    placeLogger.error({ err: error }, 'reconcile: this place failed; the other places go on');
    return { place: options.place, error };
  }
}

/** The error that fails the scheduled job, naming each place that failed; their errors are its `errors`. */
function placesFailed(failures: PlaceFailure[], livemode: boolean): AggregateError {
  const accounts = failures.map((failure) => failure.place.stripeAccount).join(', ');
  return new AggregateError(
    failures.map((failure) => failure.error),
    `reconcile failed in ${livemode ? 'live' : 'test'} mode for ${accounts}; the other places were reconciled`,
  );
}

function logResult(result: ReconcileResult, logger: Logger): void {
  const checked = Object.values(result.checked).reduce((sum, count) => sum + count, 0);
  if (result.drift.length === 0) {
    logger.info({ checked }, 'reconcile: the mirror equals Stripe');
    return;
  }
  const { drift, fixed } = result;
  const sample = drift.slice(0, 20);
  logger.warn(
    { checked, drift: drift.length, fixed, byKind: countByKind(drift), sample },
    'reconcile: drift found and fixed',
  );
}

function countByKind(drift: DriftItem[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of drift) counts[item.kind] = (counts[item.kind] ?? 0) + 1;
  return counts;
}

/**
 * Compares the mirror with Stripe, kind by kind: every object Stripe lists against its row, then every
 * live row Stripe did not list, read one by one (it may be gone, or newer than the listing). With `fix`,
 * each page's drift is written as it is found.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const limiter = options.limiter ?? createLimiter(options.requestsPerSecond);
  const result: ReconcileResult = { checked: {}, drift: [], fixed: 0 };
  for (const kind of options.kinds ?? KIND_NAMES) {
    const found = await reconcileKind(options, kind, limiter);
    result.checked[kind] = found.checked;
    result.drift.push(...found.drift);
    result.fixed += found.fixed;
  }
  return result;
}

type KindResult = { checked: number; drift: DriftItem[]; fixed: number };

async function reconcileKind(
  options: ReconcileOptions,
  kind: KindName,
  limiter: Limiter,
): Promise<KindResult> {
  const { database, stripe, place } = options;
  const expected = await mirrorCount(database.pool, kind, place);
  const result: KindResult = { checked: 0, drift: [], fixed: 0 };
  const listed = new Set<string>();
  const settle = async (reads: FetchedObject[], rows: Map<string, MirrorRow>) => {
    const drifting = compare(kind, reads, rows);
    result.checked += reads.length;
    result.drift.push(...drifting.map((entry) => entry.drift));
    if (options.fix && drifting.length > 0) result.fixed += await heal(options, kind, limiter, drifting);
    const links = await relinkRows(
      database.pool,
      kind,
      reads.map((read) => read.id),
      options,
    );
    result.drift.push(...links);
    if (options.fix) result.fixed += links.length;
    await options.onProgress?.({ job: 'reconcile', kind, done: result.checked, expected, finished: false });
  };
  const clock = () => databaseNow(database.pool);
  for await (const page of listPages(stripe, kind, place, { limiter, clock })) {
    const reads = fetchedOf(page).filter((read) => !listed.has(read.id));
    for (const read of reads) listed.add(read.id);
    await settle(
      reads,
      await mirrorRows(
        database.pool,
        kind,
        place,
        reads.map((read) => read.id),
      ),
    );
  }
  const unlisted = (await liveIds(database.pool, kind, place)).filter((id) => !listed.has(id));
  for (let start = 0; start < unlisted.length; start += 100) {
    const ids = unlisted.slice(start, start + 100);
    const reads = await Promise.all(
      ids.map((id) => readOne(database.pool, stripe, kind, id, place, limiter)),
    );
    await settle(reads, await mirrorRows(database.pool, kind, place, ids));
  }
  await options.onProgress?.({ job: 'reconcile', kind, done: result.checked, expected, finished: true });
  return result;
}

/**
 * Writes Stripe's state over drift; returns how many of the drifted objects are healed. A row rewritten
 * after its read began (a webhook or a refetch applied meanwhile) is newer than that read and is left
 * to it: such objects are read once more and compared again, so only drift still there is left.
 */
async function heal(
  options: ReconcileOptions,
  kind: KindName,
  limiter: Limiter,
  drifting: { read: FetchedObject }[],
): Promise<number> {
  const { database, stripe, place, context } = options;
  const target = { pool: database.pool, stripe, place, context, limiter };
  const write = async (entries: { read: FetchedObject }[]) =>
    new Set(
      await writeFetched(
        target,
        entries.map((entry) => entry.read),
      ),
    );
  const written = await write(drifting);
  const left = drifting.filter((entry) => !written.has(entry.read.id)).map((entry) => entry.read.id);
  if (left.length === 0) return drifting.length;
  const again = await Promise.all(left.map((id) => readOne(database.pool, stripe, kind, id, place, limiter)));
  const still = compare(kind, again, await mirrorRows(database.pool, kind, place, left));
  const rewritten = await write(still);
  return drifting.length - still.filter((entry) => !rewritten.has(entry.read.id)).length;
}

/**
 * The drift among reads, each with the write that heals it (Stripe's object, or a tombstone). A row
 * written after its read began (a webhook applied meanwhile) may be newer than the read: not compared.
 */
function compare(kind: KindName, reads: FetchedObject[], rows: Map<string, MirrorRow>) {
  const drifting: { drift: DriftItem; read: FetchedObject }[] = [];
  for (const read of reads) {
    const row = rows.get(read.id);
    if (row && row.synced_at >= read.readAt) continue;
    const drift = driftOf(kind, read.id, read.deleted ? null : read.object, row ?? null);
    if (drift) drifting.push({ drift, read });
  }
  return drifting;
}

/** One object read from Stripe, with when the read began by the database's clock. */
async function readOne(
  pool: pg.Pool,
  stripe: Stripe,
  kind: KindName,
  id: string,
  place: Place,
  limiter: Limiter,
): Promise<FetchedObject> {
  const readAt = await databaseNow(pool);
  const fetched = await retrieveListed(stripe, kind, id, place, limiter);
  return {
    kind,
    id,
    object: fetched.object ?? missingObject(kind, id),
    deleted: fetched.deleted,
    asOf: fetched.asOf ?? Math.floor(readAt.getTime() / 1000),
    readAt,
  };
}

type MirrorRow = MirrorState & { id: string; synced_at: Date };

async function mirrorRows(pool: pg.Pool, kind: KindName, place: Place, ids: string[]) {
  const { rows } = await pool.query<MirrorRow>(
    `select id, data, deleted, synced_at from "${getTableName(KINDS[kind].table)}"
     where stripe_account = $1 and livemode = $2 and id = any($3::text[])`,
    [place.stripeAccount, place.livemode, ids],
  );
  return new Map(rows.map((row) => [row.id, row]));
}

async function liveIds(pool: pg.Pool, kind: KindName, place: Place): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `select id from "${getTableName(KINDS[kind].table)}"
     where stripe_account = $1 and livemode = $2 and not deleted order by id`,
    [place.stripeAccount, place.livemode],
  );
  return rows.map((row) => row.id);
}
