import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database } from '../src/store/index.ts';
import { markFailed } from '../src/sync/claim.ts';
import { Inbox } from '../src/sync/inbox.ts';
import { MAX_ATTEMPTS, retryDelaySeconds } from '../src/sync/ordering.ts';
import { replay } from '../src/sync/replay.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { inboxEventWith } from './support/inbox-events.ts';

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

type EventState = {
  status: string;
  outcome: string | null;
  attempts: number;
  replayed_attempts: number;
  last_error: string | null;
  processed_at: Date | null;
  /** `available_at` less the database's clock just before the failure was recorded. */
  delay_seconds: number;
};

/** Stores a pending event with these counters, records one failure of it, and reads back what it became. */
async function failOnce(
  id: string,
  counters: { attempts: number; replayed: number },
  error = 'outage',
): Promise<{ verdict: Awaited<ReturnType<typeof markFailed>>; event: EventState }> {
  await new Inbox(database.pool).store(inboxEventWith(id));
  await database.pool.query('update stripe_events set attempts = $2, replayed_attempts = $3 where id = $1', [
    id,
    counters.attempts,
    counters.replayed,
  ]);
  const { rows: clock } = await database.pool.query<{ now: Date }>('select now()');
  const verdict = await markFailed(database.pool, id, error, retryDelaySeconds, MAX_ATTEMPTS);
  return { verdict, event: await eventState(id, clock[0]?.now as Date) };
}

async function eventState(id: string, since: Date): Promise<EventState> {
  const { rows } = await database.pool.query<EventState>(
    `select status, outcome, attempts, replayed_attempts, last_error, processed_at,
       round(extract(epoch from available_at - $2::timestamptz))::int as delay_seconds
     from stripe_events where id = $1`,
    [id, since],
  );
  return rows[0] as EventState;
}

// attempts and replayed_attempts before the failure → what the failure makes of the event.
const FAILURES: [string, { attempts: number; replayed: number }, 'retry' | 'dead', number][] = [
  ['a first failure is retried after 1 s', { attempts: 0, replayed: 0 }, 'retry', 1],
  ['the fourth is retried after 8 s', { attempts: 3, replayed: 0 }, 'retry', 8],
  ['the last of the budget dead-letters', { attempts: MAX_ATTEMPTS - 1, replayed: 0 }, 'dead', 512],
  ['a replayed event’s first failure is retried after 1 s', { attempts: 10, replayed: 10 }, 'retry', 1],
  ['its backoff counts from the replay', { attempts: 13, replayed: 10 }, 'retry', 8],
  ['its budget counts from the replay too', { attempts: 19, replayed: 10 }, 'dead', 512],
];

for (const [index, [name, counters, verdict, delaySeconds]] of FAILURES.entries())
  test(`markFailed: ${name}`, async () => {
    const failed = await failOnce(`evt_fail_${index}`, counters);
    assert.equal(failed.verdict, verdict);
    const dead = verdict === 'dead';
    assert.equal(failed.event.status, dead ? 'dead' : 'pending');
    assert.equal(failed.event.outcome, dead ? 'dead' : null);
    assert.equal(failed.event.processed_at !== null, dead, 'a dead-lettered event is settled');
    assert.equal(failed.event.attempts, counters.attempts + 1);
    assert.equal(failed.event.replayed_attempts, counters.replayed, 'a failure is not a replay');
    assert.equal(failed.event.last_error, 'outage');
    assert.equal(failed.event.delay_seconds, delaySeconds);
  });

test('markFailed keeps the first 2,000 characters of the error', async () => {
  const failed = await failOnce('evt_fail_long', { attempts: 0, replayed: 0 }, 'x'.repeat(5000));
  assert.equal(failed.event.last_error?.length, 2000);
});

test('markFailed leaves an event settled meanwhile as it is', async () => {
  await new Inbox(database.pool).store(inboxEventWith('evt_fail_settled'));
  await database.pool.query(
    `update stripe_events set status = 'processed', outcome = 'applied', attempts = 1 where id = $1`,
    ['evt_fail_settled'],
  );
  const verdict = await markFailed(
    database.pool,
    'evt_fail_settled',
    'late',
    retryDelaySeconds,
    MAX_ATTEMPTS,
  );
  assert.equal(verdict, 'not_pending');
  const { rows } = await database.pool.query(
    'select status, attempts, last_error from stripe_events where id = $1',
    ['evt_fail_settled'],
  );
  assert.deepEqual(rows[0], { status: 'processed', attempts: 1, last_error: null });
});

test('a replay that commits while a failure is being recorded is counted, not overwritten', async () => {
  const id = 'evt_fail_replayed';
  await new Inbox(database.pool).store(inboxEventWith(id));
  // Its retries are spent but one: it waits for its last retry after a failure.
  await database.pool.query(`update stripe_events set attempts = $2, last_error = 'outage' where id = $1`, [
    id,
    MAX_ATTEMPTS - 1,
  ]);
  // The operator's `subledger replay`, in a transaction held open until the failure of a
  // worker's attempt is being recorded and waits for the event's row.
  const operator = await database.pool.connect();
  try {
    await operator.query('begin');
    const { rows: backend } = await operator.query<{ pid: number }>('select pg_backend_pid() as pid');
    const replaying = { ...database, pool: operator } as unknown as Database;
    assert.deepEqual(await replay(replaying, { eventId: id }), { ok: true, queued: 1, eventIds: [id] });
    const recording = markFailed(database.pool, id, 'outage again', retryDelaySeconds, MAX_ATTEMPTS);
    await untilBlockedBy(backend[0]?.pid as number);
    await operator.query('commit');

    assert.equal(await recording, 'retry', 'after its replay it has failed once');
    const event = await eventState(id, new Date());
    assert.equal(event.status, 'pending');
    assert.equal(event.attempts, MAX_ATTEMPTS);
    assert.equal(event.attempts - event.replayed_attempts, 1, 'one attempt since its replay');
    assert.equal(event.last_error, 'outage again');
  } finally {
    operator.release();
  }
});

/** Waits until some statement waits for a lock that the backend `pid` holds. */
async function untilBlockedBy(pid: number): Promise<void> {
  for (let tries = 0; tries < 500; tries++) {
    const { rows } = await database.pool.query<{ blocked: boolean }>(
      'select exists(select from pg_stat_activity where $1 = any(pg_blocking_pids(pid))) as blocked',
      [pid],
    );
    if (rows[0]?.blocked) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`nothing waited for backend ${pid}`);
}
