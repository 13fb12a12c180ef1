import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { drizzle } from 'drizzle-orm/node-postgres';
import type Stripe from 'stripe';
import { type RunningEmulator, startEmulator } from 'stripe-emulator';
import { EMULATOR_KEY } from '../src/cli/local-stripe.ts';
import { API_VERSION, createStripeClient } from '../src/stripe/index.ts';
import { syncAccount } from '../src/sync/account-sync.ts';
import { toInboxEvent } from '../src/sync/envelope.ts';
import { Inbox } from '../src/sync/inbox.ts';
import { type MirrorWrite, unprovenReads } from '../src/sync/mirror-writer.ts';
import { serveRefetches } from '../src/sync/refetch.ts';
import { leaseRefetches } from '../src/sync/refetch-queue.ts';
import { InboxWorker } from '../src/sync/worker.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { writeInTransaction } from './support/mirror-writes.ts';

/**
 * A read from Stripe and an event of the same second: which is newer cannot be told from the second.
 * A read may replace a row of its second only when that row was written before the read began; any
 * other tie is read again, never written backwards.
 */

const PLACE = { stripeAccount: 'platform', livemode: false };
const CONTEXT = { accountKeys: ['subledger_account_id'] };
// Stripe's clock stands still inside one second, so every read and every change share it.
const NOW_MS = 1_800_000_000_250;
const NOW_S = Math.floor(NOW_MS / 1000);

let database: TestDatabase;
/** Writes as the worker and the refetcher do, in one transaction. */
const write = (writes: MirrorWrite[]) => writeInTransaction(database, writes, CONTEXT);
let emulator: RunningEmulator;
before(async () => {
  database = await testDatabase();
  emulator = await startEmulator({ port: 0, seed: 5, wallClockMs: () => NOW_MS });
});
after(async () => {
  await emulator.close();
  await database.drop();
});

const customerWrite = (id: string, name: string, evidence: Partial<MirrorWrite>): MirrorWrite =>
  ({
    kind: 'customer',
    id,
    ...PLACE,
    object: { id, object: 'customer', name, metadata: {} },
    deleted: false,
    version: NOW_S,
    eventId: null,
    source: 'fetch',
    readAt: new Date(),
    ...evidence,
  }) as MirrorWrite;

async function mirroredName(id: string): Promise<string | undefined> {
  const { rows } = await database.pool.query<{ name: string }>(
    `select data->>'name' as name from customers where id = $1`,
    [id],
  );
  return rows[0]?.name;
}

async function queuedRefetches(id: string): Promise<{ reason: string; leased_by: string | null }[]> {
  const { rows } = await database.pool.query(
    'select reason, leased_by from sync_refetches where object_id = $1',
    [id],
  );
  return rows;
}

test('a read of the row’s second replaces it only if the row was written before the read began', async () => {
  const db = drizzle(database.pool);
  const readAt = new Date();
  await new Promise((resolve) => setTimeout(resolve, 5));
  await write([customerWrite('cus_late', 'event', { source: 'event', eventId: 'evt_late' })]);
  await write([customerWrite('cus_early', 'event', { source: 'event', eventId: 'evt_early' })]);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const laterRead = new Date();

  const writes = [
    customerWrite('cus_late', 'read', { readAt }),
    customerWrite('cus_early', 'read', { readAt: laterRead }),
  ];
  // One batch per read time: the rule takes the batch's earliest read.
  const written = [
    ...(await write([writes[0] as MirrorWrite])),
    ...(await write([writes[1] as MirrorWrite])),
  ];
  assert.deepEqual(
    written.map((write) => write.id),
    ['cus_early'],
  );
  assert.equal(await mirroredName('cus_late'), 'event');
  assert.equal(await mirroredName('cus_early'), 'read');
  assert.deepEqual(
    (await unprovenReads(db, writes, written)).map((write) => write.id),
    ['cus_late'],
  );

  // A read of a later second is newer whenever it began; one of an earlier second never is.
  const newer = customerWrite('cus_late', 'newer read', { readAt, version: NOW_S + 1 });
  const older = customerWrite('cus_early', 'older read', { readAt: new Date(), version: NOW_S - 1 });
  const both = [newer, older];
  const taken = await write(both);
  assert.deepEqual(
    taken.map((write) => write.id),
    ['cus_late'],
  );
  assert.deepEqual(await unprovenReads(db, both, taken), [], 'a strictly newer row needs no second read');
});

