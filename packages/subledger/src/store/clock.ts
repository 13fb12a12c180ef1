import type pg from 'pg';

/**
 * The database's clock. When a read from Stripe began is compared with when a mirror row was written,
 * the two may have happened in different processes, on different hosts: one clock must give both
 * times, or a host whose clock runs ahead lets a read replace a row written after it began. Rows take
 * their `synced_at` from it (as their upsert runs), and reads take their start from here.
 */
export async function databaseNow(db: pg.Pool | pg.PoolClient): Promise<Date> {
  const { rows } = await db.query<{ now: Date }>('select clock_timestamp() as now');
  const now = rows[0]?.now;
  if (!(now instanceof Date)) throw new Error('the database did not tell its time');
  return now;
}

/**
 * The database's clock read once, then run on by this process's monotonic clock: for many reads in a
 * row without a query each. A time it gives is never later than the database's at that moment (the
 * reading is taken as the answer arrives, and truncated to the millisecond).
 */
export async function databaseClock(db: pg.Pool | pg.PoolClient): Promise<() => Date> {
  const start = await databaseNow(db);
  const startedAt = performance.now();
  return () => new Date(start.getTime() + (performance.now() - startedAt));
}
