import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import type Stripe from 'stripe';
import type { Emulator, FaultOptions } from 'stripe-emulator';
import { PLATFORM } from '../src/store/index.ts';
import { objectIdOf, type StripeObject } from '../src/sync/envelope.ts';
import { assertAccessAsBackfilled, warmAccessCache } from './support/access-oracle.ts';
import { assertEachEventAppliedOnce, readWriteLog } from './support/apply-audit.ts';
import { assertMirrorEqualsStripe, audit } from './support/auditor.ts';
import { chaosRun, reconcileWithFixes } from './support/chaos.ts';
import { appliedApiFaults, clearFaults, deliveredEventIds, setFaults } from './support/delivery-faults.ts';
import type { Stack } from './support/stack.ts';

/**
 * Self-healing while Stripe's API fails. Every request Subledger sends may be answered with a rate
 * limit, a lock timeout, a 500 or a 503, while a tenth of the deliveries are dropped; the workload's own
 * calls are exempt (`Emulator-Fault: none`), so the faults fall on Subledger's reads alone.
 *
 * - During the workload, six requests in ten fail: some refetches fail through all their retries and
 *   are handed back with backoff (10–12 of them on seed 14; at half the requests failing, as few as 2
 *   under the full suite's load). Once everything settled, the only drift left is what the dropped
 *   deliveries explain: no read was given up.
 * - Then one request in five fails while reconcile heals that drift: a run that meets a failure through
 *   all its retries fails, and is run again, as the scheduled job is.
 *
 * The mirror then equals Stripe, no event was dead-lettered or applied twice, and every faulted answer
 * was counted by Subledger's client. Run on the platform in test mode, and in a connected account in
 * live mode, whose reads carry `Stripe-Account`.
 */
type ApiFaultRates = NonNullable<FaultOptions['api']>;

const WHILE_WORKING: ApiFaultRates = {
  rateLimit: 0.2,
  lockTimeout: 0.1,
  serverError: 0.2,
  unavailable: 0.1,
};
const WHILE_RECONCILING: ApiFaultRates = {
  rateLimit: 0.08,
  lockTimeout: 0.04,
  serverError: 0.05,
  unavailable: 0.03,
};
const RECONCILE_RUNS = 8;

/** Where the workload bills: the platform in test mode, or a connected account in live mode. */
type FaultedPlace = { title: string; seed: number; place: { livemode: boolean; stripeAccount?: string } };

const PLACES: FaultedPlace[] = [
  {
    title:
      'with Stripe’s API failing as deliveries drop, failed reads are retried and reconcile heals the mirror',
    seed: 14,
    place: { livemode: false },
  },
  {
    title: 'a live-mode connected account’s reads, failing as its deliveries drop, are retried and healed',
    seed: 18,
    place: { livemode: true, stripeAccount: 'acct_1FaultedLiveConnectedShop' },
  },
];

for (const { title, seed, place } of PLACES)
  test(title, async () => {
    // Access is answered for the platform's accounts only.
    const servesAccess = place.stripeAccount === undefined;
    await chaosRun(
      { webhooks: { drop: 0.1 }, api: WHILE_WORKING },
      seed,
      async (stack) => {
        const { emulator } = stack.emulator;
        const { pool } = stack.database;
        const failedReads = await readsFailedThrough(pool);
        assert.ok(failedReads >= 2, `only ${failedReads} refetches failed through their retries`);
        const delivered = await deliveredEventIds(stack.emulator.url);
        const drift = await audit(emulator, pool);
        assert.ok(drift.length > 0, 'the dropped deliveries left no drift to heal');
        const dropped = namedByDrops(emulator, stack, delivered);
        const unexplained = drift.filter((difference) => !dropped.has(difference.id));
        assert.deepEqual(unexplained, [], 'drift no dropped delivery explains: a read was given up');

        await setFaults(stack.emulator.url, { api: WHILE_RECONCILING });
        await reconcileUntilDone(stack);
        await stack.settle();
        const applied = await appliedApiFaults(stack.emulator.url);
        for (const kind of ['rate_limit', 'lock_timeout', 'server_error', 'unavailable'])
          assert.ok((applied[kind] ?? 0) >= 3, `only ${applied[kind] ?? 0} ${kind} faults acted`);
        assert.deepEqual(await faultedAnswersCounted(stack), byStatus(applied));

        await assertMirrorEqualsStripe(emulator, pool, { require: 'all' });
        await assertEachEventAppliedOnce(emulator, pool, { expectDelivered: (id) => delivered.has(id) });
        assert.deepEqual((await readWriteLog(pool)).backwards, [], 'reconcile moved rows backwards');
        if (!servesAccess) return;
        // The backfill the access is weighed against reads a Stripe that no longer fails.
        await clearFaults(stack.emulator.url);
        const beforeBackfill = await appliedApiFaults(stack.emulator.url);
        await assertAccessAsBackfilled(stack);
        assert.deepEqual(
          await appliedApiFaults(stack.emulator.url),
          beforeBackfill,
          'faults acted on the backfill',
        );
      },
      {
        exemptWorkload: true,
        prepare: recordFailedReads,
        place,
        ...(servesAccess ? { workload: (stack) => ({ onStep: () => warmAccessCache(stack) }) } : {}),
      },
    );
  });

