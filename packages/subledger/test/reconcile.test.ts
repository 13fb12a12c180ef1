import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type Stripe from 'stripe';
import { faultsOf } from 'stripe-emulator';
import { toReconcileInput } from '../src/cli/reconcile.ts';
import { loadConfig } from '../src/config/index.ts';
import { createStripeClient } from '../src/stripe/index.ts';
import type { DriftItem } from '../src/sync/drift.ts';
import { everyMinutes } from '../src/sync/jobs.ts';
import { KIND_NAMES, type KindName } from '../src/sync/kinds.ts';
import { writeMirror } from '../src/sync/mirror-writer.ts';
import { mirroredPlaces, RECONCILE_TASK, reconcile, scheduledReconcile } from '../src/sync/reconcile.ts';
import { audit, describeDifferences } from './support/auditor.ts';
import { createBillingHistory } from './support/billing-history.ts';
import { revokingProxy } from './support/revoking-proxy.ts';
import { runCli } from './support/run-cli.ts';
import { type Stack, startStack } from './support/stack.ts';
import { clockDeletedWhileListed } from './support/vanishing-clock.ts';

const PLACE = { stripeAccount: 'platform', livemode: false };

let stack: Stack;
before(async () => {
  stack = await startStack({
    faults: { webhooks: { drop: 0.1 } },
    seed: 23,
    // The schedule is registered (checked below) but exercised by queueing its job: a daily slot keeps a
    // timed run from healing the drift under test.
    environment: { SUBLEDGER_RECONCILE_MINUTES: '1440' },
  });
  await createBillingHistory(stack.stripe, stack.emulator.url, { customers: 15, clocks: [2] });
  await stack.settle();
});
after(() => stack.close());

/** `subledger …` in a subprocess, configured for the stack's database and emulator. */
const cli = (args: string[]) =>
  runCli(args, {
    DATABASE_URL: stack.database.url,
    STRIPE_API_BASE: stack.emulator.url,
    STRIPE_SECRET_KEY: 'sk_test_cli',
  });

const reconcileNow = (fix: boolean) =>
  reconcile({
    database: stack.database,
    stripe: createStripeClient({ secretKey: 'sk_test_reconcile', apiBase: stack.emulator.url }),
    context: { accountKeys: ['subledger_account_id'] },
    place: PLACE,
    fix,
    requestsPerSecond: 1000,
  });

/** A client on the emulator that records every request it completes. */
function recordingStripe() {
  const requests: { path: string; status: number }[] = [];
  const stripe = createStripeClient({
    secretKey: 'sk_test_reconcile',
    apiBase: stack.emulator.url,
    onResponse: (request) => requests.push(request),
  });
  return { stripe, requests };
}
type RecordingStripe = ReturnType<typeof recordingStripe>;

/** Mirrors an older state of `customer` than Stripe's: the webhook of its latest change never came. */
async function mirrorMissedChange(customer: Stripe.Customer, stripeAccount: string) {
  await writeMirror(
    stack.database.db,
    [
      {
        kind: 'customer',
        id: customer.id,
        stripeAccount,
        livemode: false,
        object: { id: customer.id, object: 'customer', description: 'missed a change' },
        deleted: false,
        version: customer.created - 10,
        eventId: `evt_older_${stripeAccount}`,
        source: 'event',
      },
    ],
    { accountKeys: [] },
  );
}

async function mirroredDescription(customer: string, stripeAccount: string) {
  const row = await stack.database.pool.query<{ description: string }>(
    `select data->>'description' as description from customers where id = $1 and stripe_account = $2`,
    [customer, stripeAccount],
  );
  return row.rows[0]?.description;
}

type LogLine = { level: number; msg: string; stripeAccount?: string; err?: { code?: string } };

/** One run of the scheduled reconcile task, through Stripe at `apiBase`, logging into `logged`. */
async function scheduledReconcileTask(apiBase: string, logged: LogLine[]) {
  const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) });
  const { tasks } = scheduledReconcile(
    {
      database: stack.database,
      stripe: createStripeClient({ secretKey: 'sk_test_reconcile', apiBase, maxNetworkRetries: 0 }),
      context: { accountKeys: ['subledger_account_id'] },
      place: PLACE,
      requestsPerSecond: 1000,
    },
    0,
    logger,
  );
  const task = tasks[RECONCILE_TASK] as (payload: unknown, helpers: unknown) => Promise<void>;
  await task({}, {});
}

