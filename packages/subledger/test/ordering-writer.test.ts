import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { MOSTLY_SAME_SECOND, scheduleOf } from './support/timeline-schedules.ts';
import { CUSTOMERS, type Step, TimelineSync } from './support/timeline-sync.ts';

/**
 * The ordering rule as the sync engine runs it, on Postgres: the inbox worker's planner and writer, the
 * refetcher and a reconcile's write, against a Stripe whose customers change while events are on their
 * way and while reads are. Whatever the order, duplication and lateness of deliveries, and however
 * reads fall against changes of their own second, a row never goes back to an older state, and once
 * everything is delivered and read it holds what Stripe holds.
 */

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(async () => {
  await database?.drop();
});

const SEED = 20_240_611;

async function runAgainstEmptyMirror(steps: Step[]): Promise<TimelineSync> {
  await database.pool.query('truncate customers, stripe_events, sync_refetches');
  const sync = new TimelineSync(database);
  for (const step of steps) await sync.run(step);
  return sync;
}

test('property: deliveries and reads in any order never move a row backwards and end equal to Stripe', async () => {
  const schedule = scheduleOf({
    customers: CUSTOMERS.length,
    tick: fc.nat(2),
    weights: { change: 4, deliver: 3, refetch: 2, reconcile: 1 },
    racing: fc.constant([]),
    maxSteps: 12,
  });
  await fc.assert(
    fc.asyncProperty(schedule, async (steps) => {
      const sync = await runAgainstEmptyMirror(steps);
      await sync.settle();
      await sync.assertMirrorEqualsStripe();
    }),
    { seed: SEED, numRuns: 80 },
  );
});

/**
 * A reconcile locks the rows it writes, but a row it creates is not there for a worker's batch to wait
 * for: the batch plans as if there were none, and only the database's own check keeps its write from
 * going backwards. That check is what this property asks for; the next test shows the event that lost
 * the race is read again, so the row ends equal to Stripe.
 */
test('property: a worker batch racing a reconcile’s new row never moves it backwards', async () => {
  // The race needs a row no event has written yet, and a read of the second of the events racing it:
  // one customer, few deliveries before the reconciles, and a clock that seldom moves.
  const schedule = scheduleOf({
    customers: 1,
    tick: MOSTLY_SAME_SECOND,
    weights: { change: 4, deliver: 1, refetch: 1, reconcile: 3 },
    racing: fc.array(fc.nat(3), { minLength: 1, maxLength: 2 }),
    maxSteps: 8,
  });
  await fc.assert(
    fc.asyncProperty(schedule, async (steps) => {
      await runAgainstEmptyMirror(steps);
    }),
    // Without settling a run is cheap; the race is a narrow one.
    { seed: SEED, numRuns: 150 },
  );
});

test('a deletion applied while a reconcile creates the row of its second is not lost', async () => {
  const created: Step = { tick: 0, do: 'change', customer: 0, deletes: false, oldApi: false };
  const deleted: Step = { ...created, deletes: true };
  const sync = await runAgainstEmptyMirror([
    created,
    { tick: 1, do: 'reconcile', customer: 0, whileReading: [deleted], racing: [0] },
  ]);
  await sync.settle();
  await sync.assertMirrorEqualsStripe();
});
