import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { API_VERSION } from '../src/stripe/index.ts';
import type { InboxEvent } from '../src/sync/envelope.ts';
import {
  INBOX_CHANNEL,
  Inbox,
  type InboxCommit,
  type StoreResult,
  UnstorableEventError,
} from '../src/sync/inbox.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { inboxEventWith } from './support/inbox-events.ts';

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

const rowsWith = async (prefix: string) =>
  Number(
    (await database.pool.query('select count(*) as n from stripe_events where id like $1', [`${prefix}%`]))
      .rows[0].n,
  );

/**
 * The test database's pool as the inbox sees it, counting inserts; `beforeInsert(n)` runs as insert n
 * (1-based) starts and may make it fail by returning an error. A notification sent alone (an unnamed
 * `select pg_notify`, when a commit took longer than the spacing) is passed through, not counted.
 */
function watchedPool(beforeInsert: (n: number) => Error | undefined = () => undefined) {
  let inserts = 0;
  const pool = {
    query: (...args: Parameters<pg.Pool['query']>) => {
      if (!(args[0] as { name?: string }).name)
        return (database.pool.query as (...all: unknown[]) => unknown)(...args);
      inserts++;
      const failure = beforeInsert(inserts);
      if (failure) return Promise.reject(failure);
      return (database.pool.query as (...all: unknown[]) => unknown)(...args);
    },
  } as unknown as pg.Pool;
  return { pool, inserts: () => inserts };
}

function tally(ids: string[], results: StoreResult[]) {
  const byId = new Map<string, StoreResult[]>();
  ids.forEach((id, index) => {
    byId.set(id, [...(byId.get(id) ?? []), results[index] as StoreResult]);
  });
  return byId;
}

test('500 concurrent stores of 200 ids: 200 rows, each id stored once and duplicate otherwise', async () => {
  const ids = Array.from({ length: 200 }, (_, index) => `evt_burst_${index}`);
  // 37 is prime to 200: every id comes two or three times, its copies spread across the burst.
  const deliveries = Array.from({ length: 500 }, (_, index) => ids[(index * 37) % 200] as string);
  const watched = watchedPool();
  const inbox = new Inbox(watched.pool);
  const results = await Promise.all(deliveries.map((id) => inbox.store(inboxEventWith(id))));

  assert.equal(await rowsWith('evt_burst_'), 200);
  for (const [id, answers] of tally(deliveries, results)) {
    assert.equal(answers.filter((answer) => answer === 'stored').length, 1, `${id} was not stored once`);
    assert.ok(answers.length >= 2 && answers.length <= 3);
  }
  assert.equal(results.filter((result) => result === 'duplicate').length, 300);
  // The first store commits alone; the 499 that arrive meanwhile share the next commit.
  assert.equal(watched.inserts(), 2);

  const again = await Promise.all(ids.slice(0, 50).map((id) => inbox.store(inboxEventWith(id))));
  assert.ok(again.every((result) => result === 'duplicate'));
  assert.equal(await rowsWith('evt_burst_'), 200);
});

test('batches are capped at maxBatch and still answer every waiter', async () => {
  const ids = Array.from({ length: 60 }, (_, index) => `evt_small_${index % 45}`);
  const watched = watchedPool();
  const inbox = new Inbox(watched.pool, { maxBatch: 7 });
  const results = await Promise.all(ids.map((id) => inbox.store(inboxEventWith(id))));
  assert.equal(results.filter((result) => result === 'stored').length, 45);
  assert.equal(await rowsWith('evt_small_'), 45);
  assert.equal(watched.inserts(), 1 + Math.ceil(59 / 7));
});

test('each commit reports its events, their wait for the commit in flight, and its own time', async () => {
  let inserts = 0;
  const slowFirst = {
    query: async (...args: Parameters<pg.Pool['query']>) => {
      if (inserts++ === 0) await new Promise((resolve) => setTimeout(resolve, 200));
      return (database.pool.query as (...all: unknown[]) => unknown)(...args);
    },
  } as unknown as pg.Pool;
  const commits: InboxCommit[] = [];
  const inbox = new Inbox(slowFirst, { onCommit: (commit) => commits.push(commit) });
  const first = inbox.store(inboxEventWith('evt_timed_0'));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const later = ['evt_timed_1', 'evt_timed_2', 'evt_timed_3'].map((id) => inbox.store(inboxEventWith(id)));
  await Promise.all([first, ...later]);

  assert.deepEqual(
    commits.map((commit) => commit.events),
    [1, 3],
  );
  const [alone, shared] = commits as [InboxCommit, InboxCommit];
  assert.ok((alone.waitedMs[0] as number) < 20, 'the first event found no commit in flight');
  assert.ok(alone.commitMs >= 195, `the slow commit took ${alone.commitMs} ms`);
  for (const waited of shared.waitedMs)
    assert.ok(waited >= 130 && waited < 200, `an event waited ${waited} ms for the commit in flight`);
  assert.ok(shared.commitMs < alone.commitMs);
});

test('the stored row carries the event’s columns and payload', async () => {
  const event = inboxEventWith('evt_columns_1', { account: 'acct_1', livemode: true });
  assert.equal(await new Inbox(database.pool).store(event), 'stored');
  const row = (await database.pool.query('select * from stripe_events where id = $1', ['evt_columns_1']))
    .rows[0];
  assert.equal(row.type, 'customer.updated');
  assert.equal(row.api_version, API_VERSION);
  assert.equal(row.livemode, true);
  assert.equal(row.stripe_account, 'acct_1');
  assert.equal(row.created, 1_700_000_000);
  assert.equal(row.object_type, 'customer');
  assert.equal(row.object_id, 'cus_evt_columns_1');
  assert.equal(row.serial_key, 'acct_1/cus_evt_columns_1');
  assert.equal(row.status, 'pending');
  assert.deepEqual(row.payload, JSON.parse(event.json));
});

