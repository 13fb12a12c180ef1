import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { faultsOf } from 'stripe-emulator';
import { createStripeClient } from '../src/stripe/index.ts';
import { type CatchUpOptions, catchUp } from '../src/sync/catch-up.ts';
import { recordAccess } from '../src/sync/connected-accounts.ts';
import { EVENT_HANDLERS } from '../src/sync/handlers.ts';
import type { SyncProgress } from '../src/sync/index.ts';
import { accessEvent } from './support/access-events.ts';
import { audit, describeDifferences } from './support/auditor.ts';
import { payingCustomer } from './support/billing-history.ts';
import { stackCli } from './support/run-cli.ts';
import { type Stack, startStack } from './support/stack.ts';

const PLACE = { stripeAccount: 'platform', livemode: false };

let stack: Stack;
before(async () => {
  stack = await startStack({});
});
after(() => stack.close());

function countingStripe() {
  const paths: string[] = [];
  const stripe = createStripeClient({
    secretKey: 'sk_test_catch_up',
    apiBase: stack.emulator.url,
    onResponse: (response) => paths.push(response.path),
  });
  return { stripe, paths };
}

const catchUpNow = (options: Partial<CatchUpOptions> = {}) =>
  catchUp({
    database: stack.database,
    stripe: countingStripe().stripe,
    inbox: stack.subledger.sync.inbox,
    place: PLACE,
    requestsPerSecond: 100,
    ...options,
  });

/** Subledger's endpoint is down: every delivery is dropped while `work` runs (and never retried). */
async function duringOutage(work: () => Promise<void>): Promise<Date> {
  const since = new Date(stack.emulator.emulator.clock.nowSeconds() * 1000);
  faultsOf(stack.emulator.emulator).configure({ webhooks: { drop: 1 } });
  await work();
  await stack.settle();
  faultsOf(stack.emulator.emulator).configure({ webhooks: { drop: 0 } });
  return since;
}

/** Events Stripe holds from `since` on, split by whether the mirror handles their type. */
function stripeEvents(since: Date) {
  const events = [
    ...stack.emulator.emulator
      .partition(null, false)
      .table<{ id: string; type: string; created: number }>('event')
      .values(),
  ].filter((event) => event.created >= since.getTime() / 1000);
  const handled = events.filter((event) => event.type in EVENT_HANDLERS);
  return { handled, other: events.length - handled.length };
}

const PASSES = Math.ceil(Object.keys(EVENT_HANDLERS).length / 20);

/** The progress reports of a catch-up, by pass. */
function progressByPass() {
  const passes = new Map<string, SyncProgress[]>();
  const onProgress = (progress: SyncProgress) => {
    passes.set(progress.kind, [...(passes.get(progress.kind) ?? []), progress]);
  };
  return { passes, onProgress };
}

const inboxCount = async () =>
  (await stack.database.pool.query<{ n: number }>('select count(*)::int as n from stripe_events')).rows[0]?.n;

