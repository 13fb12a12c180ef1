import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { drizzle } from 'drizzle-orm/node-postgres';
import { inTransaction } from '../src/store/transaction.ts';
import type { StripeObject } from '../src/sync/envelope.ts';
import { type MirrorWrite, writeMirror } from '../src/sync/mirror-writer.ts';
import { installWriteLog, readWriteLog } from './support/apply-audit.ts';
import { readMisorderedWrites } from './support/apply-audit-order.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';

/**
 * The write log's ordering checks can fail: a subscription (and its item, which follows it) written the
 * way the mirror writer writes is let through, while an event written over a row of its own second, or
 * over a row a later-emitted event wrote, is reported, item and all.
 */

const CONTEXT = { accountKeys: ['subledger_account_id'] };
const PLACE = { stripeAccount: 'platform', livemode: false };
const SECOND = 1_800_000_000;
/** The order in which Stripe emitted the events these tests write. */
const EMITTED = ['evt_first', 'evt_second', 'evt_third'];

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
  await installWriteLog(database.pool);
});
after(() => database.drop());

const subscription = (id: string): StripeObject => ({
  id,
  object: 'subscription',
  customer: `cus_${id}`,
  status: 'active',
  items: {
    object: 'list',
    data: [{ id: `si_${id}`, object: 'subscription_item', price: { id: 'price_basic' }, quantity: 1 }],
    has_more: false,
  },
});

/** Writes through the mirror writer, which keeps the ordering rule; returns the writes that took effect. */
const write = (written: MirrorWrite) =>
  inTransaction(database.pool, (client) => writeMirror(drizzle(client), [written], CONTEXT));

const subscriptionAt = (id: string, version: number) =>
  ({ kind: 'subscription', id, ...PLACE, object: subscription(id), deleted: false, version }) as const;

const fromEvent = (id: string, eventId: string, version: number): MirrorWrite => ({
  ...subscriptionAt(id, version),
  eventId,
  source: 'event',
});

const fromFetch = (id: string, version: number, readAt: Date): MirrorWrite => ({
  ...subscriptionAt(id, version),
  eventId: null,
  source: 'fetch',
  readAt,
});

/** Writes an event over a subscription and its items whatever they hold, as a writer without the rule would. */
const overwrite = (id: string, eventId: string, version: number) =>
  database.pool.query(
    `with subscription as (
       update subscriptions set last_event_id = $2, last_event_created = $3, source = 'event' where id = $1)
     update subscription_items set last_event_id = $2, last_event_created = $3, source = 'event'
     where subscription_id = $1`,
    [id, eventId, version],
  );

/** What the checks report about one subscription and its item, subscription first. */
async function findingsFor(id: string) {
  const ours = <T extends { id: string }>(found: T[]) => [
    ...found.filter((finding) => finding.id === id),
    ...found.filter((finding) => finding.id === `si_${id}`),
  ];
  const log = await readWriteLog(database.pool);
  return {
    backwards: ours(log.backwards),
    notNewer: ours(log.notNewer),
    misordered: ours(await readMisorderedWrites(database.pool, EMITTED)),
  };
}

const syncedAt = async (id: string): Promise<Date> =>
  (await database.pool.query('select synced_at from subscriptions where id = $1', [id])).rows[0].synced_at;

test('strictly newer events, and a read of the row’s second begun after the row was written, report nothing', async () => {
  await write(fromEvent('sub_kept', 'evt_first', SECOND));
  await write(fromEvent('sub_kept', 'evt_second', SECOND + 1));
  const readAfterRow = new Date((await syncedAt('sub_kept')).getTime() + 1);
  assert.equal((await write(fromFetch('sub_kept', SECOND + 1, readAfterRow))).length, 1, 'the read won');
  assert.equal((await write(fromEvent('sub_kept', 'evt_third', SECOND + 2))).length, 1);

  const sources = await database.pool.query<{ source: string }>(
    `select source from audit_mirror_writes where id in ('sub_kept', 'si_sub_kept') order by seq`,
  );
  assert.deepEqual(
    sources.rows.map((row) => row.source),
    ['event', 'event', 'event', 'event', 'fetch', 'fetch', 'event', 'event'],
    'the subscription and its item were written four times each',
  );
  assert.deepEqual(await findingsFor('sub_kept'), { backwards: [], notNewer: [], misordered: [] });
});

test('an event written over a row of its own second is reported, whichever was emitted first', async () => {
  await write(fromEvent('sub_tied', 'evt_second', SECOND));
  await overwrite('sub_tied', 'evt_third', SECOND);
  await write(fromEvent('sub_tied_back', 'evt_second', SECOND));
  await overwrite('sub_tied_back', 'evt_first', SECOND);

  const tied = await findingsFor('sub_tied');
  const change = { from: SECOND, to: SECOND, replacedEventId: 'evt_second' };
  assert.deepEqual(tied.notNewer, [
    { table: 'subscriptions', id: 'sub_tied', eventId: 'evt_third', ...change },
    { table: 'subscription_items', id: 'si_sub_tied', eventId: 'evt_third', ...change },
  ]);
  assert.deepEqual(tied.misordered, [], 'emitted in order');

  const back = await findingsFor('sub_tied_back');
  assert.deepEqual(back.notNewer, [
    { table: 'subscriptions', id: 'sub_tied_back', eventId: 'evt_first', ...change },
    { table: 'subscription_items', id: 'si_sub_tied_back', eventId: 'evt_first', ...change },
  ]);
  const misordered = { eventId: 'evt_first', laterEventId: 'evt_second', over: 'event' };
  assert.deepEqual(back.misordered, [
    { table: 'subscriptions', id: 'sub_tied_back', ...misordered },
    { table: 'subscription_items', id: 'si_sub_tied_back', ...misordered },
  ]);
  assert.deepEqual(back.backwards, [], 'the version did not drop');
});

test('an event emitted before the one that wrote the row is reported, even with a later second, and across a fetch', async () => {
  await write(fromEvent('sub_swapped', 'evt_third', SECOND));
  await overwrite('sub_swapped', 'evt_second', SECOND + 1);
  await write(fromEvent('sub_refetched', 'evt_third', SECOND));
  assert.equal((await write(fromFetch('sub_refetched', SECOND + 1, new Date()))).length, 1, 'the read won');
  await overwrite('sub_refetched', 'evt_second', SECOND + 2);

  const swapped = await findingsFor('sub_swapped');
  assert.deepEqual(swapped.notNewer, [], 'its second was newer');
  const overEvent = { eventId: 'evt_second', laterEventId: 'evt_third', over: 'event' };
  assert.deepEqual(swapped.misordered, [
    { table: 'subscriptions', id: 'sub_swapped', ...overEvent },
    { table: 'subscription_items', id: 'si_sub_swapped', ...overEvent },
  ]);

  const refetched = await findingsFor('sub_refetched');
  assert.deepEqual(refetched.notNewer, []);
  const overFetch = { ...overEvent, over: 'fetch' };
  assert.deepEqual(refetched.misordered, [
    { table: 'subscriptions', id: 'sub_refetched', ...overFetch },
    { table: 'subscription_items', id: 'si_sub_refetched', ...overFetch },
  ]);
});
