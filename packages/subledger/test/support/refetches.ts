import type pg from 'pg';
import { startEmulator } from 'stripe-emulator';
import { EMULATOR_KEY } from '../../src/cli/local-stripe.ts';
import { createStripeClient } from '../../src/stripe/index.ts';
import { createLimiter } from '../../src/sync/limiter.ts';
import type { RefetchDependencies } from '../../src/sync/refetch.ts';
import { holdRefetcherLock, type RefetchRequest, requestRefetches } from '../../src/sync/refetch-queue.ts';
import { testDatabase } from './database.ts';

/** A refetch request for a test-mode platform customer. */
export const request = (id: string, serialKey = `platform/${id}`): RefetchRequest => ({
  kind: 'customer',
  id,
  stripeAccount: 'platform',
  livemode: false,
  serialKey,
  knownCreated: 1_700_000_000,
  reason: 'unknown_row',
});

/** The sorted object ids of leased refetches. */
export const ids = (rows: { objectId: string }[]) => rows.map((row) => row.objectId).sort();

/** Helpers on the refetch queue of the database `pool()` gives (read when called: set up in `before`). */
export function refetchQueue(pool: () => pg.Pool) {
  return {
    async ask(...requests: RefetchRequest[]): Promise<void> {
      const client = await pool().connect();
      try {
        await requestRefetches(client, requests);
      } finally {
        client.release();
      }
    },

    /** A session holding a refetcher's lock, as a running refetcher's listening session does. */
    async liveRefetcher(name: string): Promise<pg.PoolClient> {
      const session = await pool().connect();
      await holdRefetcherLock(session, name);
      return session;
    },

    async queued(prefix: string) {
      const { rows } = await pool().query<{
        object_id: string;
        leased_by: string | null;
        attempts: number;
        last_error: string;
      }>(
        `select object_id, leased_by, attempts, last_error from sync_refetches where object_id like $1 order by object_id`,
        [`${prefix}%`],
      );
      return rows;
    },

    async leasedBy(id: string): Promise<(string | null)[]> {
      const { rows } = await pool().query('select leased_by from sync_refetches where object_id = $1', [id]);
      return rows.map((row) => row.leased_by);
    },
  };
}

/** A test database and an emulator, and a refetcher's dependencies on them (test mode only, no retries). */
export async function openRefetchFixture(seed: number) {
  const database = await testDatabase();
  const emulator = await startEmulator({ port: 0, seed });
  const stripe = createStripeClient({ secretKey: EMULATOR_KEY, apiBase: emulator.url, maxNetworkRetries: 0 });
  const deps: RefetchDependencies = {
    pool: database.pool,
    stripeFor: (livemode) => (livemode ? null : stripe),
    context: { accountKeys: [] },
    limiter: createLimiter(100),
  };
  const close = async () => {
    await emulator.close();
    await database.drop();
  };
  return { database, emulator, deps, close };
}