const keyOf = (item: { kind: string; id: string }) => `${item.kind} ${item.id}`;

/** The auditor's findings about mirrored objects (reconcile compares objects; items follow them). */
async function auditorFindings(): Promise<string[]> {
  const differences = await audit(stack.emulator.emulator, stack.database.pool, { require: 'all' });
  return differences
    .filter((difference) => (KIND_NAMES as readonly string[]).includes(difference.kind))
    .map(keyOf)
    .sort();
}

/** A customer the mirror has, changed or deleted in Stripe while the one webhook that says so is dropped. */
async function withDroppedWebhook(eventType: string, change: (customer: string) => Promise<unknown>) {
  const mirrored = await stack.database.pool.query<{ id: string }>(
    `select id from customers where not deleted and data->>'email' like 'acct_%' order by id limit 1 offset $1`,
    [eventType === 'customer.deleted' ? 1 : 0],
  );
  const customer = mirrored.rows[0]?.id as string;
  faultsOf(stack.emulator.emulator).configure({ next: { webhooks: { fault: 'drop', eventType } } });
  await change(customer);
  await stack.settle();
  return customer;
}

describe('reconcile', () => {
  let renamed: string;
  let deleted: string;
  let drift: DriftItem[];
  let checkedCustomers: number;

  it('reports the drift 10% dropped webhooks left, by kind and id, as the auditor sees it', async () => {
    renamed = await withDroppedWebhook('customer.updated', (id) =>
      stack.stripe.customers.update(id, { name: 'Renamed while nobody listened' }),
    );
    deleted = await withDroppedWebhook('customer.deleted', (id) => stack.stripe.customers.del(id));
    // Stripe's plain list of customers leaves out those on a test clock.
    const clock = await stack.stripe.testHelpers.testClocks.create({
      frozen_time: Math.floor(Date.now() / 1000),
    });
    faultsOf(stack.emulator.emulator).configure({
      next: { webhooks: { fault: 'drop', eventType: 'customer.created' } },
    });
    const onClock = await stack.stripe.customers.create({ email: 'clock@example.com', test_clock: clock.id });
    await stack.settle();
    const result = await reconcileNow(false);
    drift = result.drift;
    checkedCustomers = result.checked.customer ?? 0;
    assert.equal(result.fixed, 0);
    assert.ok((result.checked.customer ?? 0) >= 16, 'every customer Stripe lists, and the deleted one');
    assert.deepEqual(drift.map(keyOf).sort(), await auditorFindings());
    assert.ok(
      drift.some((item) => item.problem === 'missing_in_mirror' && item.kind !== 'checkout.session'),
      'a dropped creation is found',
    );
    const changed = drift.find((item) => item.id === renamed);
    assert.equal(changed?.problem, 'different');
    assert.ok(changed?.fields?.includes('name'), JSON.stringify(changed));
    assert.deepEqual(
      drift.find((item) => item.id === deleted),
      { kind: 'customer', id: deleted, problem: 'missing_in_stripe' },
    );
    assert.deepEqual(
      drift.find((item) => item.id === onClock.id),
      { kind: 'customer', id: onClock.id, problem: 'missing_in_mirror' },
      'a customer on a test clock whose creation was dropped is found',
    );
  });

  it('exits 2 from `subledger reconcile --json` while drift remains', async () => {
    const result = await cli(['reconcile', '--json']);
    assert.equal(result.code, 2, result.stderr);
    const report = JSON.parse(result.stdout) as { drift: DriftItem[]; fixed: number; unfixed: number };
    assert.deepEqual(report.drift.map(keyOf).sort(), drift.map(keyOf).sort());
    assert.equal(report.unfixed, drift.length);
    assert.match(result.stderr, new RegExp(`^reconcile: customer ${checkedCustomers}/\\d+ done$`, 'm'));
    assert.match(
      result.stderr,
      new RegExp(`^subledger: ${drift.length} drifted objects; run with --fix to heal$`, 'm'),
    );
  });

  it('heals it with fix: Stripe objects written, deletions tombstoned, then zero drift', async () => {
    const fixed = await reconcileNow(true);
    assert.deepEqual(fixed.drift.map(keyOf).sort(), drift.map(keyOf).sort());
    assert.equal(fixed.fixed, drift.length);
    const again = await reconcileNow(false);
    assert.deepEqual(again.drift, []);
    const differences = await audit(stack.emulator.emulator, stack.database.pool, { require: 'all' });
    assert.deepEqual(differences, [], describeDifferences(differences));
    const rows = await stack.database.pool.query<{ id: string; deleted: boolean; name: string | null }>(
      'select id, deleted, name from customers where id = any($1)',
      [[renamed, deleted]],
    );
    const byId = new Map(rows.rows.map((row) => [row.id, row]));
    assert.equal(byId.get(renamed)?.name, 'Renamed while nobody listened');
    assert.equal(byId.get(deleted)?.deleted, true);
  });

  it('fixes from `subledger reconcile --fix` and exits 0, then reports nothing left', async () => {
    const customer = await withDroppedWebhook('customer.updated', (id) =>
      stack.stripe.customers.update(id, { metadata: { plan: 'gold' } }),
    );
    const fixing = await cli(['reconcile', '--fix']);
    assert.equal(fixing.code, 0, fixing.stderr);
    assert.match(fixing.stdout, /^reconcile: \d+ objects checked, 1 drifted, 1 fixed$/m);
    assert.match(fixing.stdout, new RegExp(`^customer \\(1\\)\\n  ${customer} different: metadata$`, 'm'));
    const clean = await cli(['reconcile']);
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, /^reconcile: \d+ objects checked, 0 drifted$/m);
  });

  it('runs as the scheduled subledger_reconcile job, registered in the crontab', async () => {
    const known = await stack.database.pool.query(
      'select identifier from graphile_worker._private_known_crontabs where identifier = $1',
      [RECONCILE_TASK],
    );
    assert.equal(known.rowCount, 1, 'the crontab entry is registered when the workers start');
    const customer = await withDroppedWebhook('customer.updated', (id) =>
      stack.stripe.customers.update(id, { description: 'changed out of sight' }),
    );
    await stack.database.pool.query(`select graphile_worker.add_job($1, '{}'::json, queue_name := $1)`, [
      RECONCILE_TASK,
    ]);
    await stack.settle();
    const row = await stack.database.pool.query(
      `select data->>'description' as description from customers where id = $1`,
      [customer],
    );
    assert.equal(row.rows[0]?.description, 'changed out of sight');
  });
});

