import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { linkAccounts } from '../src/sync/account-links.ts';
import type { MirrorWrite } from '../src/sync/mirror-writer.ts';
import type { Place } from '../src/sync/stripe-reads.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import {
  customerDeletedWrite,
  customerWrite,
  deletedCustomerWrite,
  freshPlace,
  PLATFORM,
  sessionWrite,
} from './support/link-writes.ts';
import { inOneTransaction, writeInTransaction } from './support/mirror-writes.ts';

// The account ↔ customer mapping, written through the same writer as webhooks and backfill.

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

const context = { accountKeys: [] };
const write = (writes: MirrorWrite[]) => writeInTransaction(database, writes, context);
const relink = (writes: MirrorWrite[]) =>
  inOneTransaction(database, (db) => linkAccounts(db, writes, context));

const links = async (place: Place = PLATFORM) =>
  (
    await database.pool.query<{ account_id: string; customer_id: string }>(
      `select account_id, customer_id from account_customers
       where stripe_account = $1 and livemode = $2 order by account_id`,
      [place.stripeAccount, place.livemode],
    )
  ).rows;

const linkOf = async (accountId: string, place: Place = PLATFORM) =>
  (
    await database.pool.query<{ customer_id: string; source: string }>(
      `select customer_id, source from account_customers
       where account_id = $1 and stripe_account = $2 and livemode = $3`,
      [accountId, place.stripeAccount, place.livemode],
    )
  ).rows[0] ?? null;

test('a customer whose metadata names another account moves there, in one batch with other customers', async () => {
  await write([customerWrite('cus_1', 'team_a', 0, 1), customerWrite('cus_2', 'team_b', 0, 1)]);
  assert.deepEqual(await links(), [
    { account_id: 'team_a', customer_id: 'cus_1' },
    { account_id: 'team_b', customer_id: 'cus_2' },
  ]);

  await write([customerWrite('cus_1', 'team_c', 0, 2), customerWrite('cus_3', 'team_d', 0, 1)]);
  assert.deepEqual(await links(), [
    { account_id: 'team_b', customer_id: 'cus_2' },
    { account_id: 'team_c', customer_id: 'cus_1' },
    { account_id: 'team_d', customer_id: 'cus_3' },
  ]);
});

test('the newest statement links an account, whatever order the objects are written in', async () => {
  const linked = async (accountId: string) => (await links()).find((row) => row.account_id === accountId);
  // A backfill lists sessions newest first: the older checkout comes last, in the same page or a later one.
  await write([
    sessionWrite('cs_new', 'cus_new', 'team_x', 2_000),
    sessionWrite('cs_old', 'cus_old', 'team_x', 1_000),
  ]);
  assert.deepEqual(await linked('team_x'), { account_id: 'team_x', customer_id: 'cus_new' });
  await write([sessionWrite('cs_old', 'cus_old', 'team_x', 1_000)]);
  assert.deepEqual(await linked('team_x'), { account_id: 'team_x', customer_id: 'cus_new' });
  // Nor does an older statement take a customer from the account a newer one gave it to.
  await write([sessionWrite('cs_other', 'cus_new', 'team_y', 1_500)]);
  assert.equal(await linked('team_y'), undefined);
  // A newer checkout moves the account on.
  await write([sessionWrite('cs_newest', 'cus_newest', 'team_x', 3_000)]);
  assert.deepEqual(await linked('team_x'), { account_id: 'team_x', customer_id: 'cus_newest' });
});

test('a customer whose metadata stops naming its account leaves it; a link a checkout session made stays', async () => {
  const place = freshPlace();
  await write([customerWrite('cus_rm', 'team_rm', 1_000, 1_000, place)]);
  assert.deepEqual(await linkOf('team_rm', place), { customer_id: 'cus_rm', source: 'customer_metadata' });
  // customer.updated: `metadata[subledger_account_id]=` removed the key.
  await write([customerWrite('cus_rm', null, 1_000, 2_000, place)]);
  assert.equal(await linkOf('team_rm', place), null);

  await write([
    customerWrite('cus_pl', null, 1_000, 1_000, place),
    sessionWrite('cs_pl', 'cus_pl', 'team_pl', 1_000, place),
  ]);
  await write([customerWrite('cus_pl', null, 1_000, 3_000, place)]);
  assert.deepEqual(await linkOf('team_pl', place), { customer_id: 'cus_pl', source: 'checkout_session' });
});

test('a customer whose metadata moves to an account a newer customer holds leaves its old account', async () => {
  const place = freshPlace();
  await write([
    customerWrite('cus_old', 'team_a', 1_000, 1_000, place),
    customerWrite('cus_new', 'team_b', 2_000, 2_000, place),
  ]);
  // An operator merges the accounts: cus_old's metadata now names team_b, whose newer customer keeps it.
  await write([customerWrite('cus_old', 'team_b', 1_000, 3_000, place)]);
  assert.deepEqual(await links(place), [{ account_id: 'team_b', customer_id: 'cus_new' }]);
});

