import { setTimeout } from 'node:timers/promises';
import type pg from 'pg';

// A deadlock or serialization failure against a concurrent transaction is rare and safe to retry.
const RETRIABLE = new Set(['40P01', '40001']);

/** The innermost error: a query wrapper (Drizzle's) holds the driver's error as its `cause`. */
export function rootError(error: unknown): unknown {
  let root = error;
  while (root instanceof Error && root.cause instanceof Error) root = root.cause;
  return root;
}

/** Postgres's error code (SQLSTATE), read under any wrapper; undefined for an error of another kind. */
export function postgresCode(error: unknown): string | undefined {
  const code = (rootError(error) as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Whether Postgres refused the data itself, so that writing it again fails the same way, whatever else
 * shares the transaction and however often it is tried: SQLSTATE class 22, "data exception" (22003: a
 * number beyond its column; 22021: a \u0000 in a text column; 22P05: one in jsonb), and class 54,
 * "program limit exceeded" (54000: an index row over its size limit; 54001: JSON nested deeper than the
 * parser's stack). An outage, a deadlock or a lock timeout is of another class, and passes.
 */
export const isDataError = (error: unknown): boolean => /^(22|54)/.test(postgresCode(error) ?? '');

/**
 * Begins a transaction whose statements reach rows by key only. A table that filled from empty within
 * the last minute (a burst into the inbox, a first backfill) has no statistics until autovacuum analyzes
 * it, and the planner then guesses that 0.5% of the inbox is pending: every claim sorted the whole
 * backlog (measured while draining 20,000 events: 35 ms a claim instead of 9). For keyed work an index
 * path is always right, so the scans that read a whole table are ruled out.
 */
export const BEGIN_KEYED = 'begin; set local enable_seqscan = off; set local enable_bitmapscan = off';

/** Attempts of a transaction Postgres failed for a concurrent one (a deadlock, a serialization failure). */
export const TRANSACTION_ATTEMPTS = 5;

/**
 * The wait before attempt `attempt + 1`: random, up to 25 ms doubled each time, so that two transactions
 * that failed each other (a deadlock ends one) are unlikely to meet again at once.
 */
const retryDelayMs = (attempt: number) => Math.random() * 25 * 2 ** (attempt - 1);

/**
 * Runs keyed `work` (see BEGIN_KEYED) in one transaction on a pooled client, trying again (up to
 * TRANSACTION_ATTEMPTS, after a short random wait) when Postgres asks to.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query(BEGIN_KEYED);
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      if (attempt >= TRANSACTION_ATTEMPTS || !RETRIABLE.has(postgresCode(error) ?? '')) throw error;
    } finally {
      client.release();
    }
    await setTimeout(retryDelayMs(attempt));
  }
}
