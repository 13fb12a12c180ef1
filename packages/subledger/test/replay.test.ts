import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { drainWebhooks } from 'stripe-emulator';
import { formatEvent } from '../src/cli/inspect.ts';
import { toReplaySelector } from '../src/cli/replay.ts';
import { MAX_ATTEMPTS } from '../src/sync/ordering.ts';
import { describeEvent, type EventRecord, replay } from '../src/sync/replay.ts';
import { runCli } from './support/run-cli.ts';
import { type Stack, startStack } from './support/stack.ts';

// Workers are off: each test delivers webhooks into the inbox, then drains the worker itself.
let stack: Stack;
before(async () => {
  stack = await startStack({ workers: false });
  await stack.database.pool.query(`
    create function refuse_outage_customer() returns trigger language plpgsql as $$
      begin raise exception 'simulated outage'; end $$;
    create trigger refuse_outage_customer before insert or update on customers for each row
      when (new.email = 'outage@example.com') execute function refuse_outage_customer();`);
});
after(() => stack.close());

const deliver = () => drainWebhooks(stack.emulator.emulator, 10_000);
const drain = () => stack.subledger.sync.worker.drain();
const query = async <T>(text: string, values: unknown[] = []) =>
  (await stack.database.pool.query(text, values)).rows as T[];
const event = async (id: string) =>
  (await query<Record<string, unknown>>('select * from stripe_events where id = $1', [id]))[0] ?? {};
const customerRow = async (id: string) =>
  (await query<Record<string, unknown>>('select * from customers where id = $1', [id]))[0];
const eventOf = async (objectId: string, type: string) =>
  (
    await query<{ id: string }>('select id from stripe_events where object_id = $1 and type = $2', [
      objectId,
      type,
    ])
  )[0]?.id as string;
const cli = (...args: string[]) => runCli(['replay', ...args], { DATABASE_URL: stack.database.url });

let createdEvent: string;
let customerId: string;

test('a dead-lettered event is replayed by `subledger replay --failed` and then applied', async () => {
  const customer = await stack.stripe.customers.create({ email: 'outage@example.com', name: 'Outage' });
  customerId = customer.id;
  await deliver();
  createdEvent = await eventOf(customer.id, 'customer.created');
  // Its earlier attempts are spent: this failure is the last one, so the worker dead-letters it.
  await query('update stripe_events set attempts = $2 where id = $1', [createdEvent, MAX_ATTEMPTS - 1]);
  await drain();
  const dead = await event(createdEvent);
  assert.equal(dead.status, 'dead');
  assert.equal(dead.attempts, MAX_ATTEMPTS);
  assert.equal(
    dead.last_error,
    'simulated outage (P0001)',
    'the reason is kept, without the query or its data',
  );
  assert.equal(await customerRow(customer.id), undefined);

  await query('drop trigger refuse_outage_customer on customers');
  const queued = await cli('--failed');
  assert.equal(queued.code, 0, queued.stderr);
  assert.equal(queued.stdout.trim(), 'Queued 1 event for replay.');
  const requeued = await event(createdEvent);
  assert.equal(requeued.status, 'pending');
  assert.equal(requeued.outcome, null);
  assert.equal(requeued.attempts, MAX_ATTEMPTS, 'attempts are history, kept');
  assert.equal(requeued.last_error, dead.last_error, 'so is the last error');
  assert.deepEqual(requeued.received_at, dead.received_at);

  await drain();
  const applied = await event(createdEvent);
  assert.equal(applied.status, 'processed');
  assert.equal(applied.outcome, 'applied');
  const row = await customerRow(customer.id);
  assert.equal(row?.last_event_id, createdEvent);
  assert.equal(row?.name, 'Outage');
});

