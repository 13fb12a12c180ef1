import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { faultsOf } from 'stripe-emulator';
import { createStripeClient } from '../src/stripe/index.ts';
import { type DriftItem, missedDrift } from '../src/sync/drift.ts';
import { KIND_NAMES, type KindName } from '../src/sync/kinds.ts';
import { reconcile } from '../src/sync/reconcile.ts';
import { RECONCILE_TASK } from '../src/sync/scheduled-reconcile.ts';
import { audit, describeDifferences } from './support/auditor.ts';
import { createBillingHistory } from './support/billing-history.ts';
import { type RecordingStripe, recordingClient } from './support/recording-stripe.ts';
import { type CliOptions, stackCli } from './support/run-cli.ts';
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

const cli = (args: string[], options: CliOptions = {}) => stackCli(stack, args, {}, options);
const recordingStripe = () => recordingClient(stack.emulator.url);

const reconcileNow = (fix: boolean) =>
  reconcile({
    database: stack.database,
    stripe: createStripeClient({ secretKey: 'sk_test_reconcile', apiBase: stack.emulator.url }),
    context: { accountKeys: ['subledger_account_id'] },
    place: PLACE,
    fix,
    requestsPerSecond: 1000,
  });

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
    // A customer's next_invoice_sequence moves without an event: reported, but no missed webhook.
    const missed = missedDrift(drift).length;
    assert.ok(missed < drift.length, 'the workload invoices, so some drift is silent');
    assert.equal(report.unfixed, missed);
    assert.match(result.stderr, new RegExp(`^reconcile: customer ${checkedCustomers}/\\d+ done$`, 'm'));
    assert.match(
      result.stderr,
      new RegExp(`^subledger: drift_remains: ${missed} drifted objects; run with --fix to heal$`, 'm'),
    );
  });

  it('compares a kind named twice in --kinds once', async () => {
    const result = await cli(['reconcile', '--json', '--kinds', 'customer,customer']);
    assert.equal(result.code, 2, result.stderr);
    const report = JSON.parse(result.stdout) as { drift: DriftItem[]; checked: Record<string, number> };
    const customers = drift.filter((item) => item.kind === 'customer');
    assert.deepEqual(report.drift.map(keyOf).sort(), customers.map(keyOf).sort());
    assert.deepEqual(report.checked, { customer: checkedCustomers });
  });

  it('still exits 2 when no one reads its progress any more', async () => {
    const result = await cli(['reconcile', '--json'], { closeStderrAfterFirstRead: true });
    assert.equal(result.code, 2, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { unfixed: number }).unfixed, missedDrift(drift).length);
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
