import {
  type CronItem,
  type CronMatcher,
  Logger,
  parseCronItems,
  type Runner,
  run,
  runMigrations,
  type TaskList,
} from 'graphile-worker';
import type pg from 'pg';
import type { Logger as AppLogger } from '../telemetry/index.ts';

/**
 * Scheduled work (the reconcile) runs on graphile-worker: a crontab and retries with exponential backoff,
 * on the same Postgres. Inbox events and refetches have their own queues, which are claimed in batches.
 */
export async function migrateJobs(pool: pg.Pool, logger: AppLogger): Promise<void> {
  await runMigrations({ pgPool: pool, logger: jobLogger(logger) });
}

export async function startJobs(
  pool: pg.Pool,
  tasks: TaskList,
  logger: AppLogger,
  options: { concurrency?: number; crontab?: string; schedules?: CronItem[] } = {},
): Promise<Runner> {
  return run({
    pgPool: pool,
    taskList: tasks,
    concurrency: options.concurrency ?? 2,
    noHandleSignals: true,
    pollInterval: 1000,
    // Unbatched, a job's completion or failure is sent without being awaited, so `stop()` can resolve
    // (and the process exit) before it lands, leaving the job and its queue locked for hours. Batched
    // (even with no delay), stopping waits for them.
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    logger: jobLogger(logger),
    ...(options.crontab ? { crontab: options.crontab } : {}),
    ...(options.schedules ? { parsedCronItems: parseCronItems(options.schedules) } : {}),
  });
}

/**
 * A crontab matcher for "every `minutes` minutes", counted from midnight UTC. A `*\/N` minute field
 * cannot say 90 or 120; counting minutes of the day can, evenly for any divisor of 1440 (for others the
 * last gap of the day is shorter).
 */
export function everyMinutes(minutes: number): CronMatcher {
  if (!Number.isInteger(minutes) || minutes < 1) throw new RangeError(`not a number of minutes: ${minutes}`);
  return (digest) => (digest.hour * 60 + digest.min) % minutes === 0;
}

function jobLogger(logger: AppLogger): Logger {
  const jobs = logger.child({ part: 'jobs' });
  return new Logger((scope) => (level, message, meta) => {
    const fields = { ...scope, ...meta };
    if (level === 'error') jobs.error(fields, message);
    else if (level === 'warning') jobs.warn(fields, message);
    else if (level === 'info') jobs.debug(fields, message);
    else jobs.trace(fields, message);
  });
}
