import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { EMULATOR_KEY } from '../src/cli/local-stripe.ts';
import { API_VERSION, createStripeClient } from '../src/stripe/index.ts';
import type { ClaimedEvent } from '../src/sync/claim.ts';
import { createLimiter } from '../src/sync/limiter.ts';
import { serveRefetches } from '../src/sync/refetch.ts';
import { leaseRefetches } from '../src/sync/refetch-queue.ts';
import { RECONCILE_TASK, scheduledReconcile } from '../src/sync/scheduled-reconcile.ts';
import { accessEvent, newId } from './support/access-events.ts';
import { writeInTransaction } from './support/mirror-writes.ts';
import { revokingProxy } from './support/revoking-proxy.ts';
import { stackCli } from './support/run-cli.ts';
import { type Stack, startStack } from './support/stack.ts';
import { webhookClient } from './support/webhook-client.ts';

// A connected account that revokes the platform's access (`account.application.deauthorized`) is
// recorded; the scheduled reconcile leaves it out and its reads are settled `unfetchable`, until it
// grants access again (`account.application.authorized`), or Stripe answers a read for it again. The
// emulator sends neither event: they are built in Stripe's shape and delivered signed through the
// Connect endpoint.

const nowSeconds = () => Math.floor(Date.now() / 1000);

let stack: Stack;
before(async () => {
  // No endpoint at the emulator and no workers: the test delivers each event and drains the inbox itself.
  stack = await startStack({ workers: false, webhookEndpoint: false });
  stack.subledger.config.webhookSecrets.push({ secret: 'whsec_connected_accounts', livemode: false });
});
after(() => stack.close());

const { deliver, inboxRow } = webhookClient(() => stack);

/** Delivers events through the Connect endpoint, then applies them. */
async function applyDelivered(...events: { id: string }[]) {
  for (const event of events)
    assert.equal((await deliver(event, '/webhooks/stripe/connect')).status, 200, 'delivered');
  await stack.subledger.sync.worker.drain();
}

const accessRecord = async (account: string) =>
  (
    await stack.database.pool.query(
      'select deauthorized_at, event_created, event_id from connected_accounts where stripe_account = $1',
      [account],
    )
  ).rows;

/** A customer Stripe has under `account`, mirrored in an older state (a webhook of it was missed). */
async function mirroredBehind(account: string): Promise<string> {
  const customer = await stack.stripe.customers.create(
    { description: 'as Stripe has it' },
    { stripeAccount: account },
  );
  const object = { id: customer.id, object: 'customer', description: 'missed a change' };
  await writeInTransaction(
    stack.database,
    [
      {
        kind: 'customer',
        id: customer.id,
        stripeAccount: account,
        livemode: false,
        object,
        deleted: false,
        version: customer.created - 10,
        eventId: newId('evt_older'),
        source: 'event',
      },
    ],
    { accountKeys: [] },
  );
  return customer.id;
}

const mirroredDescription = async (customer: string, account: string) =>
  (
    await stack.database.pool.query(
      `select data->>'description' as description from customers where id = $1 and stripe_account = $2`,
      [customer, account],
    )
  ).rows[0]?.description;

type LogLine = { msg: string; stripeAccount?: string; deauthorized?: string[]; restored?: string[] };

/** One run of the scheduled reconcile task, through Stripe at `apiBase`; resolves with its log lines. */
async function scheduledRun(apiBase: string): Promise<LogLine[]> {
  const logged: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) });
  const { tasks } = scheduledReconcile(
    {
      database: stack.database,
      stripe: createStripeClient({ secretKey: 'sk_test_reconcile', apiBase, maxNetworkRetries: 0 }),
      context: { accountKeys: [] },
      place: { stripeAccount: 'platform', livemode: false },
      requestsPerSecond: 1000,
    },
    0,
    logger,
  );
  const task = tasks[RECONCILE_TASK] as (payload: unknown, helpers: unknown) => Promise<void>;
  // The job helpers the task reads: graphile-worker's abort signal, which no shutdown fires here.
  await task({}, { abortSignal: new AbortController().signal });
  return logged;
}

const leftOutLines = (logged: LogLine[]) =>
  logged.filter((line) => line.msg.startsWith('reconcile: leaving out'));

