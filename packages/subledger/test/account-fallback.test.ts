import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { linkAccounts } from '../src/sync/account-links.ts';
import { type MirrorWrite, writeMirror } from '../src/sync/mirror-writer.ts';
import type { Place } from '../src/sync/stripe-reads.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { customerWrite, deletedCustomerWrite, freshPlace, sessionWrite } from './support/link-writes.ts';

// An account that loses its customer falls back on the newest other statement the mirror holds for it,
// at once, as reconcile or a backfill of the same Stripe state would link it.

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

const context = { accountKeys: [] };
const write = (writes: MirrorWrite[]) => writeMirror(database.db, writes, context);

const links = async (place: Place) =>
  (
    await database.pool.query<{ account_id: string; customer_id: string; source: string }>(
      `select account_id, customer_id, source from account_customers
       where stripe_account = $1 and livemode = $2 order by account_id`,
      [place.stripeAccount, place.livemode],
    )
  ).rows;

/** The links a backfill of the mirror's objects makes in an empty place: what the rule says they are. */
async function linksFromScratch(place: Place) {
  const rows = await database.pool.query<{ kind: string; id: string; data: Record<string, unknown> }>(
    `select 'customer' as kind, id, data from customers where stripe_account = $1 and not deleted
     union all select 'checkout.session', id, data from checkout_sessions where stripe_account = $1`,
    [place.stripeAccount],
  );
  const scratch = freshPlace();
  await write(
    rows.rows.map((row) => ({
      kind: row.kind as MirrorWrite['kind'],
      id: row.id,
      ...scratch,
      object: row.data,
      deleted: false,
      version: 1,
      eventId: null,
      source: 'fetch',
      readAt: new Date(),
    })),
  );
  return links(scratch);
}

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
  const changed = await linkAccounts(database.db, [removed], context);
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
  const changed = await linkAccounts(database.db, [removed], context);
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

const accountsOf = async (place: Place) =>
  (await links(place)).map((row) => ({ accountId: row.account_id, customerId: row.customer_id }));
