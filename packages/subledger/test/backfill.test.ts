import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KIND_NAMES, type KindName } from '../src/sync/kinds.ts';
import { createLimiter } from '../src/sync/limiter.ts';
import { listObjects } from '../src/sync/listing.ts';
import { retrieveObject } from '../src/sync/stripe-reads.ts';
import { audit, describeDifferences } from './support/auditor.ts';
import { type BackfillStack, backfillStack } from './support/backfill-runs.ts';
import { payingCustomer } from './support/billing-history.ts';
import type { Stack } from './support/stack.ts';

const PLACE = { stripeAccount: 'platform', livemode: false };

let stack: Stack;
let runs: BackfillStack['runs'];
before(async () => {
  ({ stack, runs } = await backfillStack({ customers: 7, clocks: [3, 2] }));
});
after(() => stack.close());

const countingStripe = () => runs.countingStripe();
const run: BackfillStack['runs']['run'] = (options) => runs.run(options);
const emptyMirror = () => runs.emptyMirror();
const stripeCounts = () => runs.stripeCounts();

/**
 * How many objects of a kind each of its lists holds: the account's list first, then each test clock's,
 * for the kinds Stripe lists by clock.
 */
function listSizes(kind: KindName): number[] {
  const partition = stack.emulator.emulator.partition(null, false);
  if (kind !== 'customer' && kind !== 'subscription') return [partition.table(kind).size];
  const clocks = [...partition.table<{ id: string }>('test_helpers.test_clock').values()].map((c) => c.id);
  const byClock = new Map<string | null, number>([[null, 0], ...clocks.map((id) => [id, 0] as const)]);
  for (const object of partition.table<{ id: string; test_clock: string | null }>(kind).values())
    byClock.set(object.test_clock, (byClock.get(object.test_clock) ?? 0) + 1);
  return [...byClock.values()];
}

/** A run that crashes (as a process would, midway) at the first progress `when` holds. */
async function crashingRun(
  options: Parameters<typeof run>[0],
  when: (progress: { kind: string; done: number }) => boolean,
): Promise<void> {
  const crash = new Error('simulated crash');
  const onProgress = (progress: { kind: string; done: number }) => {
    if (when(progress)) throw crash;
  };
  await assert.rejects(run({ ...options, onProgress }), crash);
}

async function assertMirrorEqualsStripe(): Promise<void> {
  const differences = await audit(stack.emulator.emulator, stack.database.pool, { require: 'all' });
  assert.deepEqual(differences, [], describeDifferences(differences));
}

