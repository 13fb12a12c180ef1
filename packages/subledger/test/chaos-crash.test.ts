import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Stripe from 'stripe';
import { faultsOf, startEmulator } from 'stripe-emulator';
import { EMULATOR_KEY } from '../src/cli/local-stripe.ts';
import { PLATFORM } from '../src/store/index.ts';
import { assertEachEventAppliedOnce, installWriteLog } from './support/apply-audit.ts';
import { assertMirrorEqualsStripe } from './support/auditor.ts';
import { holds, kill, settle, startSubledger, until } from './support/crash.ts';
import { freePort, type TestDatabase, testDatabase } from './support/database.ts';
import { deliveryAttempts } from './support/deliveries.ts';
import { EMULATOR_LIVE_KEY, sdkOf } from './support/stack.ts';
import { runWorkload, workloadIn } from './support/workload.ts';

/**
 * `subledger start` processes killed with SIGKILL while they work, then started again on the same port:
 * once while a webhook is being stored (a test-only trigger makes inbox inserts slow, so the kill lands
 * after the event was received and before it was acknowledged), once inside an open inbox batch
 * (subscription writes made slow the same way, so the kill lands before the commit), once while a
 * refetch is reading Stripe (the emulator delays reads). Deliveries cut or refused meanwhile come again
 * through the emulator's retries, events acknowledged but not applied wait in Postgres, open
 * transactions are rolled back by Postgres. Afterwards every event Stripe saw acknowledged is in the
 * inbox, the mirror equals Stripe and no event was applied twice. Run on the platform in test mode, and
 * in a connected account in live mode, whose events come through the Connect endpoint.
 */

/** An inbox insert held in the slow trigger: a webhook received and not answered yet. */
const INBOX_INSERT_SLEEPING = `exists (select 1 from pg_stat_activity
  where datname = current_database() and pid <> pg_backend_pid() and wait_event = 'PgSleep'
    and query ilike '%insert into stripe_events%')`;
/** A batch is inside a (slowed) mirror write: its transaction is open and holds its claimed events. */
const BATCH_OPEN = `exists (select 1 from pg_stat_activity
  where datname = current_database() and wait_event = 'PgSleep' and xact_start is not null)`;
/** A refetch is leased by a refetcher (and waiting on the delayed read from Stripe). */
const REFETCH_RUNNING = `exists (select 1 from sync_refetches where leased_by is not null)`;

/** Makes every row written to `table` wait in a test-only trigger, so that a kill lands mid-write. */
async function slowWrites(
  database: TestDatabase,
  table: string,
  operations: string,
  seconds: number,
): Promise<void> {
  await database.pool.query(`
    create function test_slow_${table}() returns trigger language plpgsql as $$
      begin perform pg_sleep(${seconds}); return new; end $$;
    create trigger test_slow_${table} before ${operations} on ${table}
      for each row execute function test_slow_${table}();`);
}

async function fastWrites(database: TestDatabase, table: string): Promise<void> {
  await database.pool.query(`drop trigger test_slow_${table} on ${table}`);
}

/**
 * Postgres notices that a client is gone only when it next writes to it, so a killed process's insert
 * would still run to its end and commit. Checking the connection while the trigger sleeps rolls the
 * insert back instead: the worst case for an acknowledgement, an event received and never stored.
 */
async function rollBackStatementsOfKilledClients(database: TestDatabase): Promise<void> {
  await database.pool.query(`do $$ begin
    execute format('alter database %I set client_connection_check_interval = 20', current_database());
  end $$`);
}

/** The last line of the delivery log so far, and the database's clock, just before a kill. */
type KillMark = { sequence: number; at: Date };

async function markKill(database: TestDatabase, emulatorUrl: string, endpoint: string): Promise<KillMark> {
  const attempts = await deliveryAttempts(emulatorUrl, { endpoint });
  const now = await database.pool.query<{ at: Date }>('select clock_timestamp() as at');
  return { sequence: attempts.at(-1)?.sequence ?? 0, at: now.rows[0]?.at as Date };
}

/**
 * The delivery in flight when the process was killed (the one whose insert slept) was cut, not
 * acknowledged; its insert was rolled back; the event reached the inbox only when Stripe delivered it
 * again, and that delivery was acknowledged.
 */
async function assertCutDeliveryCameAgain(
  database: TestDatabase,
  emulatorUrl: string,
  endpoint: string,
  mark: KillMark,
): Promise<void> {
  const attempts = await deliveryAttempts(emulatorUrl, { endpoint });
  const cut = attempts.find((attempt) => attempt.sequence > mark.sequence);
  assert.ok(cut, 'no delivery was attempted after the kill');
  assert.equal(cut.status, 'retrying', `the delivery of ${cut.event} in flight at the kill was not cut`);
  assert.match(cut.error ?? '', /ECONNRESET/, 'the delivery in flight at the kill was refused, not cut');
  const again = attempts.find(
    (attempt) =>
      attempt.event === cut.event && attempt.sequence > cut.sequence && attempt.status === 'succeeded',
  );
  assert.ok(again, `${cut.event}, cut at the kill, was never delivered again`);
  const stored = await database.pool.query<{ after_kill: boolean }>(
    'select received_at > $2 as after_kill from stripe_events where id = $1',
    [cut.event, mark.at],
  );
  assert.equal(stored.rows[0]?.after_kill, true, `${cut.event} was stored by the insert the kill cut short`);
}

/** Where the workload bills: the platform in test mode, or a connected account in live mode. */
type CrashPlace = { seed: number; livemode: boolean; stripeAccount?: string };

