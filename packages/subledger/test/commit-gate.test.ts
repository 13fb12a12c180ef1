import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type TestContext, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import { connect } from '../src/store/index.ts';
import { CommitGate, Inbox } from '../src/sync/index.ts';
import { testDatabase } from './support/database.ts';
import { inboxEventWith } from './support/inbox-events.ts';

const elapsedMs = async (work: Promise<unknown> | null) => {
  const started = performance.now();
  await work;
  return performance.now() - started;
};

test('with no commit in flight a statement is not held at all', () => {
  assert.equal(new CommitGate().holdBack(1_000), null);
});

test('a held statement goes as soon as the last commit in flight ends', async () => {
  const gate = new CommitGate();
  gate.enter();
  gate.enter();
  setTimeout(() => gate.leave(), 20);
  setTimeout(() => gate.leave(), 60);
  const waited = await elapsedMs(gate.holdBack(5_000));
  assert.ok(waited >= 55 && waited < 2_000, `held ${waited} ms`);
  assert.equal(gate.inFlight, 0);
});

test('a statement is held no longer than the bound, whatever the commit does', async () => {
  const gate = new CommitGate();
  gate.enter();
  const waited = await elapsedMs(gate.holdBack(40));
  assert.ok(waited >= 35 && waited < 2_000, `held ${waited} ms`);
  assert.equal(gate.inFlight, 1);
});

test("the count is shared with another thread: a commit counted there holds this thread's statements", async () => {
  const gate = new CommitGate();
  const thread = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const count = new Int32Array(workerData);
     Atomics.add(count, 0, 1);
     parentPort.postMessage('entered');
     parentPort.once('message', () => { Atomics.sub(count, 0, 1); Atomics.notify(count, 0); });`,
    { eval: true, workerData: gate.buffer },
  );
  await once(thread, 'message');
  const held = gate.holdBack(5_000);
  assert.ok(held, 'the commit counted in the other thread is seen here');
  let released = false;
  void held.then(() => {
    released = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(released, false);
  thread.postMessage('leave');
  await held;
  assert.equal(gate.inFlight, 0);
  await thread.terminate();
});

test('the inbox counts its commit while it is in flight, and not after it, stored or failed', async () => {
  const gate = new CommitGate();
  const seen: number[] = [];
  let fail = false;
  const pool = {
    query: async () => {
      seen.push(gate.inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (fail) throw Object.assign(new Error('the server went away'), { code: '57P01' });
      return { rows: [{ ids: ['evt_gate_1'] }] };
    },
  } as unknown as pg.Pool;
  const inbox = new Inbox(pool, { gate, notifySpacingMs: 0 });
  assert.equal(await inbox.store(inboxEventWith('evt_gate_1')), 'stored');
  assert.equal(gate.inFlight, 0);
  fail = true;
  await assert.rejects(inbox.store(inboxEventWith('evt_gate_2')), /went away/);
  assert.equal(gate.inFlight, 0);
  assert.ok(seen.length >= 2 && seen.every((count) => count === 1), `counted ${seen}`);
});

/** A test database, and a one-connection pool on it whose statements the returned gate holds. */
async function heldPool(t: TestContext) {
  const database = await testDatabase();
  t.after(() => database.drop());
  const gate = new CommitGate();
  const workers = connect(database.url, { max: 1, holdStatements: () => gate.holdBack(5_000) });
  t.after(() => workers.close());
  return { database, gate, workers };
}

test('held statements are sent in the order they were given, promise or callback', async (t) => {
  const { database, gate, workers } = await heldPool(t);
  await workers.pool.query('create table held_order (seq bigserial, n int)');
  gate.enter();
  const client = await workers.pool.connect();
  const insert = 'insert into held_order (n) values ($1)';
  const given = [
    client.query(insert, [1]),
    new Promise<void>((resolve, reject) =>
      client.query(insert, [2], (error: Error | undefined) => (error ? reject(error) : resolve())),
    ),
    client.query(insert, [3]),
  ];
  await new Promise((resolve) => setTimeout(resolve, 50));
  const whileHeld = await database.pool.query('select count(*)::int as n from held_order');
  assert.equal(whileHeld.rows[0].n, 0, 'nothing is sent while the commit is in flight');
  gate.leave();
  await Promise.all(given);
  client.release();
  const viaPool = await workers.pool.query('select array_agg(n order by seq) as order from held_order');
  assert.deepEqual(viaPool.rows[0].order, [1, 2, 3]);

  gate.enter();
  let answered = false;
  const poolQuery = workers.pool.query('select 1').then(() => {
    answered = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(answered, false, "the pool's own query, a callback underneath, is held too");
  gate.leave();
  await poolQuery;
});

test("a transaction's start is held, its statements and its end are not, and the next start is held again", async (t) => {
  const { gate, workers } = await heldPool(t);
  await workers.pool.query('create table held_transaction (n int)');
  const client = await workers.pool.connect();
  const settledWithin = async (work: Promise<unknown>, ms: number) =>
    Promise.race([work.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), ms))]);

  try {
    gate.enter();
    const begun = client.query('begin');
    assert.equal(
      await settledWithin(begun, 50),
      false,
      'a transaction does not begin while a commit is in flight',
    );
    gate.leave();
    await begun;

    gate.enter();
    assert.equal(await settledWithin(client.query('insert into held_transaction values (1)'), 2_000), true);
    assert.equal(await settledWithin(client.query('savepoint inner_step'), 2_000), true);
    assert.equal(await settledWithin(client.query('rollback to savepoint inner_step'), 2_000), true);
    assert.equal(
      await settledWithin(
        client.query({ text: 'insert into held_transaction values ($1)', values: [2] }),
        2_000,
      ),
      true,
      'a rollback to a savepoint leaves the transaction open, its statements unheld',
    );
    assert.equal(await settledWithin(client.query('commit'), 2_000), true, 'nor is its commit');

    const outside = client.query('select count(*)::int as n from held_transaction');
    assert.equal(await settledWithin(outside, 50), false, 'a statement after the commit is held again');
    gate.leave();
    assert.equal((await outside).rows[0].n, 2);
  } finally {
    client.release();
  }
});
