import { getTableName } from 'drizzle-orm';
import type { CronItem, Task, TaskList } from 'graphile-worker';
import type pg from 'pg';
import { PLATFORM } from '../store/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { accessRestored } from './access-probe.ts';
import { deauthorizedAmong } from './connected-accounts.ts';
import { type DriftItem, missedDrift } from './drift.ts';
import { everyMinutes } from './jobs.ts';
import { KIND_NAMES, KINDS } from './kinds.ts';
import { type ReconcileOptions, type ReconcileResult, reconcile } from './reconcile.ts';
import type { Place } from './stripe-reads.ts';

/** The graphile-worker task that reconciles on a schedule. */
export const RECONCILE_TASK = 'subledger_reconcile';

type ScheduledOptions = Omit<ReconcileOptions, 'fix' | 'onProgress'>;

/**
 * The scheduled reconcile: a task that reconciles with fixes and logs what drifted (a missed webhook, a
 * change Stripe sends no event for), and its crontab entry, every `minutes` minutes. It covers the
 * platform and every connected account the mirror holds objects of, in the place's mode, each on its own,
 * less those recorded as having revoked the platform's access that Stripe still refuses
 * (`reconcilablePlaces`). A place that fails (an account that revoked access without our hearing of it
 * answers every request 403) is logged and the others are still reconciled; the job then fails naming
 * those places, so that it is retried and seen. The job runs in a queue of its own, so a reconcile
 * slower than the interval never runs beside the next one; runs missed while no worker was up are not
 * made up. Without a Stripe client, or with `minutes` 0, nothing is scheduled.
 */
export function scheduledReconcile(
  options: ScheduledOptions | null,
  minutes: number,
  logger: Logger,
): { tasks: TaskList; schedules: CronItem[] } {
  if (!options) return { tasks: {}, schedules: [] };
  // A shutdown aborts the job between pages (graphile-worker signals it 5 s after being asked to stop):
  // it fails and is unlocked, rather than being cut off with its queue locked for hours.
  const task: Task = async (_payload, { abortSignal: signal }) => {
    const failures: PlaceFailure[] = [];
    for (const place of await reconcilablePlaces(options, logger)) {
      const failure = await reconcileLogged({ ...options, place, fix: true, signal }, logger);
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
 * history. Each such account is asked once per run whether it lets the platform in again
 * (`accessRestored`), so that a missed `account.application.authorized` does not leave it out for ever.
 * Those taken back, and those left out, are logged in one line each per run.
 */
async function reconcilablePlaces(options: ScheduledOptions, logger: Logger): Promise<Place[]> {
  const { pool } = options.database;
  const places = await mirroredPlaces(pool, options.place.livemode);
  const revoked = await deauthorizedAmong(pool, places);
  if (revoked.length === 0) return places;
  const restored = await restoredAmong(revoked, options, logger);
  if (restored.length > 0) {
    const accounts = restored.map((place) => place.stripeAccount);
    logger.info(
      { restored: accounts },
      `reconcile: ${accounts.join(', ')} let the platform in again (Stripe answered a read); reconciling`,
    );
  }
  const leftOut = revoked.filter((place) => !restored.includes(place));
  if (leftOut.length > 0) {
    const accounts = leftOut.map((place) => place.stripeAccount);
    logger.info(
      { deauthorized: accounts },
      `reconcile: leaving out ${accounts.join(', ')}: access revoked (account.application.deauthorized)`,
    );
  }
  return places.filter((place) => !leftOut.includes(place));
}

/** The revoked places Stripe lets the platform read again; one that cannot be asked stays revoked. */
async function restoredAmong(revoked: Place[], options: ScheduledOptions, logger: Logger) {
  const restored: Place[] = [];
  for (const place of revoked) {
    const back = await accessRestored(options.database.pool, options.stripe, place).catch((error) => {
      logger.warn({ err: error, stripeAccount: place.stripeAccount }, 'reconcile: could not ask for access');
      return false;
    });
    if (back) restored.push(place);
  }
  return restored;
}

type PlaceFailure = { place: Place; error: unknown };

/** Reconciles one place and logs the outcome; a failure is logged and handed back, not thrown. */
async function reconcileLogged(options: ReconcileOptions, logger: Logger): Promise<PlaceFailure | null> {
  const placeLogger = logger.child({ stripeAccount: options.place.stripeAccount });
  try {
    logResult(await reconcile(options), placeLogger);
    return null;
  } catch (error) {
    if (options.signal?.aborted) throw error;
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
  const fields = { checked, drift: drift.length, fixed, byKind: countByKind(drift), sample };
  // Routine after every invoice: worth a line, not a warning.
  if (missedDrift(drift).length === 0)
    logger.info(fields, 'reconcile: refreshed fields Stripe changes without an event');
  else logger.warn(fields, 'reconcile: drift found and fixed');
}

function countByKind(drift: DriftItem[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of drift) counts[item.kind] = (counts[item.kind] ?? 0) + 1;
  return counts;
}