describe('backfill', () => {
  it('lists objects in the shape Stripe retrieves them (and events carry them)', async () => {
    const { stripe } = countingStripe();
    const limiter = createLimiter(1000);
    for (const kind of KIND_NAMES.filter((name) => name !== 'entitlements.active_entitlement_summary')) {
      let listed = 0;
      for await (const object of listObjects(stripe, kind, PLACE, { limiter, pageSize: 3 })) {
        const retrieved = await retrieveObject(stripe, kind, String(object.id), PLACE);
        assert.deepEqual(object, JSON.parse(JSON.stringify(retrieved.object)), `${kind} ${object.id}`);
        listed++;
      }
      assert.equal(listed, stripeCounts()[kind], kind);
    }
  });

  it('reads every mirrored kind into an empty mirror, equal to Stripe, and rebuilds the account mapping', async () => {
    const events = await stack.database.pool.query('select count(*)::int as n from stripe_events');
    assert.equal(events.rows[0].n, 0, 'no webhook reached Subledger');
    const result = await run();
    assert.equal(result.resumed, false);
    assert.deepEqual(result.byKind, stripeCounts());
    assert.ok(result.objects > 50, `only ${result.objects} objects`);
    await assertMirrorEqualsStripe();
    const links = await stack.database.pool.query<{ account_id: string; source: string }>(
      'select account_id, source from account_customers order by account_id',
    );
    assert.deepEqual(
      links.rows.map((link) => link.account_id),
      [
        ...['acct_0', 'acct_1', 'acct_2', 'acct_3', 'acct_4', 'acct_5', 'acct_6', 'acct_checkout'],
        ...['clock0_0', 'clock0_1', 'clock0_2', 'clock1_0', 'clock1_1'],
      ],
    );
    const sources = await stack.database.pool.query('select distinct source from customers');
    assert.deepEqual(sources.rows, [{ source: 'fetch' }]);
  });

  it('resumes after the last page written when a run crashes, without reading finished kinds again', async () => {
    await emptyMirror();
    await crashingRun(
      { stripe: countingStripe().stripe, pageSize: 2 },
      (progress) => progress.kind === 'subscription' && progress.done >= 4,
    );
    const checkpoint = await stack.database.pool.query(
      `select last_id, objects, completed_at from sync_checkpoints where kind = 'subscription'`,
    );
    assert.equal(checkpoint.rows[0].objects, 4);
    assert.equal(checkpoint.rows[0].completed_at, null);
    const mirrored = await stack.database.pool.query('select count(*)::int as n from subscriptions');
    assert.equal(mirrored.rows[0].n, 4, 'the pages before the crash are written');

    const second = countingStripe();
    const result = await run({ stripe: second.stripe, pageSize: 2 });
    assert.equal(result.resumed, true);
    assert.deepEqual(result.byKind, stripeCounts(), 'counts include the pages written before the crash');
    const paths = second.requests.map((request) => request.path);
    for (const finished of ['/v1/products', '/v1/prices'])
      assert.ok(!paths.some((path) => path.startsWith(finished)), `${finished} was read again`);
    assert.match(
      paths[0] ?? '',
      new RegExp(`^/v1/subscriptions\\?.*starting_after=${checkpoint.rows[0].last_id}`),
    );
    await assertMirrorEqualsStripe();

    const begun = await stack.database.pool.query(`select min(started_at) as at from sync_checkpoints`);
    assert.deepEqual(result.resumedFrom, begun.rows[0].at, 'when the continued run began');

    const third = countingStripe();
    const fresh = await run({ stripe: third.stripe });
    assert.deepEqual([fresh.resumed, fresh.resumedFrom], [false, null], 'a finished backfill starts over');
    assert.ok(third.requests.some((request) => request.path.startsWith('/v1/customers')));
  });

  it("leaves an unfinished kind's checkpoint to a run of other kinds, and starts it over with `restart`", async () => {
    await emptyMirror();
    await crashingRun({ pageSize: 2 }, (progress) => progress.kind === 'subscription' && progress.done >= 2);
    const subscriptionCheckpoint = async () =>
      (
        await stack.database.pool.query(
          `select last_id, completed_at from sync_checkpoints where kind = 'subscription'`,
        )
      ).rows[0];
    const unfinished = await subscriptionCheckpoint();
    assert.equal(unfinished.completed_at, null);

    assert.equal((await run({ kinds: ['price'] })).resumed, false);
    assert.deepEqual(await subscriptionCheckpoint(), unfinished, 'kept for its own run');

    const restarted = countingStripe();
    const result = await run({
      stripe: restarted.stripe,
      kinds: ['subscription'],
      pageSize: 2,
      restart: true,
    });
    assert.deepEqual([result.resumed, result.byKind], [false, { subscription: stripeCounts().subscription }]);
    assert.doesNotMatch(restarted.requests[0]?.path ?? '', /starting_after/, 'read from the first page');
    assert.notEqual((await subscriptionCheckpoint()).completed_at, null);
  });

  it('resuming a crashed run of some kinds reads again the kinds an earlier, finished run read', async () => {
    await emptyMirror();
    await run();
    await crashingRun({ kinds: ['customer'], pageSize: 2 }, (progress) => progress.done >= 2);
    const crashed = (
      await stack.database.pool.query(
        `select last_id, started_at from sync_checkpoints where kind = 'customer' and completed_at is null`,
      )
    ).rows[0];
    assert.ok(crashed, 'the crashed run left its checkpoint');

    const resuming = countingStripe();
    const result = await run({ stripe: resuming.stripe, pageSize: 2 });
    assert.deepEqual([result.resumed, result.resumedFrom], [true, crashed.started_at]);
    const paths = resuming.requests.map((request) => request.path);
    for (const stale of ['/v1/products', '/v1/prices', '/v1/subscriptions', '/v1/invoices'])
      assert.ok(
        paths.some((path) => path.startsWith(stale)),
        `${stale} was not read again`,
      );
    assert.match(paths[0] ?? '', new RegExp(`^/v1/customers\\?.*starting_after=${crashed.last_id}`));
    assert.deepEqual(result.byKind, stripeCounts());
    const runs = await stack.database.pool.query(
      'select count(distinct started_at)::int as starts, count(completed_at)::int as completed from sync_checkpoints',
    );
    assert.deepEqual(runs.rows[0], { starts: 1, completed: KIND_NAMES.length }, 'every kind of one run');
  });

  /** A backfill of customers that crashes on the first page of a test clock's list; its checkpoint. */
  async function crashInClockList() {
    await emptyMirror();
    const [plain = 0, ...clocks] = listSizes('customer');
    assert.ok(clocks.length >= 1 && clocks.every((size) => size >= 2), 'clocks with customers');
    await crashingRun({ kinds: ['customer'], pageSize: 2 }, (progress) => progress.done > plain);
    const saved = await stack.database.pool.query<{ test_clock: string; last_id: string; objects: number }>(
      `select test_clock, last_id, objects from sync_checkpoints where kind = 'customer'`,
    );
    const checkpoint = saved.rows[0];
    assert.match(
      checkpoint?.test_clock ?? '',
      /^clock_/,
      'the checkpoint names the clock whose list it is in',
    );
    assert.equal(checkpoint?.objects, plain + 2);
    return checkpoint as { test_clock: string; last_id: string };
  }

  it("resumes inside a test clock's list when a run crashes there", async () => {
    const checkpoint = await crashInClockList();
    const second = countingStripe();
    const result = await run({ stripe: second.stripe, kinds: ['customer'], pageSize: 2 });
    assert.equal(result.resumed, true);
    assert.equal(result.byKind.customer, stripeCounts().customer);
    const [first, ...rest] = second.requests.map((request) => request.path);
    assert.match(first ?? '', new RegExp(`^/v1/customers\\?.*starting_after=${checkpoint.last_id}`));
    assert.match(first ?? '', new RegExp(`test_clock=${checkpoint.test_clock}`));
    assert.ok(
      [first, ...rest].every((path) => !path?.startsWith('/v1/customers') || path.includes('test_clock=')),
      'the account-wide list was read again',
    );
    const differences = await audit(stack.emulator.emulator, stack.database.pool, { require: 'all' });
    assert.deepEqual(
      differences.filter((difference) => difference.kind === 'customer'),
      [],
      describeDifferences(differences),
    );
  });

  it('reads a kind again when the test clock its checkpoint is in was deleted', async () => {
    const checkpoint = await crashInClockList();
    // Deleting a clock deletes its customers, the checkpoint's among them.
    await stack.stripe.testHelpers.testClocks.del(checkpoint.test_clock);
    const second = countingStripe();
    const result = await run({ stripe: second.stripe, kinds: ['customer'], pageSize: 2 });
    assert.equal(result.byKind.customer, stripeCounts().customer, 'counted over from the first page');
    assert.ok(
      second.requests.some((request) => request.path === '/v1/customers?limit=2'),
      'the account-wide list was read again from its start',
    );
  });

  it('refuses a second backfill of the same place while one runs', async () => {
    let refusal: Promise<void> | undefined;
    await run({
      kinds: ['customer'],
      pageSize: 2,
      onProgress: () => {
        refusal ??= assert.rejects(run({ kinds: ['product'] }), {
          message: 'a backfill of platform is already running',
        });
      },
    });
    assert.ok(refusal);
    await refusal;
  });

  it('never sends more requests than the rate limit allows', async () => {
    const { stripe, requests } = countingStripe();
    const kinds: KindName[] = ['customer', 'product', 'price', 'subscription', 'invoice'];
    const rps = 4;
    const started = Date.now();
    await run({ stripe, kinds, requestsPerSecond: rps, pageSize: 2 });
    const elapsedSeconds = (Date.now() - started) / 1000;
    // A request per page of each list (the account's, then each test clock's), and one listing the clocks.
    const pages = kinds.reduce((sum, kind) => {
      const lists = listSizes(kind);
      const clocked = lists.length > 1 ? 1 : 0;
      return sum + clocked + lists.reduce((pagesOf, size) => pagesOf + Math.max(1, Math.ceil(size / 2)), 0);
    }, 0);
    assert.equal(requests.length, pages, 'one request per page');
    // Loose bound: a strict one-second window admits at most `rps` requests, plus one window of burst.
    assert.ok(
      requests.length <= rps * elapsedSeconds + rps,
      `${requests.length} requests in ${elapsedSeconds.toFixed(2)} s at ${rps}/s`,
    );
  });

  /** `count` new products, newest first (as the list pages them). */
  const newProducts = async (count: number) => {
    const ids: string[] = [];
    for (let index = 0; index < count; index++)
      ids.unshift((await stack.stripe.products.create({ name: `walk_${index}` })).id);
    return ids;
  };
  const deleteProducts = async (...ids: (string | undefined)[]) => {
    for (const id of ids) await stack.stripe.products.del(String(id));
  };

  it('goes on when the object a page ended on is deleted before the next page is read', async () => {
    const [, cursor] = await newProducts(3);
    let pages = 0;
    const result = await run({
      kinds: ['product'],
      pageSize: 2,
      onProgress: async () => {
        if (++pages === 1) await deleteProducts(cursor);
      },
    });
    const listed = (stripeCounts().product ?? 0) + 1;
    assert.equal(result.byKind.product, listed, 'each product once, the deleted one too');
  });

  it('reads a kind again when its checkpoint object is gone with every object listed after it', async () => {
    const [, p3, p2, p1] = await newProducts(4);
    const crash = new Error('simulated crash');
    const crashing = () => {
      throw crash;
    };
    await assert.rejects(run({ kinds: ['product'], pageSize: 2, onProgress: crashing }), crash);
    // The checkpoint is p3; the resumed run lists [p2 p1], then the next page finds p1, p2 and p3 gone.
    let pages = 0;
    const result = await run({
      kinds: ['product'],
      pageSize: 2,
      onProgress: async () => {
        if (++pages === 1) await deleteProducts(p3, p2, p1);
      },
    });
    assert.equal(result.resumed, true);
    assert.equal(result.byKind.product, stripeCounts().product, 'counted over from the first page');
  });

  it('measures backfill throughput (figures printed, nothing timed asserted)', async () => {
    for (let index = 0; index < 60; index++) {
      const customer = await payingCustomer(stack.stripe, `bench_${index}`);
      const [price] = (await stack.stripe.prices.list({ lookup_keys: ['team_monthly'] })).data;
      await stack.stripe.subscriptions.create({ customer, items: [{ price: price?.id ?? '' }] });
    }
    for (const rps of [25, 1000]) {
      await emptyMirror();
      const { stripe, requests } = countingStripe();
      const started = performance.now();
      const result = await run({ stripe, requestsPerSecond: rps });
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `backfill at --rps ${rps}: ${result.objects} objects, ${requests.length} requests in ${seconds.toFixed(2)} s = ` +
          `${(result.objects / seconds).toFixed(0)} objects/s, ${(requests.length / seconds).toFixed(1)} requests/s`,
      );
      assert.deepEqual(result.byKind, stripeCounts());
    }
    await assertMirrorEqualsStripe();
  });
});
