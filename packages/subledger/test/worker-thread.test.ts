import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { after, before, test } from 'node:test';
import { threadIdOfLink } from '../src/cli/thread-priority.ts';
import { startWorkerThread, WORKERS_NICENESS_STEPS } from '../src/cli/worker-thread.ts';
import { loadConfig } from '../src/config/index.ts';
import { Inbox } from '../src/sync/inbox.ts';
import { Metrics } from '../src/telemetry/index.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { inboxEventWith } from './support/inbox-events.ts';

/** `subledger start`'s workers in their own thread: they work, report, stop, and their failures show. */

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

const configOf = (databaseUrl: string) =>
  loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', SUBLEDGER_RECONCILE_MINUTES: '0' });

async function until(ready: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const settledTotal = /subledger_events_settled_total\{outcome="[a-z]+"\} (\d+)/g;

test('the thread settles stored events, its metrics sum into the server’s, and stop ends it', async () => {
  const failures: Error[] = [];
  const workers = await startWorkerThread({
    config: configOf(database.url),
    databaseUrl: database.url,
    onFailure: (error) => failures.push(error),
  });
  const ids = ['evt_thread_1', 'evt_thread_2', 'evt_thread_3'];
  const inbox = new Inbox(database.pool);
  for (const id of ids) await inbox.store(inboxEventWith(id));
  await until(async () => {
    const { rows } = await database.pool.query(
      `select count(*)::int as n from stripe_events where id = any($1) and status = 'processed'`,
      [ids],
    );
    return rows[0].n === ids.length;
  }, 'the thread settled the events');

  const server = new Metrics();
  server.eventsSettled.inc({ outcome: 'applied' }, 100);
  server.include(() => workers.metrics());
  const exposed = await server.exposition();
  const total = [...exposed.matchAll(settledTotal)].reduce((sum, match) => sum + Number(match[1]), 0);
  assert.equal(total, 100 + ids.length, 'the server’s own count plus the thread’s');

  await workers.stop();
  assert.deepEqual(await workers.metrics(), [], 'an ended thread has no metrics to add');
  assert.deepEqual(failures, [], 'being stopped is not a failure');
});

test('a thread that cannot reach its database rejects its start with the reason', async () => {
  const unreachable = 'postgres://subledger@127.0.0.1:1/nowhere';
  await assert.rejects(
    startWorkerThread({ config: configOf(unreachable), databaseUrl: unreachable, onFailure: () => {} }),
    /ECONNREFUSED/,
  );
});

test('a thread that fails once started is reported once, with its error', async () => {
  const failures: Error[] = [];
  const workers = await startWorkerThread({
    config: configOf(database.url),
    databaseUrl: database.url,
    entry: new URL('./support/failing-workers-entry.ts', import.meta.url),
    onFailure: (error) => failures.push(error),
  });
  await until(async () => failures.length > 0, 'the failure was reported');
  await workers.stop();
  assert.equal(failures.length, 1);
  assert.match(failures[0]?.message ?? '', /a worker fell over/);
});

/** Each thread of this process by kernel id, with its niceness (field 19 of its `stat`). */
async function threadNicenesses(): Promise<Map<number, number>> {
  const threads = new Map<number, number>();
  for (const id of await readdir('/proc/self/task')) {
    const stat = await readFile(`/proc/self/task/${id}/stat`, 'utf8');
    const fieldsAfterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    threads.set(Number(id), Number(fieldsAfterName[16]));
  }
  return threads;
}

const ownNiceness = getPriority();
const canLower = process.platform === 'linux' && ownNiceness + WORKERS_NICENESS_STEPS <= 19;

test('the workers’ thread alone runs nicer than the server’s', { skip: !canLower }, async () => {
  const threadsBefore = await threadNicenesses();
  const workers = await startWorkerThread({
    config: configOf(database.url),
    databaseUrl: database.url,
    onFailure: () => {},
  });
  try {
    const threadsRunning = await threadNicenesses();
    const lowered = [...threadsRunning].filter(
      ([, niceness]) => niceness === ownNiceness + WORKERS_NICENESS_STEPS,
    );
    assert.equal(lowered.length, 1, 'one thread yields: the workers’ own, not the threads it shares');
    assert.equal(threadsBefore.has(lowered[0]?.[0] ?? 0), false, 'it is the thread just started');
    assert.equal(getPriority(), ownNiceness, 'the server’s thread keeps its priority');
  } finally {
    await workers.stop();
  }
});

test('a thread id is read from /proc/thread-self’s target, and nothing else is taken for one', () => {
  assert.equal(threadIdOfLink('4120/task/4133'), 4133);
  assert.equal(threadIdOfLink('4120'), null);
  assert.equal(threadIdOfLink('/proc/4120/task/4133'), null);
});