describe('the scheduled reconcile and a connected account that revoked access', () => {
  it('leaves the account out (one line naming it) and takes it back once it grants access again', async () => {
    const account = 'acct_1RevokedThenBack';
    const customer = await mirroredBehind(account);
    const revoked = accessEvent('deauthorized', account, nowSeconds() - 60);
    await applyDelivered(revoked);
    assert.equal((await inboxRow(revoked.id)).outcome, 'applied');
    const proxy = await revokingProxy(stack.emulator.url, account);
    const logged = await scheduledRun(proxy.url).finally(proxy.close);
    assert.deepEqual(
      leftOutLines(logged).map((line) => line.deauthorized),
      [[account]],
    );
    assert.match(leftOutLines(logged)[0]?.msg ?? '', /acct_1RevokedThenBack/);
    assert.deepEqual(
      logged.filter((line) => line.stripeAccount === account),
      [],
      'nothing was asked of the account',
    );
    assert.equal(
      await mirroredDescription(customer, account),
      'missed a change',
      'its rows stay as they are',
    );

    const granted = accessEvent('authorized', account, nowSeconds());
    await applyDelivered(granted);
    assert.equal((await inboxRow(granted.id)).outcome, 'applied');
    const again = await scheduledRun(stack.emulator.url);
    assert.deepEqual(leftOutLines(again), []);
    assert.deepEqual(
      again.filter((line) => line.stripeAccount === account).map((line) => line.msg),
      ['reconcile: drift found and fixed'],
    );
    assert.equal(await mirroredDescription(customer, account), 'as Stripe has it');
  });

  it('keeps the newer word: an older grant applied after a revocation does not take the account back', async () => {
    const account = 'acct_1RevokedStays';
    const customer = await mirroredBehind(account);
    const revokedAt = nowSeconds() - 30;
    const revoked = accessEvent('deauthorized', account, revokedAt);
    const olderGrant = accessEvent('authorized', account, revokedAt - 600);
    await applyDelivered(revoked);
    await applyDelivered(olderGrant);
    assert.equal((await inboxRow(olderGrant.id)).outcome, 'stale');
    // Both in one batch, the older first: the newer one is applied, the older superseded.
    const laterGrant = accessEvent('authorized', account, revokedAt - 300);
    const duplicateRevocation = accessEvent('deauthorized', account, revokedAt);
    await applyDelivered(laterGrant, duplicateRevocation);
    assert.equal((await inboxRow(laterGrant.id)).outcome, 'superseded');
    assert.equal((await inboxRow(duplicateRevocation.id)).outcome, 'stale', 'the record holds that second');
    assert.deepEqual(await accessRecord(account), [
      { deauthorized_at: new Date(revokedAt * 1000), event_created: revokedAt, event_id: revoked.id },
    ]);

    const proxy = await revokingProxy(stack.emulator.url, account);
    const logged = await scheduledRun(proxy.url).finally(proxy.close);
    assert.deepEqual(
      leftOutLines(logged).map((line) => line.deauthorized),
      [[account]],
    );
    assert.equal(await mirroredDescription(customer, account), 'missed a change');
  });

  it('takes back an account whose grant was missed once Stripe answers a read for it, as of that answer', async () => {
    const account = 'acct_1RegrantMissed';
    const customer = await mirroredBehind(account);
    await applyDelivered(accessEvent('deauthorized', account, nowSeconds() - 60));
    // Stripe still refuses: asked once, the account stays out and its record as it was.
    const proxy = await revokingProxy(stack.emulator.url, account);
    const refused = await scheduledRun(proxy.url).finally(proxy.close);
    assert.deepEqual(
      leftOutLines(refused).map((line) => line.deauthorized),
      [[account]],
    );
    assert.equal((await accessRecord(account))[0]?.deauthorized_at instanceof Date, true);

    // The grant's webhook was lost; Stripe answers again.
    const askedFrom = nowSeconds();
    const logged = await scheduledRun(stack.emulator.url);
    assert.deepEqual(leftOutLines(logged), []);
    assert.deepEqual(
      logged.filter((line) => /let the platform in again/.test(line.msg)).map((line) => line.restored),
      [[account]],
    );
    assert.deepEqual(
      logged.filter((line) => line.stripeAccount === account).map((line) => line.msg),
      ['reconcile: drift found and fixed'],
    );
    assert.equal(await mirroredDescription(customer, account), 'as Stripe has it');
    const [record] = await accessRecord(account);
    assert.equal(record?.deauthorized_at, null);
    assert.match(record?.event_id ?? '', /^req_/, 'recorded under the read’s request id');
    assert.ok(Number(record?.event_created) >= askedFrom - 1, 'as of the answer');

    // A revocation from before the answer is older news; one after it is not.
    const before = accessEvent('deauthorized', account, askedFrom - 5);
    await applyDelivered(before);
    assert.equal((await inboxRow(before.id)).outcome, 'stale');
    const after = accessEvent('deauthorized', account, nowSeconds() + 5);
    await applyDelivered(after);
    assert.equal((await inboxRow(after.id)).outcome, 'applied');
  });
  it('clears the record when `reconcile --account` finds Stripe answering, and keeps it while Stripe refuses', async () => {
    const account = 'acct_1RegrantByOperator';
    const customer = await mirroredBehind(account);
    await applyDelivered(accessEvent('deauthorized', account, nowSeconds() - 60));
    const reconcileFix = ['reconcile', '--account', account, '--fix', '--json'];
    const proxy = await revokingProxy(stack.emulator.url, account);
    const refused = await stackCli(stack, reconcileFix, { STRIPE_API_BASE: proxy.url }).finally(proxy.close);
    assert.equal(refused.code, 1);
    assert.doesNotMatch(refused.stderr, /lets the platform in again/);
    assert.equal((await accessRecord(account))[0]?.deauthorized_at instanceof Date, true, 'still revoked');

    const answered = await stackCli(stack, reconcileFix);
    assert.equal(answered.code, 0, answered.stderr);
    assert.match(
      answered.stderr,
      /^reconcile: acct_1RegrantByOperator lets the platform in again \(Stripe answered a read\); its revocation is cleared$/m,
    );
    assert.equal(JSON.parse(answered.stdout).fixed, 1, 'stdout keeps the result alone');
    assert.equal(await mirroredDescription(customer, account), 'as Stripe has it');
    const [record] = await accessRecord(account);
    assert.equal(record?.deauthorized_at, null);
    assert.match(record?.event_id ?? '', /^req_/);
    const logged = await scheduledRun(stack.emulator.url);
    assert.ok(
      leftOutLines(logged).every((line) => !line.deauthorized?.includes(account)),
      'the scheduled runs take it back too',
    );
  });
});

