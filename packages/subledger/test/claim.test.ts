import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { API_VERSION } from '../src/stripe/index.ts';
import { claimOne, claimReady, lockSerialKey } from '../src/sync/claim.ts';
import { Inbox } from '../src/sync/inbox.ts';
import { connectionStringOf, WakeLoop } from '../src/sync/wake-loop.ts';
import { InboxWorker, isBehind, type WorkerOptions } from '../src/sync/worker.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { inboxEventWith } from './support/inbox-events.ts';
import { explainingClient } from './support/plans.ts';

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

const customerEvent = (id: string, customer: string) =>
  inboxEventWith(id, { data: { object: { id: customer, object: 'customer' } } });

/** Runs `work` in a transaction left open until the returned `end` is called (it rolls back). */
async function openTransaction(work: (client: pg.PoolClient) => Promise<void> = async () => {}) {
  const client = await database.pool.connect();
  await client.query('begin');
  await work(client);
  let ended = false;
  return {
    client,
    end: async () => {
      if (ended) return;
      ended = true;
      await client.query('rollback');
      client.release();
    },
  };
}

test('a claim leaves a busy key’s events free, so the next claim of that key starts from its oldest', async () => {
  const inbox = new Inbox(database.pool);
  for (const id of ['evt_busy_1', 'evt_free_1', 'evt_busy_2', 'evt_free_2', 'evt_busy_3'])
    await inbox.store(customerEvent(id, id.includes('busy') ? 'cus_busy' : 'cus_free'));
  await inbox.store(customerEvent('evt_probe', 'cus_busy'));
  const busyKey = 'platform/cus_busy';

  const holder = await openTransaction((client) => lockSerialKey(client, busyKey));
  const first = await openTransaction();
  const second = await openTransaction();
  try {
    const claimed = await claimReady(first.client, 100);
    assert.deepEqual(
      claimed.map((event) => event.id),
      ['evt_free_1', 'evt_free_2'],
      'only the free key’s events, in order',
    );
    await holder.end();
    // The first claim is still open: it did not lock the busy key's events, so all of them come next.
    const next = await claimReady(second.client, 100);
    assert.deepEqual(
      next.map((event) => event.id),
      ['evt_busy_1', 'evt_busy_2', 'evt_busy_3', 'evt_probe'],
    );
  } finally {
    for (const transaction of [holder, first, second]) await transaction.end().catch(() => {});
  }
});