test('a failing insert rejects every waiter of its batch, and the next batch still works', async () => {
  const lost = new Error('connection terminated');
  let inbox: Inbox;
  const arrivals: Promise<StoreResult>[] = [];
  const watched = watchedPool((n) => {
    if (n !== 2) return undefined;
    // Events that arrive while the failing commit is in flight wait for the next one.
    arrivals.push(inbox.store(inboxEventWith('evt_after_1')), inbox.store(inboxEventWith('evt_after_2')));
    return lost;
  });
  inbox = new Inbox(watched.pool);
  const first = inbox.store(inboxEventWith('evt_first_1'));
  const failing = ['evt_failing_1', 'evt_failing_2', 'evt_failing_1', 'evt_failing_3'].map((id) =>
    inbox.store(inboxEventWith(id)),
  );
  assert.equal(await first, 'stored');
  const settled = await Promise.allSettled(failing);
  for (const outcome of settled) assert.deepEqual(outcome, { status: 'rejected', reason: lost });
  assert.equal(await rowsWith('evt_failing_'), 0);
  assert.deepEqual(await Promise.all(arrivals), ['stored', 'stored']);
  assert.equal(await rowsWith('evt_after_'), 2);
  assert.equal(watched.inserts(), 3);

  // The same events, delivered again by Stripe after the 503, are stored then.
  const retried = await Promise.all(
    ['evt_failing_1', 'evt_failing_2'].map((id) => inbox.store(inboxEventWith(id))),
  );
  assert.deepEqual(retried, ['stored', 'stored']);
});

// Events Postgres cannot hold, past the envelope's checks (which refuse the first two before the inbox).
// biome-ignore format: one case per line
const POISONS: [string, string, (id: string) => Partial<InboxEvent>][] = [
  ['a \\u0000 in a text column (22021)', 'nul', (id) => ({ objectId: `cus_${id}\u0000` })],
  ['an id over the index row limit (54000)', 'long', (id) => ({ id: `${id}_${randomBytes(10_000).toString('hex')}` })],
  ['JSON nested deeper than its parser goes (54001)', 'deep', (id) => ({ json: nested(inboxEventWith(id).json) })],
];

/** The event's JSON with a key holding 40,000 nested arrays: valid JSON, and JSON.parse reads it. */
const nested = (json: string) => `{"deep":${'['.repeat(40_000)}${']'.repeat(40_000)},${json.slice(1)}`;

for (const [name, tag, poisoned] of POISONS)
  test(`an event Postgres cannot hold, ${name}, fails alone as unstorable, not its commit’s neighbours`, async () => {
    const inbox = new Inbox(database.pool);
    const poison = { ...inboxEventWith(`evt_poison_${tag}`), ...poisoned(`evt_poison_${tag}`) };
    const ids = [1, 2, 1, 3].map((n) => `evt_neighbour_${tag}_${n}`);
    const first = inbox.store(inboxEventWith(`evt_neighbour_${tag}_0`));
    const shared = [inbox.store(poison), ...ids.map((id) => inbox.store(inboxEventWith(id)))];
    assert.equal(await first, 'stored');
    const [refused, ...neighbours] = await Promise.allSettled(shared);
    assert.ok(refused?.status === 'rejected' && refused.reason instanceof UnstorableEventError);
    assert.deepEqual(
      neighbours.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : 'rejected')),
      ['stored', 'stored', 'duplicate', 'stored'],
    );
    assert.equal(await rowsWith(`evt_neighbour_${tag}_`), 4);
    assert.equal(await rowsWith(`evt_poison_${tag}`), 0);
    // Alone, it is refused the same way: not an outage, so not "deliver it again".
    await assert.rejects(inbox.store(poison), UnstorableEventError);
  });

test('workers hear of every commit, from at most about one notification per spacing', async () => {
  const listener = new pg.Client({ connectionString: database.url });
  await listener.connect();
  const heard: number[] = [];
  listener.on('notification', () => heard.push(performance.now()));
  await listener.query(`listen ${INBOX_CHANNEL}`);
  const spacingMs = 50;
  const inbox = new Inbox(database.pool, { notifySpacingMs: spacingMs });
  const commits: { began: number; ended: number }[] = [];
  for (let n = 0; n < 40; n++) {
    const began = performance.now();
    await inbox.store(inboxEventWith(`evt_spaced_${n}`));
    commits.push({ began, ended: performance.now() });
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, spacingMs + 200));
  await listener.end();

  const elapsed = (commits.at(-1)?.ended ?? 0) - (commits[0]?.began ?? 0);
  assert.ok(heard.length < commits.length / 2, `${heard.length} notifications for ${commits.length} commits`);
  assert.ok(heard.length <= Math.ceil(elapsed / spacingMs) * 2 + 2, `${heard.length} in ${elapsed} ms`);
  for (const [index, { began, ended }] of commits.entries())
    assert.ok(
      heard.some((at) => at >= began && at <= ended + spacingMs + 150),
      `commit ${index} was followed by no notification`,
    );
});
