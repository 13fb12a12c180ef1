import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type RefetchDependencies, serveRefetches } from '../src/sync/refetch.ts';
import { leaseRefetches } from '../src/sync/refetch-queue.ts';
import { failureReason } from '../src/sync/worker.ts';
import type { TestDatabase } from './support/database.ts';
import { openRefetchFixture, refetchQueue, request } from './support/refetches.ts';

// A read whose write the database refuses must not hold back the other reads of its batch.
let database: TestDatabase;
let deps: RefetchDependencies;
let close: () => Promise<void>;
before(async () => {
  ({ database, deps, close } = await openRefetchFixture(6));
});
after(() => close());

const { ask, liveRefetcher, queued } = refetchQueue(() => database.pool);

/** A test-only trigger: the database refuses any write of the customer named `poisoned`. */
async function refuseWritesOf(customerId: string): Promise<void> {
  await database.pool.query(`
    create function refuse_poisoned() returns trigger language plpgsql as $$
    begin
      if new.id = '${customerId}' then raise exception 'refused: %', new.id; end if;
      return new;
    end $$;
    create trigger refuse_poisoned before insert or update on customers
      for each row execute function refuse_poisoned();`);
}

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