test('a retried event waits for its key before it locks its row, so the key’s holder takes it in order', async () => {
  const inbox = new Inbox(database.pool);
  await inbox.store(customerEvent('evt_retry_1', 'cus_retry'));
  const key = 'platform/cus_retry';
  const holder = await openTransaction((client) => lockSerialKey(client, key));
  const retrying = await openTransaction();
  const probe = await openTransaction();
  try {
    const claimed = claimOne(retrying.client, 'evt_retry_1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    // While the retry waits for the key, its row is free: whoever holds the key may take it, oldest first.
    const row = await probe.client.query(`select id from stripe_events where id = $1 for update nowait`, [
      'evt_retry_1',
    ]);
    assert.equal(row.rowCount, 1);
    await probe.end();
    await holder.end();
    assert.deepEqual(
      (await claimed).map((event) => event.id),
      ['evt_retry_1'],
    );
  } finally {
    await probe.end();
    await holder.end();
    await retrying.end();
  }
});

test('a claim holds the keys of the events it took and no other', async () => {
  const inbox = new Inbox(database.pool);
  const customers = [1, 2, 3, 4, 5, 6, 1, 7];
  for (const [index, n] of customers.entries())
    await inbox.store(customerEvent(`evt_hold_${index}`, `cus_hold_${n}`));
  const claiming = await openTransaction();
  const other = await openTransaction();
  try {
    const claimed = await claimReady(claiming.client, 3);
    assert.equal(claimed.length, 3);
    const taken = new Set(claimed.map((event) => event.serialKey));
    const { rows } = await other.client.query<{ key: string; free: boolean }>(
      `select key, pg_try_advisory_xact_lock(hashtextextended(key, 0)) as free
       from (select distinct serial_key as key from stripe_events where status = 'pending') k`,
    );
    const held = rows
      .filter((row) => !row.free)
      .map((row) => row.key)
      .sort();
    assert.deepEqual(held, [...taken].sort());
  } finally {
    for (const transaction of [claiming, other]) await transaction.end().catch(() => {});
  }
});

test('a claim’s work grows with the backlog, not its square, when the statistics have not seen the backlog', async () => {
  // After an outage, or in a burst, the table's statistics say almost nothing is pending. Planned on
  // them, a claim once joined every ready event with every key for each event it returned: 75 million
  // rows for a backlog of 1,500, and minutes per claim of 2,000.
  const backlog = 600;
  await database.pool.query('delete from stripe_events');
  const insert = (count: number, status: string) =>
    database.pool.query(
      `insert into stripe_events (id, type, livemode, stripe_account, created, serial_key, payload, status)
       select 'evt_plan_' || $2 || g, 'customer.updated', false, 'platform', 1, 'platform/cus_' || (g % 120),
              '{}'::json, $2
       from generate_series(1, $1) g`,
      [count, status],
    );
  await insert(2000, 'processed');
  await database.pool.query('analyze stripe_events');
  await insert(backlog, 'pending');
  const claiming = await openTransaction();
  const explaining = explainingClient(claiming.client);
  try {
    await claimReady(explaining.client, 200);
  } finally {
    await claiming.end();
  }
  const [touched] = explaining.touched;
  assert.ok(
    (touched as number) < 20 * backlog,
    `a claim of 200 from ${backlog} ready events touched ${touched} rows`,
  );
});

test('a loop that found nothing tries again as soon as a sibling finishes a step', async () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  let steps = 0;
  let freed = false;
  let longStepTaken = false;
  let takenAfterMs: number | null = null;
  const started = Date.now();
  const taken = Promise.withResolvers<void>();
  const loop = new WakeLoop({
    connectionString: connectionStringOf(database.pool),
    channel: 'subledger_test_wake',
    loops: 2,
    idleMs: 60_000,
    step: async () => {
      steps++;
      if (steps === 1) {
        // A batch that holds the keys of the next work; the other loop finds nothing meanwhile.
        await sleep(200);
        freed = true;
        return { found: 1, behind: true };
      }
      if (!freed || takenAfterMs !== null) return { found: 0, behind: false };
      if (!longStepTaken) {
        // The same loop goes straight on to a long batch: the freed work is for its sibling.
        longStepTaken = true;
        await sleep(3_000);
        return { found: 1, behind: true };
      }
      takenAfterMs = Date.now() - started;
      taken.resolve();
      return { found: 1, behind: true };
    },
  });
  await loop.start();
  await Promise.race([taken.promise, sleep(5_000)]);
  await loop.stop();
  assert.ok(takenAfterMs !== null && takenAfterMs < 1_500, `the freed work waited ${takenAfterMs} ms`);
});

test('after a step that was behind the loop goes on at once; after one that was not, it lets work gather', async () => {
  const outcomes = [
    { found: 10, behind: true },
    { found: 3, behind: false },
  ];
  const startedAt: number[] = [];
  const loop = new WakeLoop({
    connectionString: connectionStringOf(database.pool),
    channel: 'subledger_test_gather',
    loops: 1,
    idleMs: 60_000,
    gatherMs: 300,
    step: async () => {
      startedAt.push(performance.now());
      return outcomes.shift() ?? { found: 0, behind: false };
    },
  });
  await loop.start();
  while (startedAt.length < 3) await new Promise((resolve) => setTimeout(resolve, 20));
  await loop.stop();
  const [afterBehind, afterKeepingUp] = [1, 2].map(
    (i) => (startedAt[i] as number) - (startedAt[i - 1] as number),
  );
  assert.ok((afterBehind as number) < 100, `a step that was behind was followed after ${afterBehind} ms`);
  assert.ok((afterKeepingUp as number) >= 295, `a step keeping up was followed after ${afterKeepingUp} ms`);
});