describe('reconcile on connected accounts', () => {
  it('heals the objects of every connected account the mirror holds, on schedule', async () => {
    const connected = { stripeAccount: 'acct_1ReconcileA' };
    const customer = await stack.stripe.customers.create({ description: 'as Stripe has it' }, connected);
    await mirrorMissedChange(customer, connected.stripeAccount);
    assert.deepEqual(
      (await mirroredPlaces(stack.database.pool, false)).map((place) => place.stripeAccount),
      ['platform', connected.stripeAccount],
    );
    await stack.database.pool.query(`select graphile_worker.add_job($1, '{}'::json, queue_name := $1)`, [
      RECONCILE_TASK,
    ]);
    await stack.settle();
    assert.equal(await mirroredDescription(customer.id, connected.stripeAccount), 'as Stripe has it');
  });

  it('reads one connected account from `subledger reconcile --account`', async () => {
    const connected = { stripeAccount: 'acct_1ReconcileB' };
    const customer = await stack.stripe.customers.create({ description: 'only in Stripe' }, connected);
    const found = await cli([
      'reconcile',
      '--account',
      connected.stripeAccount,
      '--kinds',
      'customer',
      '--json',
    ]);
    assert.equal(found.code, 2, found.stderr);
    const report = JSON.parse(found.stdout) as { drift: DriftItem[] };
    assert.deepEqual(
      report.drift.map((item) => [item.id, item.problem]),
      [[customer.id, 'missing_in_mirror']],
    );
  });

  it('walks its customers, subscriptions and summaries in test mode, asking for no test clock', async () => {
    const connected = { stripeAccount: 'acct_1ReconcileC' };
    const customer = await stack.stripe.customers.create({ description: 'not mirrored yet' }, connected);
    const { stripe, requests } = recordingStripe();
    const result = await reconcile({
      database: stack.database,
      stripe,
      context: { accountKeys: ['subledger_account_id'] },
      place: { ...connected, livemode: false },
      fix: true,
      requestsPerSecond: 1000,
      kinds: ['customer', 'subscription', 'entitlements.active_entitlement_summary'],
    });
    assert.deepEqual(
      result.drift.filter((item) => item.kind === 'customer').map((item) => [item.id, item.problem]),
      [[customer.id, 'missing_in_mirror']],
    );
    // Stripe refuses test clocks to a connected account (400, "Connected account impersonation…").
    assert.deepEqual(
      requests.filter((request) => request.path.startsWith('/v1/test_helpers/')),
      [],
      'no test clock endpoint was called',
    );
  });

  it('goes on past a connected account that revoked access, then fails the job naming it', async () => {
    // Sorted before the other connected accounts, so a run that stopped at it would skip them all.
    const revoked = 'acct_1AAARevoked';
    const healthy = 'acct_1ZZZHealthy';
    const customers = new Map<string, string>();
    for (const account of [revoked, healthy]) {
      const customer = await stack.stripe.customers.create(
        { description: 'as Stripe has it' },
        { stripeAccount: account },
      );
      await mirrorMissedChange(customer, account);
      customers.set(account, customer.id);
    }
    const places = (await mirroredPlaces(stack.database.pool, false)).map((place) => place.stripeAccount);
    assert.equal(places[1], revoked);
    assert.equal(places.at(-1), healthy);
    const logged: LogLine[] = [];
    const proxy = await revokingProxy(stack.emulator.url, revoked);
    const failure = await scheduledReconcileTask(proxy.url, logged)
      .then(
        () => null,
        (error: unknown) => error,
      )
      .finally(proxy.close);
    const description = (account: string) => mirroredDescription(customers.get(account) as string, account);
    assert.equal(await description(healthy), 'as Stripe has it', 'the places after it were reconciled');
    assert.equal(await description(revoked), 'missed a change');
    assert.ok(failure instanceof AggregateError, 'the job fails, so graphile-worker retries it and shows it');
    assert.match(failure.message, /^reconcile failed in test mode for acct_1AAARevoked;/);
    assert.equal(failure.errors.length, 1);
    const linesOf = (account: string) => logged.filter((line) => line.stripeAccount === account);
    assert.deepEqual(
      linesOf(revoked).map((line) => [line.msg, line.err?.code]),
      [['reconcile: this place failed; the other places go on', 'account_invalid']],
    );
    assert.deepEqual(
      linesOf(healthy).map((line) => line.msg),
      ['reconcile: drift found and fixed'],
    );
    for (const account of places.filter((place) => place !== revoked))
      assert.equal(linesOf(account).length, 1, `${account}: the one line of a place that succeeds`);
    // The stack is shared: a later scheduled run must not fail on this account.
    await stack.database.pool.query('delete from customers where stripe_account = $1', [revoked]);
    assert.ok(
      !(await mirroredPlaces(stack.database.pool, false)).some((place) => place.stripeAccount === revoked),
    );
  });
});

