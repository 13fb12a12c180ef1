import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import type pg from 'pg';
import { API_VERSION } from '../src/stripe/index.ts';
import { Inbox } from '../src/sync/inbox.ts';
import { InboxWorker } from '../src/sync/worker.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { inboxEventWith } from './support/inbox-events.ts';

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());
beforeEach(() => database.pool.query('delete from stripe_events; delete from sync_refetches'));

/** One batch of the worker, on connections that record the text of every statement they send. */
async function batchCounting(): Promise<{ statements: string[]; claimed: number }> {
  const statements: string[] = [];
  const counting = (client: pg.PoolClient) => {
    const send = client.query.bind(client) as (...args: unknown[]) => unknown;
    const query = (...args: unknown[]) => {
      statements.push(typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string }).text));
      return send(...args);
    };
    return Object.assign(Object.create(client), { query }) as pg.PoolClient;
  };
  const pool = Object.assign(Object.create(database.pool), {
    connect: async () => counting(await database.pool.connect()),
  }) as pg.Pool;
  const worker = new InboxWorker({
    pool,
    apiVersion: API_VERSION,
    context: { accountKeys: [] },
    batchSize: 100,
  });
  const report = await worker.processBatch();
  return { statements, claimed: report.claimed };
}

const settled = async () =>
  (
    await database.pool.query<{ id: string; status: string; outcome: string; attempts: number }>(
      'select id, status, outcome, attempts from stripe_events order by id',
    )
  ).rows;

test("a batch's refetch requests and settled events go with the writer's notice, as one statement", async () => {
  const inbox = new Inbox(database.pool);
  const linked = { id: 'cus_linked', object: 'customer', metadata: { subledger_account_id: 'org_1' } };
  await inbox.store(inboxEventWith('evt_a_created', { type: 'customer.created', data: { object: linked } }));
  // Of another API version than the engine's: its customer is read from Stripe instead.
  await inbox.store(inboxEventWith('evt_b_old_api', { api_version: '2020-08-27' }));
  await inbox.store(
    inboxEventWith('evt_c_unknown', { type: 'radar.early_fraud_warning.created', data: { object: {} } }),
  );

  const { statements, claimed } = await batchCounting();

  assert.equal(claimed, 3);
  const last = statements.filter((text) => text.includes("set status = 'processed'"));
  assert.equal(last.length, 1, 'the events are settled by one statement');
  assert.match(last[0] as string, /insert into sync_refetches/, 'with the refetch requests');
  assert.match(last[0] as string, /pg_notify\(\$\d+, payload\)/, "with the access caches' notice");
  assert.equal(statements.filter((text) => text.includes('sync_refetches')).length, 1);
  assert.deepEqual(await settled(), [
    { id: 'evt_a_created', status: 'processed', outcome: 'applied', attempts: 1 },
    { id: 'evt_b_old_api', status: 'processed', outcome: 'refetch', attempts: 1 },
    { id: 'evt_c_unknown', status: 'processed', outcome: 'ignored', attempts: 1 },
  ]);
  const { rows } = await database.pool.query('select object_id, reason from sync_refetches');
  assert.deepEqual(rows, [{ object_id: 'cus_evt_b_old_api', reason: 'api_version' }]);
});

test('a batch of events no handler takes is settled by one statement', async () => {
  const inbox = new Inbox(database.pool);
  for (const id of ['evt_ignored_1', 'evt_ignored_2'])
    await inbox.store(
      inboxEventWith(id, { type: 'radar.early_fraud_warning.created', data: { object: {} } }),
    );

  const { statements, claimed } = await batchCounting();

  assert.equal(claimed, 2);
  assert.equal(statements.filter((text) => text.includes("set status = 'processed'")).length, 1);
  assert.deepEqual(
    (await settled()).map((event) => [event.id, event.outcome, event.attempts]),
    [
      ['evt_ignored_1', 'ignored', 1],
      ['evt_ignored_2', 'ignored', 1],
    ],
  );
});