test('metadata set after a checkout session linked the customer moves it to the account it names', async () => {
  const place = freshPlace();
  await write([customerWrite('cus_c', null, 1_000, 1_000, place)]);
  await write([sessionWrite('cs_c', 'cus_c', 'team_c', 3_000, place)]);
  assert.deepEqual(await links(place), [{ account_id: 'team_c', customer_id: 'cus_c' }]);
  await write([customerWrite('cus_c', 'team_d', 1_000, 5_000, place)]);
  assert.deepEqual(await links(place), [{ account_id: 'team_d', customer_id: 'cus_c' }]);
});

test('a checkout session naming another account than its customer’s metadata links nothing, whichever is written first', async () => {
  const customer = (place: Place) => customerWrite('cus_own', 'team_own', 1_000, 1_000, place);
  // The app's own Checkout on team_own's customer names the buyer.
  const session = (place: Place) => sessionWrite('cs_buyer', 'cus_own', 'user_buyer', 2_000, place);
  const orders: ((place: Place) => MirrorWrite[][])[] = [
    (place) => [[customer(place)], [session(place)]],
    (place) => [[session(place)], [customer(place)]],
    (place) => [[session(place), customer(place)]],
  ];
  for (const order of orders) {
    const place = freshPlace();
    for (const batch of order(place)) await write(batch);
    assert.deepEqual(await links(place), [{ account_id: 'team_own', customer_id: 'cus_own' }]);
  }
});

test('two customers created in the same second naming one account: the greater id holds it, whatever is written after', async () => {
  const orders = [
    ['cus_t1', 'cus_t2'],
    ['cus_t2', 'cus_t1'],
  ];
  for (const order of orders) {
    const place = freshPlace();
    const statement = (id: string | undefined, version: number) =>
      customerWrite(String(id), 'team_tie', 7_000, version, place);
    await write([statement(order[0], 7_000)]);
    await write([statement(order[1], 7_000)]);
    const held: (string | undefined)[] = [(await linkOf('team_tie', place))?.customer_id];
    // Updates that change nothing about the mapping (an email, a balance).
    for (const [index, id] of ['cus_t1', 'cus_t2', 'cus_t1'].entries()) {
      await write([statement(id, 8_000 + index)]);
      held.push((await linkOf('team_tie', place))?.customer_id);
    }
    assert.deepEqual(held, ['cus_t2', 'cus_t2', 'cus_t2', 'cus_t2'], `written ${order}`);
  }
  const place = freshPlace();
  await write([
    customerWrite('cus_t2', 'team_tie', 7_000, 7_000, place),
    customerWrite('cus_t1', 'team_tie', 7_000, 7_000, place),
  ]);
  assert.deepEqual(await links(place), [{ account_id: 'team_tie', customer_id: 'cus_t2' }], 'in one batch');
});

test('a customer recreated in the second its deleted predecessor was created takes the account', async () => {
  const place = freshPlace();
  await write([customerWrite('cus_z9', 'team_del', 4_000, 4_000, place)]);
  await write([deletedCustomerWrite('cus_z9', 4_001, place)]);
  assert.deepEqual(
    await links(place),
    [{ account_id: 'team_del', customer_id: 'cus_z9' }],
    'the tombstone keeps it',
  );
  await write([customerWrite('cus_a1', 'team_del', 4_000, 4_002, place)]);
  assert.deepEqual(await links(place), [{ account_id: 'team_del', customer_id: 'cus_a1' }]);
});

test('a customer recreated in its predecessor’s second takes the account when the deletion comes last', async () => {
  for (const deletion of [
    (place: Place) => deletedCustomerWrite('cus_z9', 4_002, place),
    (place: Place) => customerDeletedWrite('cus_z9', 'team_del', 4_000, 4_002, place),
  ]) {
    const place = freshPlace();
    await write([customerWrite('cus_z9', 'team_del', 4_000, 4_000, place)]);
    // Both live, the greater id holds the account.
    await write([customerWrite('cus_a1', 'team_del', 4_000, 4_001, place)]);
    assert.deepEqual(await links(place), [{ account_id: 'team_del', customer_id: 'cus_z9' }]);
    await write([deletion(place)]);
    assert.deepEqual(await links(place), [{ account_id: 'team_del', customer_id: 'cus_a1' }]);
  }
});

