import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { faultsOf, type RunningEmulator } from 'stripe-emulator';
import { formatEvent } from '../src/cli/inspect.ts';
import { createStripeClient } from '../src/stripe/index.ts';
import type { Limiter } from '../src/sync/limiter.ts';
import { MAX_ATTEMPTS } from '../src/sync/ordering.ts';
import { type HeldReads, type RefetchDependencies, refetchNow, serveRefetches } from '../src/sync/refetch.ts';
import { leaseRefetches, type RefetchRequest, settleRefetches } from '../src/sync/refetch-queue.ts';
import { Refetcher } from '../src/sync/refetcher.ts';
import { describeEvent, type EventRecord, replay } from '../src/sync/replay.ts';
import { failureReason } from '../src/sync/worker.ts';
import type { TestDatabase } from './support/database.ts';
import { ids, openRefetchFixture, refetchQueue, request } from './support/refetches.ts';

// Serving leased refetches: reading from Stripe, writing the mirror, handing back what failed.
let database: TestDatabase;
let emulator: RunningEmulator;
let deps: RefetchDependencies;
let close: () => Promise<void>;
before(async () => {
  ({ database, emulator, deps, close } = await openRefetchFixture(5));
});
after(() => close());

const { ask, liveRefetcher, queued, leasedBy, waitingEvent, eventState, serveOnce } = refetchQueue(
  () => database.pool,
);

test('serving: a busy serial key is not waited for; a failing read backs off; the rest is written', async () => {
  const stripe = deps.stripeFor(false);
  assert.ok(stripe);
  const [busy, free] = [await stripe.customers.create(), await stripe.customers.create()];
  await ask(request(busy.id), request(free.id));
  const refetcher = await liveRefetcher('refetcher-serve');
  const holder = await database.pool.connect();
  await holder.query('begin');
  await holder.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [`platform/${busy.id}`]);
  let leased = await leaseRefetches(database.pool, 'refetcher-serve', { limit: 10 });
  const first = await serveRefetches(deps, 'refetcher-serve', leased);
  assert.deepEqual(first, { written: 1, failures: [] });
  assert.deepEqual(await queued(busy.id), [
    { object_id: busy.id, leased_by: null, attempts: 0, last_error: null },
  ]);
  assert.deepEqual(await queued(free.id), []);
  await holder.query('commit');
  holder.release();

  faultsOf(emulator.emulator).configure({ next: { api: { fault: '500', method: 'GET', count: 1 } } });
  leased = await leaseRefetches(database.pool, 'refetcher-serve', { limit: 10 });
  const second = await serveRefetches(deps, 'refetcher-serve', leased);
  assert.equal(second.written, 0);
  assert.equal(second.failures.length, 1);
  const [failed] = await queued(busy.id);
  assert.equal(failed?.attempts, 1);
  assert.match(failed?.last_error ?? '', /./);

  leased = await leaseRefetches(database.pool, 'refetcher-serve', {
    limit: 10,
    serialKey: `platform/${busy.id}`,
  });
  assert.deepEqual(await serveRefetches(deps, 'refetcher-serve', leased), { written: 1, failures: [] });
  const mirrored = await database.pool.query(
    'select id, source from customers where id = any($1) order by id',
    [[busy.id, free.id].sort()],
  );
  assert.deepEqual(
    mirrored.rows,
    [busy.id, free.id].sort().map((id) => ({ id, source: 'fetch' })),
  );
  refetcher.release(true);
});

test('a refetched object’s customer the mirror lacks is read through the refetch limiter, once mirrored not at all', async () => {
  const stripe = deps.stripeFor(false);
  assert.ok(stripe);
  const customer = await stripe.customers.create();
  const intent = await stripe.paymentIntents.create({ amount: 1200, currency: 'usd', customer: customer.id });
  let reads = 0;
  const counting: Limiter = (call) => {
    reads++;
    return call();
  };
  const refetcher = await liveRefetcher('refetcher-limited');
  const serve = async (...requests: RefetchRequest[]) => {
    reads = 0;
    await ask(...requests);
    const leased = await leaseRefetches(database.pool, 'refetcher-limited', { limit: 10 });
    return serveRefetches({ ...deps, limiter: counting }, 'refetcher-limited', leased);
  };
  const intentRequest = { ...request(intent.id), kind: 'payment_intent' as const };
  try {
    assert.deepEqual(await serve(intentRequest), { written: 1, failures: [] });
    assert.equal(reads, 2, 'the payment intent, then its customer (is it on a test clock?)');
    assert.deepEqual(await serve(request(customer.id)), { written: 1, failures: [] });
    assert.equal(reads, 1);
    assert.deepEqual(await serve(intentRequest), { written: 1, failures: [] });
    assert.equal(reads, 1, 'the customer is mirrored now: only the payment intent is read');
  } finally {
    refetcher.release(true);
  }
});