test('a replayed dead event gets the whole retry budget again: one more failure is retried, not dead', async () => {
  await stack.database.pool.query(`
    create trigger refuse_relapse_customer before insert or update on customers for each row
      when (new.email = 'relapse@example.com') execute function refuse_outage_customer();`);
  try {
    const customer = await stack.stripe.customers.create({ email: 'relapse@example.com' });
    await deliver();
    const id = await eventOf(customer.id, 'customer.created');
    await query('update stripe_events set attempts = $2 where id = $1', [id, MAX_ATTEMPTS - 1]);
    await drain();
    assert.equal((await event(id)).status, 'dead');

    assert.deepEqual(await replay(stack.database, { eventId: id }), { ok: true, queued: 1, eventIds: [id] });
    await drain();
    const retried = await event(id);
    assert.equal(retried.status, 'pending', 'a replay that fails once is retried');
    assert.equal(retried.attempts, MAX_ATTEMPTS + 1, 'attempts count on from the history');
    assert.ok((retried.available_at as Date) > new Date(), 'after a backoff');
    const record = await describeEvent(stack.database, id);
    assert.match(formatEvent(record as EventRecord), /^attempts: +11 \(1 since its replay\)$/m);

    // Its budget spent again, the last failure dead-letters it.
    await query('update stripe_events set attempts = $2, available_at = now() where id = $1', [
      id,
      2 * MAX_ATTEMPTS - 1,
    ]);
    await drain();
    const dead = await event(id);
    assert.equal(dead.status, 'dead');
    assert.equal(dead.attempts, 2 * MAX_ATTEMPTS);
  } finally {
    await query('drop trigger refuse_relapse_customer on customers');
  }
});

test('replaying applied events settles them stale: the row is unchanged, nothing applies twice', async () => {
  // A later second, so the update is provably newer than the creation.
  stack.emulator.emulator.clock.advanceBy(2);
  await stack.stripe.customers.update(customerId, { name: 'Renamed' });
  await deliver();
  await drain();
  const updatedEvent = await eventOf(customerId, 'customer.updated');
  assert.equal((await event(updatedEvent)).outcome, 'applied');
  const before = await customerRow(customerId);
  assert.equal(before?.last_event_id, updatedEvent);

  for (const id of [createdEvent, updatedEvent]) {
    const result = await replay(stack.database, { eventId: id });
    assert.deepEqual(result, { ok: true, queued: 1, eventIds: [id] });
    await drain();
    const settled = await event(id);
    assert.equal(settled.status, 'processed');
    assert.equal(settled.outcome, 'stale', `${id} is not newer than the row`);
    assert.deepEqual(await customerRow(customerId), before);
  }
});

test('`subledger replay --since` replays the events received from that time on', async () => {
  const [{ now: mark } = { now: new Date() }] = await query<{ now: Date }>('select now()');
  const product = await stack.stripe.products.create({ name: 'Replay range' });
  await stack.stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 500 });
  await deliver();
  await drain();
  const inRange = await query<{ id: string }>('select id from stripe_events where received_at >= $1', [mark]);
  assert.ok(inRange.length >= 2, 'the product and price events are in the range');
  const productsBefore = await query('select * from products order by id');
  const mirrorBefore = await query('select id, data, last_event_id, synced_at from prices order by id');

  const queued = await cli('--since', mark.toISOString());
  assert.equal(queued.code, 0, queued.stderr);
  assert.equal(queued.stdout.trim(), `Queued ${inRange.length} events for replay.`);
  const pending = await query<{ id: string }>("select id from stripe_events where status = 'pending'");
  assert.deepEqual(pending.map((row) => row.id).sort(), inRange.map((row) => row.id).sort());

  await drain();
  const outcomes = await query<{ outcome: string }>(
    'select outcome from stripe_events where id = any($1::text[])',
    [inRange.map((row) => row.id)],
  );
  assert.deepEqual(new Set(outcomes.map((row) => row.outcome)), new Set(['stale']));
  assert.deepEqual(await query('select * from products order by id'), productsBefore);
  assert.deepEqual(
    await query('select id, data, last_event_id, synced_at from prices order by id'),
    mirrorBefore,
  );
});

test('an unknown event id is the coded result event_not_found, and a one-line CLI error', async () => {
  assert.deepEqual(await replay(stack.database, { eventId: 'evt_missing' }), {
    ok: false,
    code: 'event_not_found',
    message: 'no event evt_missing in the inbox',
  });
  const result = await cli('evt_missing');
  assert.equal(result.code, 66);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr.trim(), 'subledger: event_not_found: no event evt_missing in the inbox');
});

