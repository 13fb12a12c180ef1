import assert from 'node:assert/strict';
import { after, before, mock, test } from 'node:test';
import type Stripe from 'stripe';
import { type RunningEmulator, startEmulator } from 'stripe-emulator';
import { EMULATOR_KEY } from '../src/cli/local-stripe.ts';
import { API_VERSION, createStripeClient } from '../src/stripe/index.ts';
import { backfill } from '../src/sync/backfill.ts';
import { Inbox } from '../src/sync/inbox.ts';
import type { Limiter } from '../src/sync/limiter.ts';
import { serveRefetches } from '../src/sync/refetch.ts';
import { holdRefetcherLock, leaseRefetches, requestRefetches } from '../src/sync/refetch-queue.ts';
import { InboxWorker, isBehind } from '../src/sync/worker.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { inboxEventWith } from './support/inbox-events.ts';
import { writeInTransaction } from './support/mirror-writes.ts';

// Mirror rows are written by several processes, maybe on several hosts. Here this process's clock runs
// an hour ahead of the database's, as a badly set host's would, while rows it did not write change.
const AHEAD_MS = 3_600_000;
const PLACE = { stripeAccount: 'platform', livemode: false };
const CONTEXT = { accountKeys: [] };

let database: TestDatabase;
let emulator: RunningEmulator;
let stripe: Stripe;
before(async () => {
  database = await testDatabase();
  emulator = await startEmulator({ port: 0, seed: 11 });
  stripe = createStripeClient({ secretKey: EMULATOR_KEY, apiBase: emulator.url });
});
after(async () => {
  await emulator.close();
  await database.drop();
});

/** Runs `work` with this process's clock an hour ahead, frozen there. */
async function withClockAhead<T>(work: (aheadSeconds: number) => Promise<T>): Promise<T> {
  const ahead = Date.now() + AHEAD_MS;
  mock.timers.enable({ apis: ['Date'], now: ahead });
  try {
    return await work(Math.floor(ahead / 1000));
  } finally {
    mock.timers.reset();
  }
}

const databaseSeconds = async () =>
  Number((await database.pool.query('select extract(epoch from clock_timestamp()) as s')).rows[0]?.s);

test('mirror rows take their synced_at from the database’s clock, not the writing host’s', async () => {
  await withClockAhead(async () => {
    await writeInTransaction(
      database,
      [
        {
          kind: 'customer',
          id: 'cus_stamped',
          ...PLACE,
          object: { id: 'cus_stamped', object: 'customer' },
          deleted: false,
          version: 1_700_000_000,
          eventId: 'evt_stamped',
          source: 'event',
        },
      ],
      CONTEXT,
    );
  });
  const { rows } = await database.pool.query(
    `select extract(epoch from synced_at) as s from customers where id = 'cus_stamped'`,
  );
  assert.ok(Math.abs(Number(rows[0]?.s) - (await databaseSeconds())) < 60, 'stamped by the host’s clock');
});

/**
 * A worker on a host with the right clock applies a newer event of the product, of the second a read
 * begun by this host will carry.
 */
const applyNewerEvent = (product: Stripe.Product, second: number) =>
  database.pool.query(
    `insert into products (id, stripe_account, livemode, data, deleted, last_event_id, last_event_created,
       source, synced_at)
     values ($1, 'platform', false, $2, false, 'evt_newer', $3, 'event', clock_timestamp())
     on conflict (id, stripe_account, livemode) do update set data = excluded.data,
       last_event_id = excluded.last_event_id, last_event_created = excluded.last_event_created,
       source = excluded.source, synced_at = excluded.synced_at`,
    [product.id, { ...product, name: 'Renamed since' }, second],
  );

const mirroredName = async (product: Stripe.Product) =>
  (await database.pool.query(`select data->>'name' as name from products where id = $1`, [product.id]))
    .rows[0]?.name;

test('a backfill on a host whose clock runs ahead leaves a row written after its read began', async () => {
  const product = await stripe.products.create({ name: 'As listed' });
  await withClockAhead(async (aheadSeconds) => {
    let changed = false;
    // Between the start of the page's read and its answer.
    const limiter: Limiter = async (call) => {
      if (!changed) {
        changed = true;
        await applyNewerEvent(product, aheadSeconds);
      }
      return call();
    };
    await backfill({
      database,
      stripe,
      context: CONTEXT,
      place: PLACE,
      requestsPerSecond: 1000,
      kinds: ['product'],
      limiter,
    });
  });
  assert.equal(
    await mirroredName(product),
    'Renamed since',
    'the read replaced a row written after it began',
  );
});

test('a refetch on a host whose clock runs ahead leaves a row written after its read began', async () => {
  const product = await stripe.products.create({ name: 'As read' });
  // The newest event the request knows of is of the second the worker's event has: the read's version.
  const second = Math.floor((Date.now() + AHEAD_MS) / 1000);
  const asking = await database.pool.connect();
  await requestRefetches(asking, [
    {
      kind: 'product',
      id: product.id,
      ...PLACE,
      serialKey: `platform/${product.id}`,
      knownCreated: second,
      reason: 'unknown_row',
    },
  ]);
  asking.release();
  const session = await database.pool.connect();
  await holdRefetcherLock(session, 'skewed');
  try {
    const leased = await leaseRefetches(database.pool, 'skewed', { limit: 10 });
    assert.equal(leased.length, 1);
    await withClockAhead(async () => {
      // The event is applied while Stripe is being asked.
      const reading = createStripeClient({ secretKey: EMULATOR_KEY, apiBase: emulator.url });
      const retrieve = reading.products.retrieve.bind(reading.products);
      reading.products.retrieve = (async (...args: Parameters<typeof retrieve>) => {
        await applyNewerEvent(product, second);
        return retrieve(...args);
      }) as typeof retrieve;
      const deps = { pool: database.pool, stripeFor: () => reading, context: CONTEXT, limiter: now };
      await serveRefetches(deps, 'skewed', leased);
    });
  } finally {
    session.release(true);
  }
  assert.equal(
    await mirroredName(product),
    'Renamed since',
    'the read replaced a row written after it began',
  );
  const queued = await database.pool.query('select 1 from sync_refetches where object_id = $1', [product.id]);
  assert.equal(queued.rowCount, 1, 'a read that cannot be proven newer is read again');
});

const now: Limiter = (call) => call();

test('an inbox worker on a host whose clock runs ahead measures an event’s wait by the database’s clock', async () => {
  await new Inbox(database.pool).store(inboxEventWith('evt_skew_wait', { type: 'customer.created' }));
  const worker = new InboxWorker({
    pool: database.pool,
    apiVersion: API_VERSION,
    context: CONTEXT,
    batchSize: 100,
    gatherMs: 50,
  });
  const report = await withClockAhead(() => worker.processBatch());
  assert.equal(report.claimed, 1);
  // Stored a moment ago: an hour here would be the clocks' difference, not the wait.
  assert.ok(report.oldestWaitMs < 60_000, `waited ${report.oldestWaitMs} ms`);
  assert.ok((report.visibleAfterMs[0] ?? Infinity) < 60_000, `visible after ${report.visibleAfterMs[0]} ms`);
  assert.equal(isBehind(report, 100, 50), false, 'one fresh event is no backlog to work off at once');
});