describe('reads of a connected account that revoked access', () => {
  const account = 'acct_1RevokedReads';
  /** A customer.updated about a customer the mirror has never seen: its event asks for a read. */
  const unseenCustomerUpdated = () => {
    const customer = newId('cus');
    return {
      id: newId('evt'),
      object: 'event',
      type: 'customer.updated',
      account,
      api_version: API_VERSION,
      created: nowSeconds(),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: { id: customer, object: 'customer', metadata: {} }, previous_attributes: {} },
    };
  };
  const queued = async (customer: string) =>
    (
      await stack.database.pool.query(
        'select attempts, last_error from sync_refetches where object_id = $1 and stripe_account = $2',
        [customer, account],
      )
    ).rows;

  /** Serves every ready refetch through Stripe as seen through a proxy refusing the account; counts requests. */
  async function serveThroughRevokingProxy() {
    const proxy = await revokingProxy(stack.emulator.url, account);
    const requests: string[] = [];
    const stripe = createStripeClient({
      secretKey: EMULATOR_KEY,
      apiBase: proxy.url,
      maxNetworkRetries: 0,
      onResponse: (request) => requests.push(request.path),
    });
    const deps = {
      pool: stack.database.pool,
      stripeFor: (livemode: boolean) => (livemode ? null : stripe),
      context: { accountKeys: [] },
      limiter: createLimiter(1000),
    };
    try {
      const leased = await leaseRefetches(stack.database.pool, 'refetcher-revoked', { limit: 100 });
      const served = await serveRefetches(deps, 'refetcher-revoked', leased);
      return { served, requests };
    } finally {
      await proxy.close();
    }
  }

  it('settles a queued read unfetchable when the revocation is applied, and a new one at once, never asking Stripe', async () => {
    const before = unseenCustomerUpdated();
    await applyDelivered(before);
    assert.equal((await inboxRow(before.id)).outcome, 'refetch');
    // Before we hear of the revocation, Stripe's 403 is a failed read, handed back with backoff.
    const refused = await serveThroughRevokingProxy();
    assert.equal(refused.served.failures.length, 1);
    assert.deepEqual(
      (await queued(before.data.object.id)).map((row) => row.attempts),
      [1],
    );

    await applyDelivered(accessEvent('deauthorized', account, nowSeconds()));
    assert.deepEqual(await queued(before.data.object.id), [], 'no longer retried');
    assert.deepEqual(await inboxRow(before.id), {
      status: 'processed',
      outcome: 'unfetchable',
      attempts: 1,
      stripe_account: account,
      type: 'customer.updated',
    });

    const after = unseenCustomerUpdated();
    await applyDelivered(after);
    assert.equal((await inboxRow(after.id)).outcome, 'refetch');
    const settled = await serveThroughRevokingProxy();
    assert.deepEqual(settled.served, { written: 0, failures: [] });
    assert.deepEqual(settled.requests, [], 'Stripe was not asked');
    assert.deepEqual(await queued(after.data.object.id), []);
    assert.equal((await inboxRow(after.id)).outcome, 'unfetchable');
  });

  it('`subledger reconcile --account` still runs for it, and says in one line why Stripe refused', async () => {
    const proxy = await revokingProxy(stack.emulator.url, account);
    const result = await stackCli(stack, ['reconcile', '--account', account], {
      STRIPE_API_BASE: proxy.url,
    }).finally(proxy.close);
    assert.equal(result.code, 1);
    // Progress lines may come before it; the error is the last line.
    const lines = result.stderr.trim().split('\n');
    assert.match(
      lines.at(-1) ?? '',
      /^subledger: stripe_refused: Stripe refused access to acct_1RevokedReads in test mode \(403 account_invalid\): the account revoked the platform's access at \d{4}-\d\d-\d\dT[\d:.]+Z \(account\.application\.deauthorized\)/,
    );
    assert.doesNotMatch(result.stderr, /sk_test/, 'no part of the key');
  });
});

