import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { postgresCode } from '../src/store/transaction.ts';
import { MAX_ATTEMPTS } from '../src/sync/ordering.ts';
import { lastingFailureOf, type RefetchDependencies, serveRefetches } from '../src/sync/refetch.ts';
import { leaseRefetches } from '../src/sync/refetch-queue.ts';
import { failureReason } from '../src/sync/worker.ts';
import type { TestDatabase } from './support/database.ts';
import { ids, openRefetchFixture, refetchQueue, request } from './support/refetches.ts';

// A read whose write the database refuses must not hold back the other reads of its batch, nor, when
// the database will refuse it every time, be retried for ever.
let database: TestDatabase;
let deps: RefetchDependencies;
let close: () => Promise<void>;
before(async () => {
  ({ database, deps, close } = await openRefetchFixture(6));
});
after(() => close());

const { ask, liveRefetcher, queued, waitingEvent, eventState, serveOnce } = refetchQueue(() => database.pool);

/** A test-only trigger: the database refuses any write of the customer `customerId`, with `sqlstate`. */
async function refuseWritesOf(customerId: string, sqlstate = 'P0001'): Promise<void> {
  const name = `refuse_${customerId}`.toLowerCase();
  await database.pool.query(`
    create function ${name}() returns trigger language plpgsql as $$
    begin
      if new.id = '${customerId}' then raise exception 'refused: %', new.id using errcode = '${sqlstate}'; end if;
      return new;
    end $$;
    create trigger ${name} before insert or update on customers for each row execute function ${name}();`);
}

const postgresError = (code: string) => Object.assign(new Error(`failed with ${code}`), { code });

// biome-ignore format: one failure per line
const FAILURES: [error: unknown, lasting: string | null][] = [
  [postgresError('22003'), 'Postgres refused to store the object'], // a quantity beyond its column
  [postgresError('22P05'), 'Postgres refused to store the object'], // a \u0000 in jsonb
  [postgresError('54000'), 'Postgres refused to store the object'], // an index row over its limit
  [new Error('query failed', { cause: postgresError('22021') }), 'Postgres refused to store the object'],
  [postgresError('55P03'), null], // a lock timeout
  [postgresError('40001'), null], // a serialization failure
  [postgresError('40P01'), null], // a deadlock
  [postgresError('57P01'), null], // the server shut down
  [postgresError('53300'), null], // too many connections
  [postgresError('ECONNREFUSED'), null],
  [Object.assign(new Error('forbidden'), { statusCode: 403 }), "Stripe refused the object's read"],
  [Object.assign(new Error('rate limited'), { statusCode: 429 }), null],
  [Object.assign(new Error('server error'), { statusCode: 500 }), null],
];

test('a failure that repeats whatever the wait is told from one that passes', () => {
  for (const [error, lasting] of FAILURES) assert.equal(lastingFailureOf(error), lasting, String(error));
});

test('a read whose write fails is handed back alone; the rest of the batch is written', async () => {
  const stripe = deps.stripeFor(false);
  assert.ok(stripe);
  const customers = [];
  for (let index = 0; index < 4; index++) customers.push((await stripe.customers.create()).id);
  const [poisoned, ...healthy] = customers as [string, ...string[]];
  await refuseWritesOf(poisoned);
  await ask(...customers.map((id) => request(id)));
  const refetcher = await liveRefetcher('refetcher-poison');
  try {
    await servePoisonedBatch(customers, poisoned, healthy);
  } finally {
    refetcher.release(true);
  }
});

async function servePoisonedBatch(customers: string[], poisoned: string, healthy: string[]): Promise<void> {
  const leased = await leaseRefetches(database.pool, 'refetcher-poison', { limit: 10 });
  assert.equal(leased.length, customers.length);
  const served = await serveRefetches(deps, 'refetcher-poison', leased);

  assert.equal(served.written, healthy.length);
  assert.equal(served.failures.length, 1);
  assert.match(failureReason(served.failures[0]), /refused/);
  const mirrored = await database.pool.query<{ id: string }>(
    'select id from customers where id = any($1) order by id',
    [customers],
  );
  assert.deepEqual(
    mirrored.rows.map((row) => row.id),
    [...healthy].sort(),
  );
  for (const id of healthy) assert.deepEqual(await queued(id), []);
  const [handedBack] = await queued(poisoned);
  assert.equal(handedBack?.leased_by, null);
  assert.equal(handedBack?.attempts, 1);
  assert.match(handedBack?.last_error ?? '', /refused/);
}

