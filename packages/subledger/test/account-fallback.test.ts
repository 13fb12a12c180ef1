import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { linkAccounts } from '../src/sync/account-links.ts';
import type { MirrorWrite } from '../src/sync/mirror-writer.ts';
import type { Place } from '../src/sync/stripe-reads.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { linksIn, linksFromScratch as scratchLinks } from './support/link-state.ts';
import { customerWrite, deletedCustomerWrite, freshPlace, sessionWrite } from './support/link-writes.ts';
import { inOneTransaction, writeInTransaction } from './support/mirror-writes.ts';

// An account that loses its customer falls back on the newest other statement the mirror holds for it,
// at once, as reconcile or a backfill of the same Stripe state would link it.

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

const context = { accountKeys: [] };
const write = (writes: MirrorWrite[]) => writeInTransaction(database, writes, context);
const relink = (writes: MirrorWrite[]) =>
  inOneTransaction(database, (db) => linkAccounts(db, writes, context));

const links = (place: Place) => linksIn(database, place);
const linksFromScratch = (place: Place) => scratchLinks(database, place);

const pairs = (changed: { accountId: string; customerId: string }[]) =>
  changed.map((link) => `${link.accountId}:${link.customerId}`).sort();

test('a customer whose metadata stops naming its account leaves it to the account’s older customer', async () => {
  const place = freshPlace();
  await write([customerWrite('cus_older', 'team_f', 1_000, 1_000, place)]);
  await write([customerWrite('cus_newer', 'team_f', 2_000, 2_000, place)]);
  assert.deepEqual(await links(place), [
    { account_id: 'team_f', customer_id: 'cus_newer', source: 'customer_metadata' },
  ]);

  const removed = customerWrite('cus_newer', null, 2_000, 3_000, place);
  const changed = await relink([removed]);
  assert.deepEqual(await links(place), [
    { account_id: 'team_f', customer_id: 'cus_older', source: 'customer_metadata' },
  ]);
  // Both are told: the customer that left, and the one the account fell back on.
  assert.deepEqual(pairs(changed), ['team_f:cus_newer', 'team_f:cus_older']);
  await write([removed]);
  assert.deepEqual(await links(place), await linksFromScratch(place));
});

test('an account whose customer moves to another account falls back on its older checkout', async () => {
  const place = freshPlace();
  await write([
    customerWrite('cus_1', null, 500, 500, place),
    customerWrite('cus_2', null, 500, 500, place),
    sessionWrite('cs_1', 'cus_1', 'team_x', 1_000, place),
  ]);
  await write([sessionWrite('cs_2', 'cus_2', 'team_x', 2_000, place)]);
  assert.deepEqual(pairs(await accountsOf(place)), ['team_x:cus_2']);
  // An operator names another account in cus_2's metadata: its session no longer links it to team_x.
  await write([customerWrite('cus_2', 'team_y', 500, 3_000, place)]);
  assert.deepEqual(await links(place), [
    { account_id: 'team_x', customer_id: 'cus_1', source: 'checkout_session' },
    { account_id: 'team_y', customer_id: 'cus_2', source: 'customer_metadata' },
  ]);
  assert.deepEqual(await links(place), await linksFromScratch(place));
});

test('an account that takes a customer back from another leaves that one to fall back in turn', async () => {
  const place = freshPlace();
  await write([
    sessionWrite('cs_z_old', 'cus_z2', 'team_z', 500, place),
    sessionWrite('cs_z', 'cus_shared', 'team_z', 1_000, place),
    customerWrite('cus_q', 'team_q', 3_000, 3_000, place),
  ]);
  // Refused for now: team_q's own customer states it later.
  await write([sessionWrite('cs_q', 'cus_shared', 'team_q', 2_000, place)]);
  assert.deepEqual(pairs(await accountsOf(place)), ['team_q:cus_q', 'team_z:cus_shared']);

  const removed = customerWrite('cus_q', null, 3_000, 4_000, place);
  const changed = await relink([removed]);
  // team_q falls back on cs_q, newer than cus_shared's link to team_z; team_z then on its older checkout.
  assert.deepEqual(pairs(await accountsOf(place)), ['team_q:cus_shared', 'team_z:cus_z2']);
  assert.deepEqual(pairs(changed), [
    'team_q:cus_q',
    'team_q:cus_shared',
    'team_z:cus_shared',
    'team_z:cus_z2',
  ]);
  await write([removed]);
  assert.deepEqual(await links(place), await linksFromScratch(place));
});

test('an account whose newest statement lost its customer to a newer link is linked by its next one', async () => {
  // cus_shared's newest statement names team_q, so team_z's newest statement links nothing; its older one does.
  const sessions = (place: Place) => [
    sessionWrite('cs_q', 'cus_shared', 'team_q', 2_000, place),
    sessionWrite('cs_z', 'cus_shared', 'team_z', 1_000, place),
    sessionWrite('cs_z_old', 'cus_z2', 'team_z', 500, place),
  ];
  // In one batch, as a backfill's page holds them, and one by one, newest first, as pages of one.
  const together = freshPlace();
  await write(sessions(together));
  assert.deepEqual(pairs(await accountsOf(together)), ['team_q:cus_shared', 'team_z:cus_z2']);
  const apart = freshPlace();
  for (const session of sessions(apart)) await write([session]);
  assert.deepEqual(pairs(await accountsOf(apart)), pairs(await accountsOf(together)));
});

