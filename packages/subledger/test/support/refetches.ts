import assert from 'node:assert/strict';
import type pg from 'pg';
import { startEmulator } from 'stripe-emulator';
import { EMULATOR_KEY } from '../../src/cli/local-stripe.ts';
import { createStripeClient } from '../../src/stripe/index.ts';
import { createLimiter } from '../../src/sync/limiter.ts';
import { type RefetchDependencies, type Served, serveRefetches } from '../../src/sync/refetch.ts';
import {
  holdRefetcherLock,
  leaseRefetches,
  type RefetchRequest,
  requestRefetches,
} from '../../src/sync/refetch-queue.ts';
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

    /** An event about the test-mode platform customer `customerId` that waits for its read. */
    async waitingEvent(eventId: string, customerId: string): Promise<void> {
      await pool().query(
        `insert into stripe_events (id, type, livemode, stripe_account, created, object_type, object_id,
           serial_key, payload, status, outcome)
         values ($1, 'customer.updated', false, 'platform', 1700000001, 'customer', $2, $3, '{}', 'processed',
           'refetch')`,
        [eventId, customerId, `platform/${customerId}`],
      );
    },

    /** Where an event stands: its status, outcome and last error. */
    async eventState(eventId: string) {
      const { rows } = await pool().query<{ status: string; outcome: string; last_error: string | null }>(
        'select status, outcome, last_error from stripe_events where id = $1',
        [eventId],
      );
      return rows[0];
    },

    /**
     * Leases the refetch of the customer `id` by its key, as a direct read does (its backoff is not
     * waited out), and serves it.
     */
    async serveOnce(reading: RefetchDependencies, refetcher: string, id: string): Promise<Served> {
      const leased = await leaseRefetches(pool(), refetcher, { limit: 10, serialKey: `platform/${id}` });
      assert.deepEqual(ids(leased), [id]);
      return serveRefetches(reading, refetcher, leased);
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
