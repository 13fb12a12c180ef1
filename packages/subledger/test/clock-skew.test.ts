import assert from 'node:assert/strict';
import { after, before, mock, test } from 'node:test';
import { drizzle } from 'drizzle-orm/node-postgres';
import type Stripe from 'stripe';
import { type RunningEmulator, startEmulator } from 'stripe-emulator';
import { EMULATOR_KEY } from '../src/cli/local-stripe.ts';
import { createStripeClient } from '../src/stripe/index.ts';
import { backfill } from '../src/sync/backfill.ts';
import type { Limiter } from '../src/sync/listing.ts';
import { writeMirror } from '../src/sync/mirror-writer.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';

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
    const client = await database.pool.connect();
    try {
      await writeMirror(
        drizzle(client),
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
    } finally {
      client.release();
    }
  });
  const { rows } = await database.pool.query(
    `select extract(epoch from synced_at) as s from customers where id = 'cus_stamped'`,
  );
  assert.ok(Math.abs(Number(rows[0]?.s) - (await databaseSeconds())) < 60, 'stamped by the host’s clock');
});

test('a backfill on a host whose clock runs ahead leaves a row written after its read began', async () => {
  const product = await stripe.products.create({ name: 'As listed' });
  await withClockAhead(async (aheadSeconds) => {
    let changed = false;
    // Between the start of the page's read and its answer, a worker on a host with the right clock
    // applies a newer event of the product, of the second the listing will carry.
    const limiter: Limiter = async (call) => {
      if (!changed) {
        changed = true;
        await database.pool.query(
          `insert into products (id, stripe_account, livemode, data, deleted, last_event_id, last_event_created,
             source, synced_at)
           values ($1, 'platform', false, $2, false, 'evt_newer', $3, 'event', clock_timestamp())`,
          [product.id, { ...product, name: 'Renamed since' }, aheadSeconds],
        );
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
  const { rows } = await database.pool.query(`select data->>'name' as name from products where id = $1`, [
    product.id,
  ]);
  assert.equal(rows[0]?.name, 'Renamed since', 'the read replaced a row written after it began');
});