describe('reconcile through Stripe trouble', () => {
  /** Reconciles `kinds` with fixes through `client`, whose requests it records, on the platform. */
  const reconcileRecorded = async (
    kinds: KindName[],
    {
      onProgress,
      client = recordingStripe(),
    }: { onProgress?: () => Promise<void>; client?: RecordingStripe } = {},
  ) => {
    const { stripe, requests } = client;
    const result = await reconcile({
      database: stack.database,
      stripe,
      context: { accountKeys: ['subledger_account_id'] },
      place: PLACE,
      fix: true,
      requestsPerSecond: 1000,
      kinds,
      ...(onProgress ? { onProgress } : {}),
    });
    return { result, statuses: requests.map((request) => request.status) };
  };

  it('goes on after a rate-limit 429, which the SDK alone would throw', async () => {
    faultsOf(stack.emulator.emulator).configure({
      next: { api: { fault: 'rate_limit', count: 1, method: 'GET', path: '/v1/prices' } },
    });
    const { result, statuses } = await reconcileRecorded(['price']);
    assert.deepEqual(statuses.slice(0, 2), [429, 200]);
    assert.ok((result.checked.price ?? 0) > 0);
  });

  it('goes on when the customer a page ended on is deleted before the next page is read', async () => {
    for (let index = 0; index < 101; index++)
      await stack.stripe.customers.create({ email: `walk_${index}@x.test` });
    const listed = await stack.stripe.customers.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 });
    const cursor = listed[99]?.id as string;
    let pages = 0;
    const { result } = await reconcileRecorded(['customer'], {
      onProgress: async () => {
        if (++pages === 1) await stack.stripe.customers.del(cursor);
      },
    });
    assert.ok(
      (result.checked.customer ?? 0) >= listed.length,
      `${result.checked.customer} checked of ${listed.length} customers`,
    );
  });

  // Last of the tests that walk Stripe: its hundred test clocks would slow every walk after it.
  it('goes on when a test clock is deleted while the clocks are listed', async () => {
    faultsOf(stack.emulator.emulator).configure({
      next: { webhooks: { fault: 'drop', eventType: 'customer.created' } },
    });
    const client = recordingStripe();
    const { onOldest, deleted } = await clockDeletedWhileListed(stack.stripe, client.stripe);
    await stack.settle();
    const { result } = await reconcileRecorded(['customer'], { client });
    assert.equal(deleted.length, 1, 'a clock was deleted between two pages of clocks');
    assert.deepEqual(
      result.drift.find((item) => item.id === onOldest),
      { kind: 'customer', id: onOldest, problem: 'missing_in_mirror' },
      'the customer on the oldest clock, listed after the deleted one, whose creation was dropped',
    );
    const row = await stack.database.pool.query('select 1 from customers where id = $1', [onOldest]);
    assert.equal(row.rowCount, 1, 'and fixed');
  });
});