/** A test-only trigger: each time a refetch is handed back after its read failed (its attempts grow). */
async function recordFailedReads(pool: pg.Pool): Promise<void> {
  await pool.query(`
    create table test_failed_reads (object_type text, object_id text, attempts integer, error text);
    create function test_record_failed_read() returns trigger language plpgsql as $$
    begin
      insert into test_failed_reads values (new.object_type, new.object_id, new.attempts, new.last_error);
      return new;
    end $$;
    create trigger test_failed_reads after update on sync_refetches
      for each row when (new.attempts > old.attempts) execute function test_record_failed_read();`);
}

async function readsFailedThrough(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ count: string }>('select count(*) from test_failed_reads');
  return Number(rows[0]?.count);
}

/**
 * The objects a dropped delivery leaves behind: each undelivered event's object, and a subscription's
 * items; all of them when its event held only their first page, as the change may lie beyond it. Drift
 * on anything else no dropped delivery explains.
 */
function namedByDrops(emulator: Emulator, { place }: Stack, delivered: Set<string>): Set<string> {
  const named = new Set<string>();
  const partition = emulator.partition(
    place.stripeAccount === PLATFORM ? null : place.stripeAccount,
    place.livemode,
  );
  const items = [...partition.table('subscription_item').values()] as Stripe.SubscriptionItem[];
  for (const event of partition.table('event').values() as Iterable<Stripe.Event>) {
    if (delivered.has(event.id)) continue;
    const object = event.data.object as unknown as StripeObject & { items?: Stripe.ApiList<{ id: string }> };
    const id = objectIdOf(object);
    if (id) named.add(id);
    for (const item of object.items?.data ?? []) named.add(item.id);
    if (object.items?.has_more)
      for (const item of items.filter((item) => item.subscription === id)) named.add(item.id);
  }
  return named;
}

/** Runs reconcile until a run completes: a run fails when a read fails through all its retries. */
async function reconcileUntilDone(stack: Stack): Promise<void> {
  for (let run = 0; run < RECONCILE_RUNS; run++) {
    try {
      await reconcileWithFixes(stack);
      return;
    } catch (error) {
      if (!(error instanceof Error && 'statusCode' in error)) throw error;
    }
  }
  throw new Error(`reconcile failed ${RECONCILE_RUNS} times in a row`);
}

const FAULT_STATUS: Record<string, string> = {
  rate_limit: '429',
  lock_timeout: '429',
  server_error: '500',
  unavailable: '503',
};

/** The faults that acted, summed by the HTTP status each answers with. */
function byStatus(applied: Record<string, number>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [kind, count] of Object.entries(applied)) {
    const status = FAULT_STATUS[kind];
    if (status) counts[status] = (counts[status] ?? 0) + count;
  }
  return counts;
}

/** The 429, 500 and 503 answers Subledger's Stripe client counted (`subledger_stripe_requests_total`). */
async function faultedAnswersCounted(stack: Stack): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { labels, value } of (await stack.subledger.metrics.stripeRequests.get()).values) {
    const status = String(labels.status);
    if (Object.values(FAULT_STATUS).includes(status)) counts[status] = (counts[status] ?? 0) + value;
  }
  return counts;
}