test('a read whose key was busy is written on the next lease without reading again, unless asked again', async () => {
  const stripe = deps.stripeFor(false);
  assert.ok(stripe);
  const customer = await stripe.customers.create();
  const key = `platform/${customer.id}`;
  let reads = 0;
  const counting: Limiter = (call) => {
    reads++;
    return call();
  };
  const held: HeldReads = new Map();
  const refetcher = await liveRefetcher('refetcher-held');
  const serveOnce = async () => {
    reads = 0;
    const leased = await leaseRefetches(database.pool, 'refetcher-held', { limit: 10, serialKey: key });
    return serveRefetches({ ...deps, limiter: counting }, 'refetcher-held', leased, { held });
  };
  const worker = await openKeyHolder(key);
  try {
    await ask(request(customer.id));
    assert.deepEqual(await serveOnce(), { written: 0, failures: [] });
    assert.equal(reads, 1);
    await ask(request(customer.id)); // a newer event asks again: the held read is not enough
    assert.deepEqual(await serveOnce(), { written: 0, failures: [] });
    assert.equal(reads, 1, 'read anew for the newer request');
    await worker.end();
    assert.deepEqual(await serveOnce(), { written: 1, failures: [] });
    assert.equal(reads, 0, 'the held read is written: Stripe is not asked again');
    assert.deepEqual(await queued(customer.id), []);
    assert.equal(held.size, 0);
  } finally {
    await worker.end();
    refetcher.release(true);
  }
});

/** A transaction holding a serial key, as a worker applying that customer's events does. */
async function openKeyHolder(key: string) {
  const holder = await database.pool.connect();
  await holder.query('begin');
  await holder.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
  let ended = false;
  return {
    end: async () => {
      if (ended) return;
      ended = true;
      await holder.query('commit');
      holder.release();
    },
  };
}

test('a batch whose write fails hands every lease back with the reason, so it is tried again', async () => {
  const stripe = deps.stripeFor(false);
  assert.ok(stripe);
  const customer = await stripe.customers.create();
  await ask(request(customer.id));
  await database.pool.query(`
    create function test_refuse_write() returns trigger language plpgsql as $$
      begin raise exception 'the mirror refuses this write'; end $$;
    create trigger test_refuse_write before insert or update on customers
      for each row execute function test_refuse_write();`);
  const refetcher = await liveRefetcher('refetcher-refused');
  try {
    const leased = await leaseRefetches(database.pool, 'refetcher-refused', { limit: 10 });
    await assert.rejects(
      serveRefetches(deps, 'refetcher-refused', leased),
      (error) => failureReason(error) === 'the mirror refuses this write (P0001)',
    );
    assert.deepEqual(await queued(customer.id), [
      {
        object_id: customer.id,
        leased_by: null,
        attempts: 1,
        last_error: 'the mirror refuses this write (P0001)',
      },
    ]);
  } finally {
    await database.pool.query('drop trigger test_refuse_write on customers');
    refetcher.release(true);
  }
});

test('a direct read of a key waits for the read another live refetcher is doing of it', async () => {
  await ask(request('cus_busy1', 'platform/cus_busy'));
  const other = await liveRefetcher('refetcher-busy');
  const leased = await leaseRefetches(database.pool, 'refetcher-busy', {
    limit: 10,
    serialKey: 'platform/cus_busy',
  });
  assert.deepEqual(ids(leased), ['cus_busy1']);
  let otherSettledAt = 0;
  const otherFinishes = (async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const client = await database.pool.connect();
    await settleRefetches(client, leased, 'refetched');
    client.release();
    otherSettledAt = performance.now();
  })();
  await refetchNow(deps, 'platform/cus_busy');
  const returnedAt = performance.now();
  await otherFinishes;
  other.release(true);
  assert.ok(
    otherSettledAt > 0 && returnedAt >= otherSettledAt,
    'the direct read returned before the other read',
  );
  assert.deepEqual(await queued('cus_busy'), []);
});

