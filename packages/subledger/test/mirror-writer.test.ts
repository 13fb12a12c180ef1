import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { drizzle } from 'drizzle-orm/node-postgres';
import { type Billing, resolvePrice } from '../src/billing/index.ts';
import type { Catalog } from '../src/catalog/index.ts';
import { ACCESS_CHANNEL, type AccessChange, decodeChanges } from '../src/store/changes.ts';
import { inTransaction } from '../src/store/transaction.ts';
import type { StripeObject } from '../src/sync/envelope.ts';
import { type MirrorWrite, writeMirror } from '../src/sync/mirror-writer.ts';
import { missingObject } from '../src/sync/tombstones.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { CONTEXT, fromEvent, MIRRORED_AT, missingOnRead, PLACE } from './support/mirror-writes.ts';

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

/** Writes as the worker and the refetcher do: in one transaction, whose notifications go out at commit. */
const write = (writes: MirrorWrite[]) =>
  inTransaction(database.pool, (client) => writeMirror(drizzle(client), writes, CONTEXT));

const row = async (table: string, id: string) =>
  (await database.pool.query(`select * from ${table} where id = $1`, [id])).rows[0];

/** The access changes committed while `work` runs: all of them, since a sentinel sent after it is heard. */
async function accessChangesDuring(work: () => Promise<unknown>): Promise<AccessChange[]> {
  const sentinel = 'sentinel';
  const listener = await database.pool.connect();
  const changes: AccessChange[] = [];
  let heard: () => void = () => {};
  const sentinelHeard = new Promise<void>((resolve) => {
    heard = resolve;
  });
  listener.on('notification', ({ payload = '' }) => {
    if (payload === sentinel) heard();
    else changes.push(...decodeChanges(payload));
  });
  try {
    await listener.query(`listen ${ACCESS_CHANNEL}`);
    await work();
    await database.pool.query('select pg_notify($1, $2)', [ACCESS_CHANNEL, sentinel]);
    await sentinelHeard;
  } finally {
    await listener.query(`unlisten ${ACCESS_CHANNEL}`);
    listener.release();
  }
  return changes;
}

const subscription = (id: string, customer: string): StripeObject => ({
  id,
  object: 'subscription',
  customer,
  status: 'active',
  cancel_at_period_end: false,
  items: {
    object: 'list',
    data: [
      {
        id: `si_${id}`,
        object: 'subscription_item',
        price: { id: 'price_basic', object: 'price' },
        quantity: 1,
        current_period_end: 1_900_000_000,
      },
    ],
    has_more: false,
  },
});

test('a subscription Stripe answers 404 for keeps whose it was, and its customer’s access caches hear of it', async () => {
  const mirrored = subscription('sub_gone', 'cus_gone');
  await write([fromEvent('subscription', mirrored)]);

  let written: MirrorWrite[] = [];
  const changes = await accessChangesDuring(async () => {
    written = await write([missingOnRead('subscription', 'sub_gone')]);
  });

  assert.equal(written.length, 1);
  assert.deepEqual(changes, [{ kind: 'customer', id: 'cus_gone' }]);
  const tombstone = await row('subscriptions', 'sub_gone');
  assert.equal(tombstone.deleted, true);
  assert.equal(tombstone.customer_id, 'cus_gone');
  assert.equal(tombstone.status, 'active', 'its last known status, under `deleted`');
  assert.deepEqual(tombstone.data, { ...mirrored, deleted: true }, 'its last known object, marked deleted');
  assert.equal(tombstone.source, 'fetch');
  assert.equal(Number(tombstone.last_event_created), MIRRORED_AT + 100);
  assert.equal(tombstone.last_event_id, null);
  assert.equal(await row('subscription_items', 'si_sub_gone'), undefined, 'its items go with it');
});

