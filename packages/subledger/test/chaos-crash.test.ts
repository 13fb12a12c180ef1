import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { drainWebhooks, faultsOf, type RunningEmulator, startEmulator } from 'stripe-emulator';
import { EMULATOR_KEY } from '../src/cli/local-stripe.ts';
import { assertEachEventAppliedOnce, installWriteLog } from './support/apply-audit.ts';
import { assertMirrorEqualsStripe } from './support/auditor.ts';
import { freePort, type TestDatabase, testDatabase } from './support/database.ts';
import { runWorkload } from './support/workload.ts';

/**
 * `subledger start` processes killed with SIGKILL while they work, then started again on the same port:
 * once inside an open inbox batch (a test-only trigger makes subscription writes slow, so the kill
 * lands before the commit), once while a refetch is reading Stripe (the emulator delays reads).
 * Events acknowledged but not applied wait in Postgres, deliveries refused meanwhile come again through
 * the emulator's retries, open transactions are rolled back by Postgres. Afterwards the mirror equals
 * Stripe and no event was applied twice.
 */

const BIN = fileURLToPath(new URL('../bin/subledger.js', import.meta.url));

type Child = { process: ChildProcess; output: string[] };

/** `subledger start --port <port>` against the emulator and the test database; resolves once it listens. */
async function startSubledger(port: number, environment: Record<string, string>): Promise<Child> {
  // The test already runs on the project's Node (through `npx node`), so the child uses the same binary.
  const child = spawn(process.execPath, [BIN, 'start', '--port', String(port)], {
    env: { ...process.env, ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.join('').includes('Subledger is listening')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`subledger start exited (${code ?? signal}) before listening:\n${output.join('')}`)),
    );
  });
  return { process: child, output };
}

async function kill(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = once(child.process, 'exit');
  child.process.kill('SIGKILL');
  await exited;
}

async function holds(database: TestDatabase, query: string): Promise<boolean> {
  return (await database.pool.query<{ yes: boolean }>(`select (${query}) as yes`)).rows[0]?.yes === true;
}

/** Waits until `ready` holds, checking every few milliseconds. */
async function until(ready: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Every delivery done and every inbox event, refetch and job settled, twice in a row. */
async function settle(emulator: RunningEmulator, database: TestDatabase): Promise<void> {
  let quiet = 0;
  const unsettled = `select (select count(*) from stripe_events where status = 'pending')::int as pending,
      (select count(*) from sync_refetches)::int as refetches,
      (select count(*) from sync_refetches where leased_by is not null)::int as leased_refetches,
      (select count(*) from graphile_worker.jobs)::int as jobs`;
  try {
    await until(
      async () => {
        await drainWebhooks(emulator.emulator, 20_000);
        const counts = Object.values((await database.pool.query(unsettled)).rows[0] ?? {});
        quiet = counts.every((count) => count === 0) ? quiet + 1 : 0;
        return quiet >= 2;
      },
      'the inbox, refetches and jobs are settled',
      20_000,
    );
  } catch (error) {
    const state = (await database.pool.query(unsettled)).rows[0];
    throw new Error(`${(error as Error).message}: still ${JSON.stringify(state)}`);
  }
}

/** A batch is inside a (slowed) mirror write: its transaction is open and holds its claimed events. */
const BATCH_OPEN = `exists (select 1 from pg_stat_activity
  where datname = current_database() and wait_event = 'PgSleep' and xact_start is not null)`;
/** A refetch is leased by a refetcher (and waiting on the delayed read from Stripe). */
const REFETCH_RUNNING = `exists (select 1 from sync_refetches where leased_by is not null)`;

test('workers killed with SIGKILL mid-batch and mid-refetch, then restarted, lose nothing and apply nothing twice', async () => {
  const database = await testDatabase();
  await installWriteLog(database.pool);
  await database.pool.query(`
    create function test_slow_write() returns trigger language plpgsql as $$
      begin perform pg_sleep(0.2); return new; end $$;
    create trigger test_slow_write before insert or update on subscriptions
      for each row execute function test_slow_write();`);
  // Retries for about 20 s, so deliveries refused while no process listens are made again.
  const emulator = await startEmulator({
    port: 0,
    seed: 31,
    webhooks: { retry: { attempts: 14, initialDelayMs: 200, maxDelayMs: 2_000 } },
  });
  const stripe = new Stripe(EMULATOR_KEY, {
    host: '127.0.0.1',
    port: emulator.port,
    protocol: 'http',
    maxNetworkRetries: 0,
    telemetry: false,
  });
  const port = await freePort();
  const endpoint = await stripe.webhookEndpoints.create({
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    enabled_events: ['*'],
  });
  const environment = {
    DATABASE_URL: database.url,
    STRIPE_SECRET_KEY: EMULATOR_KEY,
    STRIPE_API_BASE: emulator.url,
    STRIPE_WEBHOOK_SECRET: endpoint.secret ?? '',
    LOG_LEVEL: 'info',
    SUBLEDGER_WORKER_BATCH: '10',
  };
  let child = await startSubledger(port, environment);
  try {
    const workload = runWorkload(stripe, emulator.url, { seed: 31 });
    await until(() => holds(database, BATCH_OPEN), 'a batch is open');
    await kill(child);
    await database.pool.query('drop trigger test_slow_write on subscriptions');
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

    await assertMirrorEqualsStripe(emulator.emulator, database.pool);
    await assertEachEventAppliedOnce(emulator.emulator, database.pool);
  } finally {
    await kill(child);
    await emulator.close();
    await database.drop();
  }
});