test('a refetch read before an event of its second is read again, not written over it', async () => {
  const inbox = new Inbox(database.pool);
  const worker = new InboxWorker({
    pool: database.pool,
    apiVersion: API_VERSION,
    context: CONTEXT,
    batchSize: 100,
  });
  const event = (id: string, type: string, created: number, name: string, apiVersion = API_VERSION) =>
    toInboxEvent({
      id,
      object: 'event',
      type,
      api_version: apiVersion,
      created,
      livemode: false,
      data: { object: { id: 'cus_tie', object: 'customer', name, test_clock: null } },
    });
  await inbox.store(event('evt_tie_1', 'customer.created', NOW_S - 2, 'A'));
  await worker.drain();
  // Another API version's payload cannot be applied: the customer is queued to be read.
  await inbox.store(event('evt_tie_2', 'customer.updated', NOW_S - 1, 'B', '2020-08-27'));
  await worker.drain();

  let stripeHas = 'B';
  const stripe = {
    customers: {
      retrieve: async () => {
        const read = { id: 'cus_tie', object: 'customer', name: stripeHas, test_clock: null };
        if (stripeHas === 'B') {
          // Right after this read, in the same second, the customer changes and its event is applied.
          stripeHas = 'C';
          await inbox.store(event('evt_tie_3', 'customer.updated', NOW_S, 'C'));
          await worker.drain();
          assert.equal(await mirroredName('cus_tie'), 'C');
        }
        return { ...read, lastResponse: { headers: { date: new Date(NOW_MS).toUTCString() } } };
      },
    },
  } as unknown as Stripe;
  const deps = {
    pool: database.pool,
    stripeFor: () => stripe,
    context: CONTEXT,
    limiter: <R>(call: () => Promise<R>) => call(),
  };
  const serve = async () =>
    serveRefetches(
      deps,
      'refetcher-tie',
      await leaseRefetches(database.pool, 'refetcher-tie', { limit: 10 }),
    );

  assert.deepEqual(await serve(), { written: 0, failures: [] });
  assert.equal(await mirroredName('cus_tie'), 'C', 'the older read did not move the mirror back');
  assert.deepEqual(await queuedRefetches('cus_tie'), [{ reason: 'api_version', leased_by: null }]);

  // Read again, after the event's write: now the read is provably as new, and it is written.
  assert.deepEqual(await serve(), { written: 1, failures: [] });
  assert.equal(await mirroredName('cus_tie'), 'C');
  assert.deepEqual(await queuedRefetches('cus_tie'), []);
});

test('an account sync read before an event of its second asks for another read instead', async () => {
  const stripe = createStripeClient({ secretKey: EMULATOR_KEY, apiBase: emulator.url, maxNetworkRetries: 0 });
  const customer = await stripe.customers.create({
    name: 'before',
    metadata: { subledger_account_id: 'acct_tie' },
  });
  const listInvoices = stripe.invoices.list.bind(stripe.invoices);
  // The customer was read first; before the sync writes, Stripe changes it and a worker applies the
  // change's event, all within the second.
  (stripe.invoices as { list: unknown }).list = async (...args: Parameters<typeof listInvoices>) => {
    await stripe.customers.update(customer.id, { name: 'after' });
    const applied = { ...customer, name: 'after', lastResponse: undefined } as never;
    await write([
      {
        ...customerWrite(customer.id, 'after', {}),
        object: applied,
        source: 'event',
        eventId: 'evt_after',
      },
    ]);
    return listInvoices(...args);
  };

  const synced = await syncAccount({
    database,
    stripe,
    context: CONTEXT,
    accountId: 'acct_tie',
    place: PLACE,
  });
  assert.ok(synced.ok);
  assert.equal(await mirroredName(customer.id), 'after', 'the sync did not write its older read');
  assert.deepEqual(await queuedRefetches(customer.id), [{ reason: 'same_second', leased_by: null }]);
});
