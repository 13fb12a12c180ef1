import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type MirrorWrite, writeMirror } from '../src/sync/mirror-writer.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

const customerWrite = (id: string, accountId: string, version: number): MirrorWrite => ({
  kind: 'customer',
  id,
  stripeAccount: 'platform',
  livemode: false,
  object: { id, object: 'customer', metadata: { subledger_account_id: accountId } },
  deleted: false,
  version,
  eventId: `evt_${id}_${version}`,
  source: 'event',
});

const links = async () =>
  (
    await database.pool.query<{ account_id: string; customer_id: string }>(
      'select account_id, customer_id from account_customers order by account_id',
    )
  ).rows;

test('a customer whose metadata names another account moves there, in one batch with other customers', async () => {
  const write = (writes: MirrorWrite[]) => writeMirror(database.db, writes, { accountKeys: [] });
  await write([customerWrite('cus_1', 'team_a', 1), customerWrite('cus_2', 'team_b', 1)]);
  assert.deepEqual(await links(), [
    { account_id: 'team_a', customer_id: 'cus_1' },
    { account_id: 'team_b', customer_id: 'cus_2' },
  ]);

  await write([customerWrite('cus_1', 'team_c', 2), customerWrite('cus_3', 'team_d', 1)]);
  assert.deepEqual(await links(), [
    { account_id: 'team_b', customer_id: 'cus_2' },
    { account_id: 'team_c', customer_id: 'cus_1' },
    { account_id: 'team_d', customer_id: 'cus_3' },
  ]);
});

const sessionWrite = (id: string, customer: string, accountId: string, created: number): MirrorWrite => ({
  kind: 'checkout.session',
  id,
  stripeAccount: 'platform',
  livemode: false,
  object: {
    id,
    object: 'checkout.session',
    status: 'complete',
    customer,
    client_reference_id: accountId,
    created,
  },
  deleted: false,
  version: created,
  eventId: `evt_${id}`,
  source: 'event',
});

test('the newest statement links an account, whatever order the objects are written in', async () => {
  const write = (writes: MirrorWrite[]) => writeMirror(database.db, writes, { accountKeys: [] });
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