test('an account falls back on no statement its customer’s metadata refuses; a deleted customer still states its account', async () => {
  const place = freshPlace();
  await write([
    customerWrite('cus_other', 'team_elsewhere', 500, 500, place),
    sessionWrite('cs_refused', 'cus_other', 'team_r', 1_000, place),
    customerWrite('cus_r', 'team_r', 2_000, 2_000, place),
  ]);
  await write([customerWrite('cus_r', null, 2_000, 3_000, place)]);
  assert.deepEqual(pairs(await accountsOf(place)), ['team_elsewhere:cus_other']);

  // A deleted customer whose row kept the metadata it last had still states its account.
  const deleted = freshPlace();
  await write([customerWrite('cus_gone', 'team_d', 1_000, 1_000, deleted)]);
  await write([deletedCustomerWrite('cus_gone', 1_500, deleted)]);
  await write([customerWrite('cus_now', 'team_d', 2_000, 2_000, deleted)]);
  await write([customerWrite('cus_now', null, 2_000, 3_000, deleted)]);
  assert.deepEqual(pairs(await accountsOf(deleted)), ['team_d:cus_gone']);
});

test('an account falls back on a customer whose bare tombstone is written in the same batch', async () => {
  const place = freshPlace();
  await write([customerWrite('cus_gone', 'team_d', 1_000, 1_000, place)]);
  await write([
    customerWrite('cus_new', null, 1_400, 1_400, place),
    sessionWrite('cs_d', 'cus_new', 'team_d', 1_500, place),
  ]);
  // The tombstone says nothing of the metadata; the row it is laid over still names team_d.
  await write([
    deletedCustomerWrite('cus_gone', 1_600, place),
    sessionWrite('cs_e', 'cus_new', 'team_e', 1_700, place),
  ]);
  assert.deepEqual(pairs(await accountsOf(place)), ['team_d:cus_gone', 'team_e:cus_new']);
  assert.deepEqual(await links(place), await linksFromScratch(place));
});

test('a checkout its customer’s metadata refused links the customer once the metadata names no account', async () => {
  const place = freshPlace();
  await write([
    customerWrite('cus_freed', 'team_meta', 1_000, 1_000, place),
    sessionWrite('cs_refused', 'cus_freed', 'team_buyer', 2_000, place),
  ]);
  assert.deepEqual(pairs(await accountsOf(place)), ['team_meta:cus_freed']);

  const cleared = customerWrite('cus_freed', null, 1_000, 3_000, place);
  const changed = await relink([cleared]);
  assert.deepEqual(await links(place), [
    { account_id: 'team_buyer', customer_id: 'cus_freed', source: 'checkout_session' },
  ]);
  // The account the customer left and the one its checkout now links are both told.
  assert.deepEqual(pairs(changed), ['team_buyer:cus_freed', 'team_meta:cus_freed']);
  await write([cleared]);
  assert.deepEqual(await links(place), await linksFromScratch(place));
});

test('a freed customer’s checkout does not take an account that holds a newer statement', async () => {
  const place = freshPlace();
  await write([
    customerWrite('cus_freed', 'team_meta', 1_000, 1_000, place),
    sessionWrite('cs_refused', 'cus_freed', 'team_buyer', 2_000, place),
    customerWrite('cus_newer', 'team_buyer', 2_500, 2_500, place),
  ]);
  await write([customerWrite('cus_freed', null, 1_000, 3_000, place)]);
  assert.deepEqual(pairs(await accountsOf(place)), ['team_buyer:cus_newer']);
  assert.deepEqual(await links(place), await linksFromScratch(place));
});

test('a customer whose account takes a newer customer falls back on its older checkout of another account', async () => {
  const place = freshPlace();
  for (const event of [
    customerWrite('cus_moved', null, 1_000, 1_000, place),
    sessionWrite('cs_first', 'cus_moved', 'team_first', 1_001, place),
    sessionWrite('cs_second', 'cus_moved', 'team_second', 1_011, place),
  ])
    await write([event]);
  assert.deepEqual(pairs(await accountsOf(place)), ['team_second:cus_moved']);

  await write([customerWrite('cus_newer', 'team_second', 1_020, 1_020, place)]);
  assert.deepEqual(pairs(await accountsOf(place)), ['team_first:cus_moved', 'team_second:cus_newer']);
  assert.deepEqual(await links(place), await linksFromScratch(place));
});

