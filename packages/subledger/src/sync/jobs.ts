import { Logger, type Runner, run, runMigrations, type TaskList } from 'graphile-worker';
import type pg from 'pg';
import type { Logger as AppLogger } from '../telemetry/index.ts';

/**
 * Background jobs other than inbox events (refetches now, scheduled work later) run on graphile-worker:
 * retries with exponential backoff, job keys that coalesce bursts, and a crontab, on the same Postgres.
 */
export async function migrateJobs(pool: pg.Pool, logger: AppLogger): Promise<void> {
  await runMigrations({ pgPool: pool, logger: jobLogger(logger) });
}

export async function startJobs(
  pool: pg.Pool,
  tasks: TaskList,
  logger: AppLogger,
  options: { concurrency?: number; crontab?: string } = {},
): Promise<Runner> {
  return run({
    pgPool: pool,
    taskList: tasks,
    concurrency: options.concurrency ?? 2,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: jobLogger(logger),
    ...(options.crontab ? { crontab: options.crontab } : {}),
  });
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