test('a price Stripe answers 404 for keeps its columns, is inactive, and is no longer offered', async () => {
  const price = {
    id: 'price_gone',
    object: 'price',
    active: true,
    product: 'prod_gone',
    lookup_key: 'gone_monthly',
    type: 'recurring',
    currency: 'usd',
    unit_amount: 900,
    recurring: { interval: 'month', interval_count: 1 },
  };
  await write([fromEvent('price', price)]);

  const changes = await accessChangesDuring(() => write([missingOnRead('price', 'price_gone')]));

  assert.deepEqual(changes, [{ kind: 'catalog' }]);
  const tombstone = await row('prices', 'price_gone');
  assert.equal(tombstone.deleted, true);
  assert.equal(tombstone.active, false, 'as Stripe’s price.deleted event shows a deleted price');
  assert.deepEqual(tombstone.data, { ...price, active: false, deleted: true });
  assert.deepEqual(
    [tombstone.product_id, tombstone.lookup_key, tombstone.currency, Number(tombstone.unit_amount)],
    ['prod_gone', 'gone_monthly', 'usd', 900],
  );
  // A price id is resolved from the mirror's row when it has one: neither Stripe nor the catalog is asked.
  const billing = { database, place: PLACE, context: CONTEXT } as unknown as Billing;
  await assert.rejects(resolvePrice(billing, {} as Catalog, { price: 'price_gone' }), {
    code: 'price_not_found',
  });
});

test('a customer Stripe shows as deleted keeps its email and name under the tombstone', async () => {
  const customer = {
    id: 'cus_deleted',
    object: 'customer',
    email: 'gone@example.com',
    name: 'Gone',
    created: 1,
  };
  await write([fromEvent('customer', customer)]);
  // Stripe answers a deleted customer's retrieval with this stub, not 404.
  await write([
    {
      ...missingOnRead('customer', 'cus_deleted'),
      object: { id: 'cus_deleted', object: 'customer', deleted: true },
    },
  ]);
  const tombstone = await row('customers', 'cus_deleted');
  assert.equal(tombstone.deleted, true);
  assert.deepEqual([tombstone.email, tombstone.name], ['gone@example.com', 'Gone']);
  assert.deepEqual(tombstone.data, { ...customer, deleted: true });
});

test('a tombstone from an event is written with the object it carries', async () => {
  const product = { id: 'prod_event_deleted', object: 'product', active: true, name: 'Before' };
  await write([fromEvent('product', product)]);
  const deletedProduct = { id: 'prod_event_deleted', object: 'product', active: false, name: 'After' };
  await write([{ ...fromEvent('product', deletedProduct, { deleted: true }), version: MIRRORED_AT + 1 }]);
  const tombstone = await row('products', 'prod_event_deleted');
  assert.equal(tombstone.deleted, true);
  assert.deepEqual(tombstone.data, deletedProduct);
  assert.deepEqual([tombstone.active, tombstone.name], [false, 'After']);
});

test('a read’s tombstone of an object never mirrored is the bare stub, and names no customer', async () => {
  let written: MirrorWrite[] = [];
  const changes = await accessChangesDuring(async () => {
    written = await write([missingOnRead('subscription', 'sub_never_seen')]);
  });
  assert.equal(written.length, 1);
  assert.deepEqual(changes, []);
  const tombstone = await row('subscriptions', 'sub_never_seen');
  assert.deepEqual(
    [tombstone.deleted, tombstone.customer_id, tombstone.data],
    [true, null, missingObject('subscription', 'sub_never_seen')],
  );
});

test('a read’s tombstone keeps the ordering rule: it never overwrites a newer row, nor one of its second written since the read began', async () => {
  const mirrored = subscription('sub_newer', 'cus_newer');
  await write([fromEvent('subscription', mirrored)]);
  const before = await row('subscriptions', 'sub_newer');
  const readBeforeRow = new Date(before.synced_at.getTime() - 1000);
  const stale = [
    missingOnRead('subscription', 'sub_newer', MIRRORED_AT - 1),
    missingOnRead('subscription', 'sub_newer', MIRRORED_AT, readBeforeRow),
  ];
  for (const tombstone of stale) {
    let written: MirrorWrite[] = [];
    const changes = await accessChangesDuring(async () => {
      written = await write([tombstone]);
    });
    assert.deepEqual(written, []);
    assert.deepEqual(changes, []);
    assert.deepEqual(await row('subscriptions', 'sub_newer'), before);
  }

  // Of the row's second, read after the row was written: the read has seen it, and wins.
  const readAfterRow = new Date(before.synced_at.getTime() + 1);
  const written = await write([missingOnRead('subscription', 'sub_newer', MIRRORED_AT, readAfterRow)]);
  assert.equal(written.length, 1);
  assert.equal((await row('subscriptions', 'sub_newer')).deleted, true);
});
