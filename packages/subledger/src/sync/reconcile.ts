import { getTableName } from 'drizzle-orm';
import type pg from 'pg';
import type Stripe from 'stripe';
import { type Database, databaseNow } from '../store/index.ts';
import { type FetchedObject, fetchedOf, writeFetched } from './backfill.ts';
import { type DriftItem, driftOf, type MirrorState } from './drift.ts';
import { type ColumnContext, KIND_NAMES, KINDS, type KindName } from './kinds.ts';
import { createLimiter, type Limiter } from './limiter.ts';
import { listPages, retrieveListed } from './listing.ts';
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
  /** Stops the run between pages (a shutdown): it throws the signal's reason; what was fixed stays. */
  signal?: AbortSignal;
};

export type ReconcileResult = {
  /** Objects compared per kind. */
  checked: Record<string, number>;
  drift: DriftItem[];
  /** Drift items whose fix was written (a row rewritten meanwhile, by a newer event, is left to it). */
  fixed: number;
};

/**
 * Compares the mirror with Stripe, kind by kind: every object Stripe lists against its row, then every
 * live row Stripe did not list, read one by one (it may be gone, or newer than the listing). With `fix`,
 * each page's drift is written as it is found.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const limiter = options.limiter ?? createLimiter(options.requestsPerSecond);
  const result: ReconcileResult = { checked: {}, drift: [], fixed: 0 };
  for (const kind of options.kinds ?? KIND_NAMES) {
    options.signal?.throwIfAborted();
    const found = await reconcileKind(options, kind, limiter);
    result.checked[kind] = found.checked;
    result.drift.push(...found.drift);
    result.fixed += found.fixed;
  }
  return { ...result, drift: onceEach(result.drift) };
}

/**
 * A lost link may be found from its customer and again from its checkout session: reported only, the
 * first finding is rolled back before the second is looked for.
 */
function onceEach(drift: DriftItem[]): DriftItem[] {
  const seen = new Set<string>();
  return drift.filter((item) => {
    if (item.problem !== 'account_link') return true;
    const key = `${item.id}|${item.fields ?? []}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
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
    options.signal?.throwIfAborted();
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