test('a checkout its customer’s metadata refused links it once the metadata names the checkout’s account', async () => {
  const place = freshPlace();
  for (const event of [
    customerWrite('cus_named', 'team_before', 1_000, 1_000, place),
    customerWrite('cus_other', null, 1_010, 1_010, place),
    sessionWrite('cs_other', 'cus_other', 'team_after', 1_011, place),
    sessionWrite('cs_refused', 'cus_named', 'team_after', 1_021, place),
  ])
    await write([event]);
  assert.deepEqual(pairs(await accountsOf(place)), ['team_after:cus_other', 'team_before:cus_named']);

  // The metadata states team_after as of the customer's creation, older than cs_other; cs_refused is newer.
  await write([customerWrite('cus_named', 'team_after', 1_000, 1_031, place)]);
  assert.deepEqual(await links(place), [
    { account_id: 'team_after', customer_id: 'cus_named', source: 'checkout_session' },
  ]);
  assert.deepEqual(await links(place), await linksFromScratch(place));
});

test('in one batch, an account whose newest checkout lost its customer falls back on a customer the batch names it in', async () => {
  const history = (place: Place) => [
    customerWrite('cus_meta', 'team_3', 1_000, 1_000, place),
    customerWrite('cus_buyer', null, 1_010, 1_010, place),
    sessionWrite('cs_older', 'cus_buyer', 'team_3', 1_011, place),
    sessionWrite('cs_newer', 'cus_buyer', 'team_1', 1_021, place),
  ];
  const expected = ['team_1:cus_buyer', 'team_3:cus_meta'];
  const webhooks = freshPlace();
  for (const event of history(webhooks)) await write([event]);
  assert.deepEqual(pairs(await accountsOf(webhooks)), expected);
  const backfill = freshPlace();
  await write(history(backfill).reverse());
  assert.deepEqual(pairs(await accountsOf(backfill)), expected);
});

test('an account its customer withdraws from takes its newest statement, even when the batch states an older one', async () => {
  // A backfill, newest first: cs_buyer was outdated for team_1 by cs_first, which cus_first's metadata
  // then withdraws in the same batch that states cus_meta, older than cs_buyer, for team_1.
  const place = freshPlace();
  for (const batch of [
    [customerWrite('cus_buyer', null, 1_020, 1_041, place)],
    [sessionWrite('cs_first', 'cus_first', 'team_1', 1_031, place)],
    [sessionWrite('cs_buyer', 'cus_buyer', 'team_1', 1_021, place)],
    [
      customerWrite('cus_first', 'team_2', 1_010, 1_011, place),
      customerWrite('cus_meta', 'team_1', 1_000, 1_001, place),
    ],
  ])
    await write(batch);
  assert.deepEqual(pairs(await accountsOf(place)), ['team_1:cus_buyer', 'team_2:cus_first']);
  assert.deepEqual(await links(place), await linksFromScratch(place));
});

test('an account left in the round its old customer takes a newer account falls back past that customer', async () => {
  // cs_last moves cus_3 from team_1 to team_2, whose cus_2 falls back on team_3 (1_021): team_1's newest
  // other statement names cus_2 (1_011), so team_1 must be linked by its next, cus_1's.
  const place = freshPlace();
  for (const event of [
    sessionWrite('cs_1', 'cus_1', 'team_1', 1_001, place),
    sessionWrite('cs_2', 'cus_2', 'team_1', 1_011, place),
    sessionWrite('cs_3', 'cus_2', 'team_3', 1_021, place),
    sessionWrite('cs_4', 'cus_2', 'team_2', 1_031, place),
    sessionWrite('cs_5', 'cus_3', 'team_1', 1_041, place),
  ])
    await write([event]);
  assert.deepEqual(pairs(await accountsOf(place)), ['team_1:cus_3', 'team_2:cus_2']);

  await write([sessionWrite('cs_last', 'cus_3', 'team_2', 1_051, place)]);
  assert.deepEqual(pairs(await accountsOf(place)), ['team_1:cus_1', 'team_2:cus_3', 'team_3:cus_2']);
  assert.deepEqual(await links(place), await linksFromScratch(place));
});

test('a batch statement older than its customer’s link does not keep its account from the batch’s next', async () => {
  // cs_taken names cus_taken, linked to team_b by a newer checkout: team_a's next statement in the
  // batch, cs_next, is still newer than the link team_a holds.
  const place = freshPlace();
  await write([sessionWrite('cs_held', 'cus_held', 'team_a', 1_001, place)]);
  await write([sessionWrite('cs_b', 'cus_taken', 'team_b', 1_041, place)]);
  await write([
    sessionWrite('cs_taken', 'cus_taken', 'team_a', 1_031, place),
    sessionWrite('cs_next', 'cus_next', 'team_a', 1_021, place),
  ]);
  assert.deepEqual(pairs(await accountsOf(place)), ['team_a:cus_next', 'team_b:cus_taken']);
  assert.deepEqual(await links(place), await linksFromScratch(place));
});

const accountsOf = async (place: Place) =>
  (await links(place)).map((row) => ({ accountId: row.account_id, customerId: row.customer_id }));