describe('catch-up from /v1/events', () => {
  it('stores the events missed while the endpoint was down, and the workers apply them', async () => {
    const known = await payingCustomer(stack.stripe, 'acct_before');
    await stack.settle();
    const before = await inboxCount();
    const since = await duringOutage(async () => {
      await stack.stripe.customers.update(known, { name: 'Renamed during the outage' });
      const product = await stack.stripe.products.create({ name: 'Outage plan' });
      const price = await stack.stripe.prices.create({
        product: product.id,
        currency: 'eur',
        unit_amount: 900,
        recurring: { interval: 'month' },
      });
      for (const account of ['acct_outage_1', 'acct_outage_2']) {
        const customer = await payingCustomer(stack.stripe, account);
        await stack.stripe.subscriptions.create({ customer, items: [{ price: price.id }] });
      }
    });
    assert.equal(await inboxCount(), before, 'nothing was delivered during the outage');
    const missed = await audit(stack.emulator.emulator, stack.database.pool);
    assert.ok(missed.length > 0, 'the outage left the mirror behind');

    const { stripe, paths } = countingStripe();
    const { passes, onProgress } = progressByPass();
    const result = await catchUpNow({ stripe, since, onProgress });
    const expected = stripeEvents(since);
    assert.ok(expected.other > 0, 'the outage also made events of types the mirror does not handle');
    assert.equal(result.listed, expected.handled.length, 'only handled types, created since the outage');
    assert.equal(result.stored + result.duplicates, result.listed);
    assert.ok(result.stored > 10, `stored ${result.stored}`);
    assert.ok(paths.every((path) => /^\/v1\/events\?/.test(path) && path.includes('created')));
    assert.equal(paths.length, PASSES, 'types[] of 20 per request');
    assert.deepEqual(
      [...passes.keys()],
      Array.from({ length: PASSES }, (_, index) => `events (${index + 1} of ${PASSES})`),
    );
    const ends = [...passes.values()].map((reports) => reports.at(-1));
    assert.ok(ends.every((end) => end?.finished && end.expected === end.done && end.job === 'catch-up'));
    assert.equal(
      ends.reduce((sum, end) => sum + (end?.done ?? 0), 0),
      result.listed,
    );

    await stack.settle();
    const differences = await audit(stack.emulator.emulator, stack.database.pool);
    assert.deepEqual(differences, [], describeDifferences(differences));
    const renamed = await stack.database.pool.query('select name from customers where id = $1', [known]);
    assert.equal(renamed.rows[0]?.name, 'Renamed during the outage');
    const links = await stack.database.pool.query(
      `select account_id from account_customers where account_id like 'acct_outage_%' order by 1`,
    );
    assert.deepEqual(
      links.rows.map((row) => row.account_id),
      ['acct_outage_1', 'acct_outage_2'],
    );
  });

  it('stores nothing new when run again, and nothing from before `since`', async () => {
    const thirtyDays = await catchUpNow();
    assert.ok(thirtyDays.listed > 0);
    assert.equal(thirtyDays.stored, 0);
    assert.equal(thirtyDays.duplicates, thirtyDays.listed);
    const future = await catchUpNow({ since: new Date(Date.now() + 3600_000) });
    assert.deepEqual(future, { listed: 0, stored: 0, duplicates: 0 });
  });

  it('pages through a pass of more than a hundred events, reporting each page', async () => {
    const since = await duringOutage(async () => {
      for (let n = 0; n < 120; n++) await stack.stripe.customers.create({ email: `page-${n}@example.com` });
    });
    const { passes, onProgress } = progressByPass();
    const result = await catchUpNow({ since, onProgress });
    assert.equal(result.stored, 120);
    const paged = [...passes.values()].filter((reports) => reports.length > 1);
    assert.equal(paged.length, 1, 'customer.created events are listed in one pass');
    const [first, last] = [paged[0]?.[0], paged[0]?.at(-1)];
    assert.deepEqual([first?.done, first?.finished], [100, false]);
    // `since` is a whole second: events of the test before may share it, and are listed again.
    assert.ok(last?.finished && last.done >= 120 && last.done < 200, `${last?.done} listed`);
    await stack.settle();
  });

  it('stores the events listed for a connected account under it, whether or not Stripe names it in them', async () => {
    const account = 'acct_1CatchUpConnected';
    const email = 'connected-outage@example.com';
    const since = await duringOutage(async () => {
      await stack.stripe.customers.create({ email }, { stripeAccount: account });
    });
    const { stripe } = countingStripe();
    // As an event listed with Stripe-Account might come: without the `account` a webhook carries.
    const unnamed = new Proxy(stripe, {
      get: (target, name) =>
        name !== 'events'
          ? Reflect.get(target, name)
          : new Proxy(target.events, {
              get: (events, method) =>
                method !== 'list'
                  ? Reflect.get(events, method)
                  : async (...args: Parameters<typeof events.list>) => {
                      const page = await events.list(...args);
                      return { ...page, data: page.data.map(({ account: _, ...event }) => event) };
                    },
            }),
    });
    const result = await catchUpNow({
      stripe: unnamed,
      since,
      place: { stripeAccount: account, livemode: false },
    });
    assert.ok(result.stored >= 1, `stored ${result.stored}`);
    const stored = await stack.database.pool.query(
      `select stripe_account from stripe_events
       where type = 'customer.created' and payload->'data'->'object'->>'email' = $1`,
      [email],
    );
    assert.deepEqual(stored.rows, [{ stripe_account: account }]);
    await stack.settle();
  });

  it('lists a connected account’s access events, so a missed grant takes the account back', async () => {
    const account = 'acct_1CatchUpRegranted';
    const place = { stripeAccount: account, livemode: false };
    const now = stack.emulator.emulator.clock.nowSeconds();
    const revoked = accessEvent('deauthorized', account, now - 120);
    await recordAccess(stack.database.pool, [
      { ...place, eventId: revoked.id, authorization: 'deauthorized', created: revoked.created },
    ]);
    // Stripe holds the grant that came after; its webhook never arrived.
    const granted = accessEvent('authorized', account, now - 60);
    stack.emulator.emulator.partition(account, false).table('event').insert(granted);
    const result = await catchUpNow({ place, since: new Date((now - 90) * 1000) });
    assert.equal(result.stored, 1);
    await stack.settle();
    assert.deepEqual(
      (
        await stack.database.pool.query(
          'select deauthorized_at, event_id from connected_accounts where stripe_account = $1',
          [account],
        )
      ).rows,
      [{ deauthorized_at: null, event_id: granted.id }],
    );
  });

  it('runs from `subledger reconcile --catch-up --since <time>`', async () => {
    const [customer] = (await stack.stripe.customers.list({ email: 'acct_before@example.com' })).data;
    const since = await duringOutage(async () => {
      await stack.stripe.customers.update(customer?.id ?? '', { metadata: { plan: 'gold' } });
    });
    const result = await stackCli(stack, [
      'reconcile',
      '--catch-up',
      '--since',
      since.toISOString(),
      '--fix',
      '--kinds',
      'customer',
    ]);
    assert.equal(result.code, 0, result.stderr);
    // Off a terminal, a plain line per page of each pass, then the reconcile's.
    assert.match(
      result.stderr,
      new RegExp(`^catch-up: events \\(${PASSES} of ${PASSES}\\) \\d+/\\d+ done$`, 'm'),
    );
    assert.match(result.stderr, /^reconcile: customer \d+\/\d+ done$/m);
    assert.match(
      result.stdout,
      new RegExp(
        `^catch-up: \\d+ events? since ${since.toISOString().replace(/[.]/g, '\\.')}, 1 new in the inbox`,
        'm',
      ),
    );
    await stack.settle();
    const row = await stack.database.pool.query(
      `select data->'metadata'->>'plan' as plan from customers where id = $1`,
      [customer?.id],
    );
    assert.equal(row.rows[0]?.plan, 'gold');
  });
});
