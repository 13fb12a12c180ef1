import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  leaseRefetches,
  type RefetchRequest,
  returnRefetches,
  settleRefetches,
} from '../src/sync/refetch-queue.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { ids, refetchQueue, request } from './support/refetches.ts';

// The refetch queue's statements: asking, leasing, handing back and settling.
let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

const { ask, liveRefetcher, queued } = refetchQueue(() => database.pool);

test('a lease holds while its refetcher lives, and passes to another the moment it dies', async () => {
  await ask(request('cus_lease1'), request('cus_lease2'));
  const a = await liveRefetcher('refetcher-a');
  const leased = await leaseRefetches(database.pool, 'refetcher-a', { limit: 10, serialKey: undefined });
  assert.deepEqual(ids(leased.filter((row) => row.objectId.startsWith('cus_lease'))), [
    'cus_lease1',
    'cus_lease2',
  ]);
  const b = await liveRefetcher('refetcher-b');
  assert.deepEqual(await leaseRefetches(database.pool, 'refetcher-b', { limit: 10 }), []);
  a.release(true); // the process dies: its session and lock go (once the server notices the hang-up)
  let takenOver = await leaseRefetches(database.pool, 'refetcher-b', { limit: 10 });
  for (let tries = 0; takenOver.length === 0 && tries < 100; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    takenOver = await leaseRefetches(database.pool, 'refetcher-b', { limit: 10 });
  }
  assert.deepEqual(ids(takenOver), ['cus_lease1', 'cus_lease2']);
  const client = await database.pool.connect();
  await settleRefetches(client, takenOver, 'refetched');
  client.release();
  b.release(true);
  assert.deepEqual(await queued('cus_lease'), []);
});

test('a request made while its object is being read survives the settle and is ready again', async () => {
  await ask(request('cus_gen'));
  const a = await liveRefetcher('refetcher-gen');
  const leased = await leaseRefetches(database.pool, 'refetcher-gen', { limit: 10 });
  await ask(request('cus_gen')); // a newer event asks again while the read is in flight
  const client = await database.pool.connect();
  await settleRefetches(client, leased, 'refetched');
  await returnRefetches(client, 'refetcher-gen', leased);
  client.release();
  assert.deepEqual(await queued('cus_gen'), [
    { object_id: 'cus_gen', leased_by: null, attempts: 0, last_error: null },
  ]);
  const again = await leaseRefetches(database.pool, 'refetcher-gen', { limit: 10 });
  assert.deepEqual(ids(again), ['cus_gen']);
  // Settled, so that no later test's lease finds it once this refetcher's session is gone.
  const settling = await database.pool.connect();
  await settleRefetches(settling, again, 'refetched');
  settling.release();
  a.release(true);
});

test('a failed read is handed back with its reason and waits its backoff; a direct read does not wait', async () => {
  await ask(request('cus_fail'));
  const a = await liveRefetcher('refetcher-fail');
  const leased = await leaseRefetches(database.pool, 'refetcher-fail', { limit: 10 });
  const client = await database.pool.connect();
  await returnRefetches(client, 'refetcher-fail', leased, {
    error: 'Stripe said no',
    delaySeconds: () => 60,
    maxAttempts: 10,
    failing: "Stripe refused the object's read",
  });
  client.release();
  assert.deepEqual(await queued('cus_fail'), [
    { object_id: 'cus_fail', leased_by: null, attempts: 1, last_error: 'Stripe said no' },
  ]);
  assert.deepEqual(await leaseRefetches(database.pool, 'refetcher-fail', { limit: 10 }), []);
  const direct = await leaseRefetches(database.pool, 'refetcher-fail', {
    limit: 10,
    serialKey: 'platform/cus_fail',
  });
  assert.deepEqual(ids(direct), ['cus_fail']);
  const settling = await database.pool.connect();
  await settleRefetches(settling, direct, 'refetched');
  settling.release();
  a.release(true);
});

test('a new request for an object in backoff makes it ready again, its attempts kept', async () => {
  await ask(request('cus_backoff'));
  const refetcher = await liveRefetcher('refetcher-backoff');
  const lease = () => leaseRefetches(database.pool, 'refetcher-backoff', { limit: 10 });
  try {
    const client = await database.pool.connect();
    await returnRefetches(client, 'refetcher-backoff', await lease(), {
      error: 'Stripe is down',
      delaySeconds: () => 3600,
      maxAttempts: 10,
      failing: 'the read failed',
    });
    client.release();
    assert.deepEqual(await lease(), [], 'in backoff');
    await ask({ ...request('cus_backoff'), knownCreated: 1_700_000_100, reason: 'same_second' });
    const again = await lease();
    assert.deepEqual(ids(again), ['cus_backoff']);
    assert.equal(again[0]?.attempts, 1);
    const settling = await database.pool.connect();
    await settleRefetches(settling, again, 'refetched');
    settling.release();
  } finally {
    refetcher.release(true);
  }
});

test('settling a read relabels only the events of its own account and mode, not those of a reused custom id', async () => {
  const product = (stripeAccount: string, livemode: boolean): RefetchRequest => ({
    ...request('prod_settle'),
    kind: 'product',
    stripeAccount,
    livemode,
    serialKey: `${stripeAccount}/prod_settle`,
  });
  const places = [
    ['evt_settle_test', 'platform', false],
    ['evt_settle_live', 'platform', true],
    ['evt_settle_connect', 'acct_settle', false],
  ] as const;
  for (const [id, stripeAccount, livemode] of places)
    await database.pool.query(
      `insert into stripe_events (id, type, livemode, stripe_account, created, object_type, object_id, serial_key,
         payload, status, outcome)
       values ($1, 'product.updated', $2, $3, 1700000000, 'product', 'prod_settle', $4, '{}', 'processed', 'refetch')`,
      [id, livemode, stripeAccount, `${stripeAccount}/prod_settle`],
    );
  await ask(...places.map(([, stripeAccount, livemode]) => product(stripeAccount, livemode)));
  const refetcher = await liveRefetcher('refetcher-settle');
  const client = await database.pool.connect();
  try {
    const leased = await leaseRefetches(database.pool, 'refetcher-settle', {
      limit: 10,
      serialKey: 'platform/prod_settle',
    });
    assert.deepEqual(leased.map((row) => row.livemode).sort(), [false, true]);
    await settleRefetches(
      client,
      leased.filter((row) => !row.livemode),
      'refetched',
    );
    const { rows } = await database.pool.query<{ id: string; outcome: string }>(
      `select id, outcome from stripe_events where object_id = 'prod_settle' order by id`,
    );
    assert.deepEqual(rows, [
      { id: 'evt_settle_connect', outcome: 'refetch' },
      { id: 'evt_settle_live', outcome: 'refetch' },
      { id: 'evt_settle_test', outcome: 'refetched' },
    ]);
  } finally {
    await client.query(`delete from sync_refetches where object_id = 'prod_settle'`);
    client.release();
    refetcher.release(true);
  }
});
