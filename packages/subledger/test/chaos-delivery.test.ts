import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Stripe from 'stripe';
import { reconcile } from '../src/sync/reconcile.ts';
import { assertEachEventAppliedOnce, readWriteLog } from './support/apply-audit.ts';
import { assertMirrorEqualsStripe, audit } from './support/auditor.ts';
import { chaosRun } from './support/chaos.ts';
import { assertDeletionsApplied } from './support/coverage.ts';
import type { Stack } from './support/stack.ts';

/**
 * Invariants 1 and 2 under Stripe's delivery faults: the seeded workload runs against the emulator
 * while it duplicates, reorders and delays webhooks; afterwards the auditor compares the mirror with the
 * emulator's own state and the test database's write log proves no event was applied twice and no row
 * moved backwards.
 */

test('every event delivered three times is stored once and applied at most once', async () => {
  await chaosRun({ webhooks: { duplicate: 1, duplicateCopies: 2 } }, 11, async (stack) => {
    const { emulator } = stack.emulator;
    await assertMirrorEqualsStripe(emulator, stack.database.pool);
    const findings = await assertEachEventAppliedOnce(emulator, stack.database.pool);
    const answers = await stack.database.pool.query<{ n: number }>(
      'select count(*)::int as n from stripe_events',
    );
    const delivered = emulator.partition(null, false).table('event').size;
    assert.equal(answers.rows[0]?.n, delivered, 'each event id is stored once');
    assert.ok(findings.events > 200, `the workload made only ${findings.events} events`);
    await assertDeletionsApplied(stack.database.pool);
  });
});

test('reordered and late deliveries never move a row backwards and end equal to Stripe', async () => {
  await chaosRun(
    { webhooks: { reorderWindow: 8, delayMs: 400, delayProbability: 0.15 } },
    12,
    async (stack) => {
      await assertMirrorEqualsStripe(stack.emulator.emulator, stack.database.pool);
      const findings = await assertEachEventAppliedOnce(stack.emulator.emulator, stack.database.pool);
      // The faults did bite: some payloads arrived after newer ones and were not applied.
      assert.ok((findings.outcomes.stale ?? 0) + (findings.outcomes.refetched ?? 0) > 0);
      await assertDeletionsApplied(stack.database.pool);
    },
  );
});

test('with 10% of deliveries dropped the auditor finds the drift, and reconcile heals it', async () => {
  await chaosRun({ webhooks: { drop: 0.1 } }, 13, async (stack) => {
    const { emulator } = stack.emulator;
    const drift = await audit(emulator, stack.database.pool);
    assert.ok(
      drift.some((difference) => difference.problem === 'missing' || difference.problem === 'different'),
      'dropping a tenth of the deliveries left no trace in the mirror',
    );
    // Whatever was acknowledged is in the inbox and applied once, dropped deliveries aside.
    const delivered = await deliveredEventIds(stack);
    await assertEachEventAppliedOnce(emulator, stack.database.pool, {
      expectDelivered: (id) => delivered.has(id),
    });

    await reconcile({
      database: stack.database,
      stripe: stack.subledger.stripe as Stripe,
      context: { accountKeys: ['subledger_account_id'] },
      place: { stripeAccount: 'platform', livemode: false },
      fix: true,
      requestsPerSecond: 1000,
    });
    await stack.settle();
    await assertMirrorEqualsStripe(emulator, stack.database.pool, { require: 'all' });
    const log = await readWriteLog(stack.database.pool);
    assert.deepEqual(log.backwards, [], 'reconcile moved rows backwards');
  });
});

/** Events the emulator delivered with a 2xx answer at least once (the others were dropped). */
async function deliveredEventIds(stack: Stack): Promise<Set<string>> {
  const response = await fetch(`${stack.emulator.url}/_emulator/deliveries?status=succeeded`);
  const { data } = (await response.json()) as { data: { event: string }[] };
  return new Set(data.map((attempt) => attempt.event));
}
