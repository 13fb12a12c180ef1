import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type Stripe from 'stripe';
import { createStripeClient } from '../src/stripe/index.ts';
import type { DriftItem } from '../src/sync/drift.ts';
import { reconcile } from '../src/sync/reconcile.ts';
import { mirroredPlaces, RECONCILE_TASK, scheduledReconcile } from '../src/sync/scheduled-reconcile.ts';
import { createBillingHistory } from './support/billing-history.ts';
import { writeInTransaction } from './support/mirror-writes.ts';
import { recordingClient } from './support/recording-stripe.ts';
import { revokingProxy } from './support/revoking-proxy.ts';
import { stackCli } from './support/run-cli.ts';
import { type Stack, startStack } from './support/stack.ts';

// Reconcile of the connected accounts the mirror holds objects of, beside the platform's.

const PLACE = { stripeAccount: 'platform', livemode: false };

let stack: Stack;
before(async () => {
  // A daily slot: the schedule's job is queued by hand below.
  stack = await startStack({ environment: { SUBLEDGER_RECONCILE_MINUTES: '1440' } });
  // The platform's own objects, so that it is one of the places mirrored.
  await createBillingHistory(stack.stripe, stack.emulator.url, { customers: 2 });
  await stack.settle();
});
after(() => stack.close());

const cli = (args: string[]) => stackCli(stack, args);
const recordingStripe = () => recordingClient(stack.emulator.url);

/** Mirrors an older state of `customer` than Stripe's: the webhook of its latest change never came. */
async function mirrorMissedChange(customer: Stripe.Customer, stripeAccount: string) {
  await writeInTransaction(
    stack.database,
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
  // The job helpers the task reads: graphile-worker's abort signal, which no shutdown fires here.
  await task({}, { abortSignal: new AbortController().signal });
}

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