test('an event the mirror cannot hold is kept and acknowledged, and fails alone with the reason', async () => {
  // jsonb has no room for \u0000; the inbox keeps events as received.
  const poisoned = await stack.stripe.customers.create({ name: 'nul\u0000byte' });
  const neighbour = await stack.stripe.customers.create({ name: 'Neighbour' });
  assert.equal(await deliver(), true, 'every delivery was acknowledged');
  await drain();
  const failed = await event(await eventOf(poisoned.id, 'customer.created'));
  assert.equal(failed.status, 'pending', 'retried later, then dead-lettered');
  assert.equal(failed.attempts, 1);
  assert.match(String(failed.last_error), /unsupported Unicode escape sequence \(22P05\)/);
  assert.equal(await customerRow(poisoned.id), undefined);
  assert.equal((await customerRow(neighbour.id))?.name, 'Neighbour');
});

test('`subledger replay --unfetchable` queues the events settled unfetchable, and only those', async () => {
  const unreadCustomer = await stack.stripe.customers.create({ email: 'unread@example.com' });
  const readCustomer = await stack.stripe.customers.create({ email: 'read@example.com' });
  await deliver();
  await drain();
  const unread = await eventOf(unreadCustomer.id, 'customer.created');
  const read = await eventOf(readCustomer.id, 'customer.created');
  // As the refetcher settles an event whose object Stripe would not give (no key, access revoked).
  await query(`update stripe_events set outcome = 'unfetchable' where id = $1`, [unread]);
  const queued = await cli('--unfetchable');
  assert.equal(queued.code, 0, queued.stderr);
  assert.equal(queued.stdout.trim(), 'Queued 1 event for replay.');
  assert.deepEqual([(await event(unread)).status, (await event(read)).status], ['pending', 'processed']);
  await drain();
  assert.equal((await event(unread)).status, 'processed');
});

describe('the replay command line names exactly one selection', () => {
  const now = new Date('2025-01-31T12:00:00Z');
  const cases: [string, Parameters<typeof toReplaySelector>[0], unknown][] = [
    ['an event id', { eventId: 'evt_123' }, { eventId: 'evt_123' }],
    ['--failed', { failed: true }, { failed: true }],
    ['--unfetchable', { unfetchable: true }, { unfetchable: true }],
    [
      '--since an ISO time',
      { since: '2025-01-30T08:00:00+01:00' },
      { since: new Date('2025-01-30T07:00:00Z') },
    ],
    ['--since a date', { since: '2025-01-30' }, { since: new Date('2025-01-30T00:00:00Z') }],
    ['--since 2h', { since: '2h' }, { since: new Date('2025-01-31T10:00:00Z') }],
    ['--since 7d', { since: '7d' }, { since: new Date('2025-01-24T12:00:00Z') }],
    ['nothing', {}, /exactly one/],
    ['an id and --failed', { eventId: 'evt_1', failed: true }, /exactly one/],
    ['--failed and --since', { failed: true, since: '1h' }, /exactly one/],
    ['--unfetchable and --failed', { unfetchable: true, failed: true }, /exactly one/],
    ['a malformed id', { eventId: 'ch_1' }, /evt_/],
    ['a vague time', { since: 'yesterday' }, /--since must be/],
    ['a time without its offset', { since: '2025-01-30T08:00:00' }, /--since must be/],
    ['a day the month does not have', { since: '2025-02-30' }, /--since must be/],
    ['a time on such a day', { since: '2025-02-29T08:00:00Z' }, /--since must be/],
    ['a duration beyond any date', { since: '99999999999d' }, /--since must be/],
  ];
  for (const [name, input, expected] of cases)
    test(name, () => {
      if (expected instanceof RegExp) assert.throws(() => toReplaySelector(input, now), expected);
      else assert.deepEqual(toReplaySelector(input, now), expected);
    });

  test('the CLI refuses a bad selection with one coded line and the usage exit code, 64', async () => {
    const refusals: string[][] = [[], ['evt_1', '--failed'], ['--since', 'yesterday']];
    const results = await Promise.all(refusals.map((args) => cli(...args)));
    for (const [index, result] of results.entries()) {
      assert.equal(result.code, 64, refusals[index]?.join(' '));
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /^subledger: invalid_argument: /);
    }
  });
});
