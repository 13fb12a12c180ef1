import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { inTransaction } from '../src/store/transaction.ts';
import { type MirrorWrite, writeMirror } from '../src/sync/mirror-writer.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { CONTEXT, fromEvent, MIRRORED_AT, missingOnRead } from './support/mirror-writes.ts';

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

/**
 * Writes in one transaction, as the worker does, and returns the writes that took effect with the
 * statements that wrote mirror rows (an `insert into` the mirror, alone or in a `with`) and those that
 * notified.
 */
async function writeCounting(writes: MirrorWrite[]) {
  const statements: string[] = [];
  const written = await inTransaction(database.pool, (client) => {
    const send = client.query.bind(client) as (...args: unknown[]) => unknown;
    const counting = (...args: unknown[]) => {
      const text = typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string }).text);
      statements.push(text);
      return send(...args);
    };
    return writeMirror(
      drizzle(Object.assign(Object.create(client), { query: counting }) as pg.PoolClient),
      writes,
      CONTEXT,
    );
  });
  const upserts = statements.filter((text) =>
    /insert into "(?!account_customers)|delete from "subscription_items"/.test(text),
  );
  return { written, upserts, notices: statements.filter((text) => text.includes('pg_notify')) };
}

const row = async (table: string, id: string) =>
  (await database.pool.query(`select * from ${table} where id = $1`, [id])).rows[0];

test("a batch's upserts of several kinds are one statement, and each row is written as alone", async () => {
  const customer = { id: 'cus_together', object: 'customer', email: 'a@example.com', metadata: {} };
  // An entitlement summary's id is its customer's: one id, two tables.
  const summary = {
    id: 'cus_together',
    object: 'entitlements.active_entitlement_summary',
    customer: 'cus_together',
    entitlements: { object: 'list', data: [], has_more: false },
  };
  const invoice = { id: 'in_together', object: 'invoice', customer: 'cus_together', status: 'open' };
  await writeCounting([
    fromEvent('price', { id: 'price_gone', object: 'price', active: true, product: 'prod_1' }),
  ]);

  const writes = [
    fromEvent('customer', customer),
    fromEvent('entitlements.active_entitlement_summary', summary),
    fromEvent('invoice', invoice),
    missingOnRead('price', 'price_gone', MIRRORED_AT + 5),
  ];
  const { written, upserts } = await writeCounting(writes);

  assert.equal(upserts.length, 1, 'one statement for the four upserts');
  assert.deepEqual(new Set(written), new Set(writes));
  assert.equal((await row('customers', 'cus_together')).email, 'a@example.com');
  assert.equal((await row('active_entitlements', 'cus_together')).last_event_id, 'evt_cus_together');
  assert.equal((await row('invoices', 'in_together')).status, 'open');
  const price = await row('prices', 'price_gone');
  assert.equal(price.deleted, true);
  assert.equal(price.data.product, 'prod_1', 'the tombstone lies over the object the row held');
});

test('in one statement, a write older than its row is not reported, and the others are', async () => {
  const newer = { id: 'cus_kept', object: 'customer', email: 'new@example.com', metadata: {} };
  await writeCounting([fromEvent('customer', newer, { version: MIRRORED_AT + 10 })]);
  const older = fromEvent('customer', { ...newer, email: 'old@example.com' });
  const invoice = fromEvent('invoice', {
    id: 'in_kept',
    object: 'invoice',
    customer: 'cus_kept',
    status: 'paid',
  });

  const { written, upserts } = await writeCounting([older, invoice]);

  assert.equal(upserts.length, 1);
  assert.deepEqual(written, [invoice]);
  assert.equal((await row('customers', 'cus_kept')).email, 'new@example.com');
});

test('two writes of one row go apart, in order: the tombstone of a later read lies over the object', async () => {
  const price = { id: 'price_twice', object: 'price', active: true, product: 'prod_2' };
  const writes = [fromEvent('price', price), missingOnRead('price', 'price_twice', MIRRORED_AT + 5)];

  const { written, upserts } = await writeCounting(writes);

  assert.equal(upserts.length, 2);
  assert.deepEqual(written, writes);
  const stored = await row('prices', 'price_twice');
  assert.equal(stored.deleted, true);
  assert.equal(stored.data.product, 'prod_2');
});

test("a subscription's items are removed and written in one statement", async () => {
  const items = (...ids: string[]) => ({
    object: 'list',
    has_more: false,
    data: ids.map((id) => ({ id, object: 'subscription_item', price: { id: 'price_1', object: 'price' } })),
  });
  const subscription = { id: 'sub_items', object: 'subscription', customer: 'cus_items', status: 'active' };
  await writeCounting([fromEvent('subscription', { ...subscription, items: items('si_1', 'si_2') })]);

  const { upserts } = await writeCounting([
    fromEvent(
      'subscription',
      { ...subscription, items: items('si_2', 'si_3') },
      { version: MIRRORED_AT + 1 },
    ),
  ]);

  const itemStatements = upserts.filter((text) => text.includes('subscription_items'));
  assert.equal(itemStatements.length, 1);
  assert.match(
    itemStatements[0] as string,
    /delete from "subscription_items"[\s\S]*insert into "subscription_items"/,
  );
  const { rows } = await database.pool.query(
    `select id from subscription_items where subscription_id = 'sub_items' order by id`,
  );
  assert.deepEqual(
    rows.map((row) => row.id),
    ['si_2', 'si_3'],
  );
});

test("a paid invoice's access notice and credit grant request are one statement", async () => {
  const invoice = { id: 'in_paid_told', object: 'invoice', customer: 'cus_told', status: 'paid' };

  const { notices } = await writeCounting([fromEvent('invoice', invoice)]);

  assert.equal(notices.length, 1);
  assert.match(notices[0] as string, /credit_grant_requests/);
  const { rows } = await database.pool.query(
    `select source_kind from credit_grant_requests where source_id = 'in_paid_told'`,
  );
  assert.deepEqual(
    rows.map((row) => row.source_kind),
    ['invoice'],
  );
});