test('leases a refetcher could not hand back, the database gone, are handed back by its next step', async () => {
  const stripe = deps.stripeFor(false);
  assert.ok(stripe);
  const customer = await stripe.customers.create({ name: 'stranded' });
  await ask(request(customer.id));
  // The database goes away while the refetcher reads from Stripe, and is back for its next step.
  let down = false;
  const unreachable = () =>
    Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  const pool = new Proxy(database.pool, {
    get(target, property, receiver) {
      if ((property === 'query' || property === 'connect') && down) return unreachable;
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  let outages = 1;
  const outage: Limiter = (call) => {
    if (outages-- > 0) down = true;
    return call();
  };
  const refetcher = new Refetcher({ ...deps, pool, limiter: outage });
  const session = await liveRefetcher(refetcher.id);
  try {
    await assert.rejects(refetcher.step(), /ECONNREFUSED/);
    down = false;
    assert.deepEqual(await leasedBy(customer.id), [refetcher.id]);
    // No other refetcher may take a live one's lease: only its own next step can hand it back.
    assert.equal(await refetcher.step(), 1);
    assert.deepEqual(await leasedBy(customer.id), [], 'read and settled');
  } finally {
    down = false;
    session.release(true);
  }
});

test('a read Stripe refuses MAX_ATTEMPTS times is given up, its events dead-lettered; an outage never is', async () => {
  const stripe = deps.stripeFor(false);
  assert.ok(stripe);
  const [outaged, refused] = [await stripe.customers.create(), await stripe.customers.create()];
  await waitingEvent('evt_given_up', refused.id);
  await ask(request(outaged.id), request(refused.id));
  const givenUp: string[][] = [];
  const reporting = (stripeFor: RefetchDependencies['stripeFor']): RefetchDependencies => ({
    ...deps,
    stripeFor,
    onGiveUp: (rows) => givenUp.push(ids(rows)),
  });
  // The emulator answers a key not of Stripe's form 401, as Stripe answers a revoked one.
  const badKey = createStripeClient({ secretKey: 'not_a_key', apiBase: emulator.url, maxNetworkRetries: 0 });
  const refetcher = await liveRefetcher('refetcher-giving-up');
  try {
    faultsOf(emulator.emulator).configure({
      next: { api: { fault: '500', method: 'GET', count: MAX_ATTEMPTS + 2 } },
    });
    for (let attempt = 1; attempt <= MAX_ATTEMPTS + 2; attempt++)
      assert.equal(
        (await serveOnce(reporting(deps.stripeFor), 'refetcher-giving-up', outaged.id)).failures.length,
        1,
      );
    assert.equal((await queued(outaged.id))[0]?.attempts, MAX_ATTEMPTS + 2, 'still queued after an outage');

    const refusing = reporting((livemode) => (livemode ? null : badKey));
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      assert.equal((await serveOnce(refusing, 'refetcher-giving-up', refused.id)).failures.length, 1);
      if (attempt === 2) {
        // Meanwhile `inspect event` shows the read it waits for, and why it failed.
        const record = (await describeEvent(database, 'evt_given_up')) as EventRecord;
        assert.equal(record.read?.attempts, 2);
        assert.match(formatEvent(record), /^read: +failed 2 times, next at \d{4}-.+Z: .+$/m);
      }
    }
    assert.deepEqual(givenUp, []);
    // The last attempt's read is asked for again while it is made: handed back, not given up.
    const leased = await leaseRefetches(database.pool, 'refetcher-giving-up', {
      limit: 10,
      serialKey: `platform/${refused.id}`,
    });
    await ask({ ...request(refused.id), knownCreated: 1_700_000_002 });
    await serveRefetches(refusing, 'refetcher-giving-up', leased);
    assert.deepEqual(givenUp, []);
    assert.equal((await queued(refused.id))[0]?.attempts, MAX_ATTEMPTS);
    await serveOnce(refusing, 'refetcher-giving-up', refused.id);
  } finally {
    refetcher.release(true);
  }
  assert.deepEqual(givenUp, [[refused.id]]);
  assert.deepEqual(await queued(refused.id), [], 'no longer queued');
  const event = await eventState('evt_given_up');
  assert.deepEqual([event?.status, event?.outcome], ['dead', 'dead']);
  assert.match(
    event?.last_error ?? '',
    new RegExp(`^Stripe refused the object's read ${MAX_ATTEMPTS} times: `),
  );
  assert.equal((await describeEvent(database, 'evt_given_up'))?.read, null);

  assert.deepEqual(await replay(database, { failed: true }), { ok: true, queued: 1 });
  const replayed = await database.pool.query(`select status from stripe_events where id = 'evt_given_up'`);
  assert.equal(replayed.rows[0].status, 'pending', 'the worker will ask for the read again');
});