test('a read Postgres cannot store is given up after MAX_ATTEMPTS, its events dead-lettered; a lock timeout never is', async () => {
  const stripe = deps.stripeFor(false);
  assert.ok(stripe);
  // jsonb cannot hold \u0000, which Stripe's JSON may carry in any string.
  const unstorable = (await stripe.customers.create({ name: 'nul \u0000 inside' })).id;
  const [healthy, locked] = [(await stripe.customers.create()).id, (await stripe.customers.create()).id];
  await refuseWritesOf(locked, '55P03');
  await waitingEvent('evt_unstorable', unstorable);
  await waitingEvent('evt_locked', locked);
  await ask(request(unstorable), request(healthy), request(locked));
  const givenUp: string[][] = [];
  const reporting: RefetchDependencies = { ...deps, onGiveUp: (rows) => givenUp.push(ids(rows)) };
  const refetcher = await liveRefetcher('refetcher-unstorable');
  try {
    const leased = await leaseRefetches(database.pool, 'refetcher-unstorable', { limit: 10 });
    assert.deepEqual(ids(leased), [unstorable, healthy, locked].sort());
    const served = await serveRefetches(reporting, 'refetcher-unstorable', leased);
    assert.equal(served.written, 1, 'the object that can be stored is');
    assert.deepEqual(await queued(healthy), []);
    // A read written alone throws what its write failed with.
    const refusedAlone = (id: string, sqlstate: string) =>
      assert.rejects(
        serveOnce(reporting, 'refetcher-unstorable', id),
        (error) => postgresCode(error) === sqlstate,
      );
    for (let attempt = 2; attempt <= MAX_ATTEMPTS + 2; attempt++) {
      if (attempt <= MAX_ATTEMPTS) await refusedAlone(unstorable, '22P05');
      await refusedAlone(locked, '55P03');
      if (attempt < MAX_ATTEMPTS) assert.deepEqual(givenUp, [], `given up after ${attempt} attempts`);
    }
  } finally {
    refetcher.release(true);
  }
  assert.deepEqual(givenUp, [[unstorable]]);
  assert.deepEqual(await queued(unstorable), [], 'no longer queued');
  const dead = await eventState('evt_unstorable');
  assert.deepEqual([dead?.status, dead?.outcome], ['dead', 'dead']);
  assert.match(
    dead?.last_error ?? '',
    new RegExp(`^Postgres refused to store the object ${MAX_ATTEMPTS} times: .+\\(22`),
  );

  const [retried] = await queued(locked);
  assert.equal(retried?.attempts, MAX_ATTEMPTS + 2, 'a lock timeout passes: still queued');
  assert.match(retried?.last_error ?? '', /\(55P03\)$/);
  const waiting = await eventState('evt_locked');
  assert.deepEqual([waiting?.status, waiting?.outcome], ['processed', 'refetch']);
});

test('a lone read whose write fails does not hand back, with its error, what was not read beside it', async () => {
  const stripe = deps.stripeFor(false);
  assert.ok(stripe);
  const unstorable = (await stripe.customers.create({ name: '\u0000' })).id;
  // No live-mode key is configured: a live-mode object cannot be read, and is settled so.
  const liveOnly = { ...request('cus_live_beside'), livemode: true };
  await ask(request(unstorable), liveOnly);
  const refetcher = await liveRefetcher('refetcher-lone');
  try {
    const leased = await leaseRefetches(database.pool, 'refetcher-lone', { limit: 10 });
    assert.deepEqual(ids(leased), ['cus_live_beside', unstorable].sort());
    const served = await serveRefetches(deps, 'refetcher-lone', leased);
    assert.deepEqual([served.written, served.failures.length], [0, 1]);
  } finally {
    refetcher.release(true);
  }
  assert.deepEqual(await queued('cus_live_beside'), [], 'settled unfetchable, not retried');
  const [handedBack] = await queued(unstorable);
  assert.equal(handedBack?.attempts, 1);
  assert.match(handedBack?.last_error ?? '', /\(22/);
});