describe('the order of access events (pure)', async () => {
  const { planAccessEvents, supersedes } = await import('../src/sync/connected-accounts.ts');
  const at = (created: number, authorization: 'authorized' | 'deauthorized') => ({
    stripeAccount: 'acct_1',
    livemode: false,
    eventId: `evt_${authorization}_${created}`,
    authorization,
    created,
  });
  const cases: [string, ReturnType<typeof at>, ReturnType<typeof at>, boolean][] = [
    ['a later revocation', at(2, 'deauthorized'), at(1, 'authorized'), true],
    ['an earlier grant', at(1, 'authorized'), at(2, 'deauthorized'), false],
    ['a grant in the second of a revocation', at(2, 'authorized'), at(2, 'deauthorized'), true],
    ['a revocation in the second of a grant', at(2, 'deauthorized'), at(2, 'authorized'), false],
    ['the same word again', at(2, 'deauthorized'), at(2, 'deauthorized'), false],
  ];
  for (const [name, a, b, expected] of cases)
    it(`${name} ${expected ? 'supersedes' : 'does not supersede'} the record`, () =>
      assert.equal(supersedes(a, b), expected));

  it('keeps the newest of each place in a batch; a platform event names no account', () => {
    const event = (id: string, type: string, stripeAccount: string, created: number): ClaimedEvent => ({
      id,
      type,
      apiVersion: API_VERSION,
      livemode: false,
      stripeAccount,
      created,
      objectType: 'application',
      objectId: 'ca_1',
      serialKey: `${stripeAccount}/ca_1`,
      waitedMs: 0,
    });
    const plan = planAccessEvents([
      event('evt_a1', 'account.application.deauthorized', 'acct_a', 5),
      event('evt_a2', 'account.application.authorized', 'acct_a', 3),
      event('evt_b1', 'account.application.authorized', 'acct_b', 1),
      event('evt_b2', 'account.application.deauthorized', 'acct_b', 4),
      event('evt_p', 'account.application.deauthorized', 'platform', 9),
      event('evt_c', 'customer.updated', 'acct_a', 9),
    ]);
    assert.deepEqual(
      plan.newest.map((access) => access.eventId),
      ['evt_a1', 'evt_b2'],
    );
    assert.deepEqual(Object.fromEntries(plan.outcomes), {
      evt_a2: 'superseded',
      evt_b1: 'superseded',
      evt_p: 'ignored',
    });
  });
});