/** A worker on the test database with one loop, so that the batches it takes are predictable. */
const oneLoopWorker = (options: Pick<WorkerOptions, 'batchSize' | 'gatherMs' | 'onBatch'>) =>
  new InboxWorker({
    pool: database.pool,
    apiVersion: API_VERSION,
    context: { accountKeys: ['subledger_account_id'] },
    concurrency: 1,
    ...options,
  });

for (const gatherMs of [0, 400])
  test(`events trickling in are applied in ${gatherMs ? 'one batch when gathered' : 'several batches without gathering'}`, async () => {
    await database.pool.query('delete from stripe_events');
    const batches: number[] = [];
    const worker = oneLoopWorker({
      batchSize: 100,
      gatherMs,
      onBatch: (report) => batches.push(report.claimed),
    });
    await worker.start();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the loops' first look, at start, found nothing
    try {
      const inbox = new Inbox(database.pool);
      for (let i = 0; i < 6; i++) {
        await inbox.store(inboxEventWith(`evt_trickle_${gatherMs}_${i}`));
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      const deadline = Date.now() + 5_000;
      while (batches.reduce((sum, n) => sum + n, 0) < 6 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      await worker.stop();
    }
    assert.equal(
      batches.reduce((sum, n) => sum + n, 0),
      6,
    );
    // The first event is taken as soon as it is notified; the five that trickle in meanwhile wait together.
    if (gatherMs) assert.deepEqual(batches, [1, 5]);
    else assert.ok(batches.length > 1, `one batch of ${batches[0]}`);
  });

test('a backlog is worked off in full batches back to back, without gathering between them', async () => {
  await database.pool.query('delete from stripe_events');
  const inbox = new Inbox(database.pool);
  await Promise.all(Array.from({ length: 25 }, (_, i) => inbox.store(inboxEventWith(`evt_backlog_${i}`))));
  const batches: number[] = [];
  const done = Promise.withResolvers<void>();
  const worker = oneLoopWorker({
    batchSize: 10,
    gatherMs: 2_000,
    onBatch: (report) => {
      batches.push(report.claimed);
      if (batches.reduce((sum, n) => sum + n, 0) === 25) done.resolve();
    },
  });
  const started = performance.now();
  await worker.start();
  await Promise.race([done.promise, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  const elapsed = performance.now() - started;
  await worker.stop();
  assert.deepEqual(batches, [10, 10, 5]);
  assert.ok(elapsed < 1_500, `the backlog took ${Math.round(elapsed)} ms`);
});

// biome-ignore format: one case per line
const BEHIND_CASES: [string, { claimed: number; oldestWaitMs: number }, boolean][] = [
  ['nothing claimed', { claimed: 0, oldestWaitMs: 0 }, false],
  ['a full batch', { claimed: 10, oldestWaitMs: 1 }, true],
  ['a partial batch of fresh events', { claimed: 3, oldestWaitMs: 30 }, false],
  ['a partial batch whose oldest waited four windows', { claimed: 3, oldestWaitMs: 100 }, false],
  ['a partial batch whose oldest waited longer', { claimed: 3, oldestWaitMs: 101 }, true],
];

for (const [name, report, behind] of BEHIND_CASES)
  test(`isBehind (batch 10, gather 25 ms): ${name} → ${behind}`, () => {
    assert.equal(isBehind(report, 10, 25), behind);
  });

test('isBehind without gathering: any work found means look again at once', () => {
  assert.equal(isBehind({ claimed: 1, oldestWaitMs: 0 }, 10, 0), true);
});