describe('the reconcile schedule', () => {
  const at = (hour: number, min: number) => ({ hour, min, date: 1, month: 1, dow: 0 });
  const cases: [number, [number, number], boolean][] = [
    [15, [0, 0], true],
    [15, [13, 45], true],
    [15, [0, 10], false],
    [90, [1, 30], true],
    [90, [3, 0], true],
    [90, [1, 0], false],
    [1, [17, 23], true],
  ];
  for (const [minutes, [hour, min], runs] of cases)
    it(`every ${minutes} min ${runs ? 'runs' : 'does not run'} at ${hour}:${String(min).padStart(2, '0')}`, () =>
      assert.equal(everyMinutes(minutes)(at(hour, min)), runs));
  it('refuses a period that is not a whole number of minutes', () => {
    assert.throws(() => everyMinutes(0), RangeError);
    assert.throws(() => everyMinutes(2.5), RangeError);
  });
});

describe('reconcile options', () => {
  const config = loadConfig({});
  const now = new Date('2026-03-01T12:00:00Z');
  it('defaults catch-up to the last 30 days, and reads --since', () => {
    assert.deepEqual(
      toReconcileInput({ catchUp: true }, config, now).catchUpSince,
      new Date('2026-01-30T12:00:00Z'),
    );
    assert.deepEqual(
      toReconcileInput({ catchUp: true, since: '2h' }, config, now).catchUpSince,
      new Date('2026-03-01T10:00:00Z'),
    );
    assert.equal(toReconcileInput({ fix: true, rps: '5' }, config, now).catchUpSince, null);
  });
  it('rejects bad options with one clear line', () => {
    for (const [flags, message] of [
      [{ since: '2h' }, /^--since needs --catch-up$/],
      [{ catchUp: true, since: 'yesterday' }, /^--since must be a past ISO 8601 time/],
      [{ catchUp: true, since: '2027-01-01T00:00:00Z' }, /^--since must be a past ISO 8601 time/],
      [{ rps: '-3' }, /^--rps must be a positive whole number$/],
      [{ kinds: 'invoice,charge' }, /^--kinds: unknown kind 'charge'/],
      [{ account: 'cus_123' }, /^--account must be a connected account id \(acct_…\)$/],
    ] as const)
      assert.throws(() => toReconcileInput(flags, config, now), { message });
  });
});