const PLATFORM_TEST: CrashPlace = { seed: 31, livemode: false };
const CONNECTED_LIVE: CrashPlace = {
  seed: 33,
  livemode: true,
  stripeAccount: 'acct_1CrashLiveConnectedShop',
};

/**
 * The endpoint the place's events come to, and the environment that verifies it: the platform's own,
 * or a Connect endpoint beside it for a connected account's.
 */
async function endpointFor(platform: Stripe, place: CrashPlace, port: number) {
  const connect = place.stripeAccount !== undefined;
  const endpoint = await platform.webhookEndpoints.create({
    url: `http://127.0.0.1:${port}/webhooks/stripe${connect ? '/connect' : ''}`,
    enabled_events: ['*'],
    ...(connect ? { connect: true } : {}),
  });
  const secretVariable = connect ? 'STRIPE_CONNECT_WEBHOOK_SECRET' : 'STRIPE_WEBHOOK_SECRET';
  return { id: endpoint.id, environment: { [secretVariable]: endpoint.secret ?? '' } };
}

const placeColumns = ({ stripeAccount, livemode }: CrashPlace) => ({
  stripe_account: stripeAccount ?? PLATFORM,
  livemode,
});

async function crashRun(place: CrashPlace): Promise<void> {
  const database = await testDatabase();
  await installWriteLog(database.pool);
  await rollBackStatementsOfKilledClients(database);
  // Retries for about 20 s, so deliveries cut or refused while no process listens are made again.
  const emulator = await startEmulator({
    port: 0,
    seed: place.seed,
    webhooks: { retry: { attempts: 14, initialDelayMs: 200, maxDelayMs: 2_000 } },
  });
  const key = place.livemode ? EMULATOR_LIVE_KEY : EMULATOR_KEY;
  const stripe = sdkOf(emulator, key, false, place.stripeAccount);
  const port = await freePort();
  const endpoint = await endpointFor(sdkOf(emulator, key), place, port);
  const environment = {
    DATABASE_URL: database.url,
    STRIPE_SECRET_KEY: key,
    STRIPE_API_BASE: emulator.url,
    ...endpoint.environment,
    LOG_LEVEL: 'info',
    SUBLEDGER_WORKER_BATCH: '10',
  };
  let child = await startSubledger(port, environment);
  try {
    // Inbox inserts turn slow once the subscriptions exist, while the workload still makes events.
    const workload = runWorkload(stripe, emulator.url, {
      seed: place.seed,
      ...workloadIn(place.livemode, place.stripeAccount !== undefined),
      onStep: (step) =>
        step === 'subscriptions' ? slowWrites(database, 'stripe_events', 'insert', 1) : undefined,
    });
    await until(() => holds(database, INBOX_INSERT_SLEEPING), 'a webhook is being stored');
    const inboxKill = await markKill(database, emulator.url, endpoint.id);
    await kill(child);
    await fastWrites(database, 'stripe_events');

    await slowWrites(database, 'subscriptions', 'insert or update', 0.2);
    child = await startSubledger(port, environment);
    await until(() => holds(database, BATCH_OPEN), 'a batch is open');
    await kill(child);
    await fastWrites(database, 'subscriptions');
    const result = await workload;

    // Stripe reads now take a while, so a refetch is caught in the middle.
    faultsOf(emulator.emulator).configure({
      next: { api: { fault: 'latency', latencyMs: 1_500, method: 'GET', count: 50 } },
    });
    child = await startSubledger(port, environment);
    const subscription = result.subscriptions.at(-1) as string;
    for (const note of ['a', 'b', 'c'])
      await stripe.subscriptions.update(subscription, { metadata: { note } });
    await until(() => holds(database, REFETCH_RUNNING), 'a refetch is being read');
    await kill(child);
    // The lease outlives the killed process; its refetcher's lock does not, so the next one takes it over.
    assert.ok(await holds(database, REFETCH_RUNNING), 'the killed refetcher left its lease behind');

    faultsOf(emulator.emulator).reset();
    child = await startSubledger(port, environment);
    await settle(emulator, database);

    // Stripe does not deliver an acknowledged event again: acknowledged before it was stored, it is lost.
    const acknowledged = await deliveryAttempts(emulator.url, { endpoint: endpoint.id, status: 'succeeded' });
    const acknowledgedIds = new Set(acknowledged.map((attempt) => attempt.event));
    await assertEachEventAppliedOnce(emulator.emulator, database.pool, {
      expectDelivered: (id) => acknowledgedIds.has(id),
    });
    const givenUp = await deliveryAttempts(emulator.url, { endpoint: endpoint.id, status: 'failed' });
    assert.deepEqual(givenUp, [], 'deliveries ran out of retries: the events Stripe gave up on are unproven');
    await assertMirrorEqualsStripe(emulator.emulator, database.pool);
    const places = await database.pool.query('select distinct stripe_account, livemode from customers');
    assert.deepEqual(places.rows, [placeColumns(place)], 'the places the mirror holds customers of');
    await assertCutDeliveryCameAgain(database, emulator.url, endpoint.id, inboxKill);
  } finally {
    await kill(child);
    await emulator.close();
    await database.drop();
  }
}

test('processes killed with SIGKILL while storing a webhook, mid-batch and mid-refetch, then restarted, lose no acknowledged event and apply nothing twice', () =>
  crashRun(PLATFORM_TEST));

test('a connected account’s live-mode events survive the same kills through the Connect endpoint', () =>
  crashRun(CONNECTED_LIVE));
