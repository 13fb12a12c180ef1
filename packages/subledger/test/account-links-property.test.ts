import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { MirrorWrite } from '../src/sync/mirror-writer.ts';
import type { Place } from '../src/sync/stripe-reads.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { linksFromScratch, linksIn } from './support/link-state.ts';
import {
  customerDeletedWrite,
  customerWrite,
  deletedCustomerWrite,
  freshPlace,
  sessionWrite,
} from './support/link-writes.ts';
import { writeInTransaction } from './support/mirror-writes.ts';

// Whatever the history of customers' metadata, completed checkouts and deletions, the links the
// webhooks leave, one event at a time or in batches, are the links the rule gives for the state they
// end in, written at once.

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

const context = { accountKeys: [] };
const ACCOUNTS = ['team_1', 'team_2', 'team_3'];
const CUSTOMERS = ['cus_1', 'cus_2', 'cus_3', 'cus_4'];

/**
 * One change in Stripe: a customer's metadata set (to an account or none), a checkout completed, or a
 * customer deleted; in the same second as the change before it, or later. A deleted customer's next
 * change is made on a new customer in its slot, as Stripe never reuses an id.
 */
type Change = { sameSecond: boolean } & (
  | { kind: 'metadata'; customer: number; account: number | null }
  | { kind: 'checkout'; customer: number; account: number }
  | { kind: 'delete'; customer: number; wholePayload: boolean }
);

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({
    kind: fc.constant('metadata' as const),
    customer: fc.nat(CUSTOMERS.length - 1),
    account: fc.option(fc.nat(ACCOUNTS.length - 1)),
    sameSecond: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('checkout' as const),
    customer: fc.nat(CUSTOMERS.length - 1),
    account: fc.nat(ACCOUNTS.length - 1),
    sameSecond: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    customer: fc.nat(CUSTOMERS.length - 1),
    // A `customer.deleted` payload holds the whole customer; a read of it, only its id.
    wholePayload: fc.boolean(),
    sameSecond: fc.boolean(),
  }),
);

/** A customer of a history: its id, when it was created, and the account its metadata names. */
type Customer = { id: string; created: number; account: string | null };

/**
 * The events of a history, in Stripe's order: a customer is created (with its metadata) the first time
 * a change names its slot, and keeps that creation time as its statement's.
 */
function eventsOf(history: Change[], place: Place): MirrorWrite[] {
  const live = new Map<number, Customer>();
  const deletions = new Map<number, number>();
  let now = 1_000;
  return history.flatMap((step, index) => {
    if (index > 0 && !step.sameSecond) now += 10;
    const writes: MirrorWrite[] = [];
    let customer = live.get(step.customer);
    if (!customer) {
      const generation = deletions.get(step.customer) ?? 0;
      const id = `${CUSTOMERS[step.customer]}${generation > 0 ? `_${generation}` : ''}`;
      customer = { id, created: now, account: null };
      live.set(step.customer, customer);
      if (step.kind !== 'metadata') writes.push(customerWrite(id, null, now, now, place));
    }
    if (step.kind === 'metadata') {
      customer.account = step.account === null ? null : (ACCOUNTS[step.account] as string);
      writes.push(customerWrite(customer.id, customer.account, customer.created, now + 1, place));
    } else if (step.kind === 'checkout')
      writes.push(sessionWrite(`cs_${index}`, customer.id, ACCOUNTS[step.account] as string, now + 1, place));
    else {
      writes.push(deletionOf(customer, step.wholePayload, now + 1, place));
      live.delete(step.customer);
      deletions.set(step.customer, (deletions.get(step.customer) ?? 0) + 1);
    }
    return writes;
  });
}

const deletionOf = (customer: Customer, wholePayload: boolean, at: number, place: Place) =>
  wholePayload
    ? customerDeletedWrite(customer.id, customer.account, customer.created, at, place)
    : deletedCustomerWrite(customer.id, at, place);

/** The pairs a place's links hold must be those its end state makes, written in one batch. */
async function assertLinksOfEndState(place: Place, history: Change[]) {
  // Which statement a link is kept by may differ when two state the same pair; the pairs may not.
  const pairs = (rows: { account_id: string; customer_id: string }[]) =>
    rows.map((row) => `${row.account_id}:${row.customer_id}`);
  assert.deepEqual(
    pairs(await linksIn(database, place)),
    pairs(await linksFromScratch(database, place)),
    JSON.stringify(history),
  );
}

test('the links events leave, one at a time, are the links the end state makes at once', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 12 }), async (history) => {
      const place = freshPlace();
      for (const event of eventsOf(history, place)) await writeInTransaction(database, [event], context);
      await assertLinksOfEndState(place, history);
    }),
    { numRuns: 60 },
  );
});

const batchSizes = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 12 });

/**
 * The events cut into batches of the sizes given in turn, each holding one write per object, as the
 * worker's coalescing and a backfill's pages do.
 */
function batchesOf(events: MirrorWrite[], sizes: number[]): MirrorWrite[][] {
  const batches: MirrorWrite[][] = [];
  for (let start = 0; start < events.length; ) {
    const size = sizes[batches.length % sizes.length] as number;
    batches.push([...new Map(events.slice(start, start + size).map((event) => [event.id, event])).values()]);
    start += size;
  }
  return batches;
}

test('the links of the same objects written in batches of any size, oldest or newest first, are the same', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(change, { minLength: 1, maxLength: 12 }),
      batchSizes,
      fc.boolean(),
      async (history, sizes, newestFirst) => {
        const place = freshPlace();
        const events = eventsOf(history, place);
        if (newestFirst) events.reverse();
        for (const batch of batchesOf(events, sizes)) await writeInTransaction(database, batch, context);
        await assertLinksOfEndState(place, history);
      },
    ),
    { numRuns: 60 },
  );
});

test('the links of batches written by two transactions at once are the same', async () => {
  // Two workers, or a worker and a backfill, each committing its batches in turn. Their link locks meet:
  // a fallback that finds another's held starts its linking again (`linkAccounts`); a transaction
  // PostgreSQL fails for the other is tried again, as the worker and backfill do.
  await fc.assert(
    fc.asyncProperty(
      fc.array(change, { minLength: 1, maxLength: 12 }),
      batchSizes,
      fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
      async (history, sizes, lanes) => {
        const place = freshPlace();
        const batches = batchesOf(eventsOf(history, place), sizes);
        const lane = async (first: boolean) => {
          for (const [n, batch] of batches.entries())
            if (lanes[n % lanes.length] === first) await writeInTransaction(database, batch, context);
        };
        await Promise.all([lane(true), lane(false)]);
        await assertLinksOfEndState(place, history);
      },
    ),
    { numRuns: 60 },
  );
});