test('a deletion whose payload names no account withdraws the link its metadata made', async () => {
  // Its metadata changed in the second before; the payload says what the customer last had.
  const place = freshPlace();
  await write([customerWrite('cus_older', 'team_w', 1_000, 1_000, place)]);
  await write([customerWrite('cus_m', 'team_w', 2_000, 2_000, place)]);
  await write([customerDeletedWrite('cus_m', null, 2_000, 3_000, place)]);
  assert.deepEqual(await links(place), [{ account_id: 'team_w', customer_id: 'cus_older' }]);
});

test('a bare tombstone keeps the link and the refusals of the metadata its customer last had', async () => {
  const place = freshPlace();
  await write([
    customerWrite('cus_b', 'team_meta', 1_000, 1_000, place),
    sessionWrite('cs_refused', 'cus_b', 'team_buyer', 1_500, place),
  ]);
  await write([deletedCustomerWrite('cus_b', 2_000, place)]);
  assert.deepEqual(await links(place), [{ account_id: 'team_meta', customer_id: 'cus_b' }]);
});

test('a customer whose deletion is the first of it written keeps the link its payload states', async () => {
  // customer.created, .updated and .deleted claimed in one batch: the deletion, newest, is written alone.
  const together = freshPlace();
  await write([{ ...customerWrite('cus_gone', 'team_gone', 5_000, 5_001, together), deleted: true }]);
  // The same events in two batches: the live customer, then its deletion.
  const apart = freshPlace();
  await write([customerWrite('cus_gone', 'team_gone', 5_000, 5_000, apart)]);
  await write([{ ...customerWrite('cus_gone', 'team_gone', 5_000, 5_001, apart), deleted: true }]);
  assert.deepEqual(await links(together), [{ account_id: 'team_gone', customer_id: 'cus_gone' }]);
  assert.deepEqual(await links(apart), await links(together));
});

test('a backfill, in any order and any batches, ends with the links the webhooks made', async () => {
  // Each function makes one object of the same Stripe state, in the order it happened.
  const history: ((place: Place) => MirrorWrite)[] = [
    (place) => customerWrite('cus_a', 'team_1', 1_000, 1_000, place),
    (place) => customerWrite('cus_c', 'team_2', 1_500, 1_500, place),
    (place) => customerWrite('cus_d', 'team_2', 1_500, 1_500, place),
    (place) => customerWrite('cus_b', null, 2_000, 2_000, place),
    (place) => sessionWrite('cs_1', 'cus_b', 'team_1', 2_000, place),
    // Refused: cus_c's metadata names team_2.
    (place) => sessionWrite('cs_2', 'cus_c', 'team_3', 2_500, place),
    (place) => sessionWrite('cs_3', 'cus_e', 'team_4', 2_600, place),
    (place) => sessionWrite('cs_4', 'cus_e', 'team_5', 2_700, place),
  ];
  const expected = [
    { account_id: 'team_1', customer_id: 'cus_b' },
    { account_id: 'team_2', customer_id: 'cus_d' },
    { account_id: 'team_5', customer_id: 'cus_e' },
  ];
  const one = (writes: MirrorWrite[]) => writes.map((object) => [object]);
  const byKind = (writes: MirrorWrite[]) =>
    ['customer', 'checkout.session'].map((kind) => writes.filter((object) => object.kind === kind));
  const orders: [string, (writes: MirrorWrite[]) => MirrorWrite[][]][] = [
    ['webhooks, one by one', one],
    ['newest first, one by one', (writes) => one(writes.reverse())],
    ['newest first, one page per kind', (writes) => byKind(writes.reverse())],
    ['sessions before customers', (writes) => byKind(writes).reverse()],
    ['all in one batch', (writes) => [writes.reverse()]],
  ];
  for (const [name, batchesOf] of orders) {
    const place = freshPlace();
    for (const batch of batchesOf(history.map((make) => make(place)))) await write(batch);
    assert.deepEqual(await links(place), expected, name);
  }
});

test('the links withdrawn are returned with the links made, so the accounts left are told too', async () => {
  const place = freshPlace();
  await write([
    customerWrite('cus_m', 'team_from', 1_000, 1_000, place),
    customerWrite('cus_n', 'team_gone', 1_000, 1_000, place),
  ]);
  const changed = await relink([
    customerWrite('cus_m', 'team_to', 1_000, 2_000, place),
    customerWrite('cus_n', null, 1_000, 2_000, place),
  ]);
  assert.deepEqual(changed.map((link) => [link.accountId, link.customerId]).sort(), [
    ['team_from', 'cus_m'],
    ['team_gone', 'cus_n'],
    ['team_to', 'cus_m'],
  ]);
  // Nothing changes: nothing to tell.
  assert.deepEqual(await relink([customerWrite('cus_m', 'team_to', 1_000, 3_000, place)]), []);
});
