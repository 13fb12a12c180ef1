import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Stripe from 'stripe';
import type { FaultOptions } from 'stripe-emulator';
import { reconcile } from '../src/sync/reconcile.ts';
import { assertEachEventAppliedOnce, installWriteLog, readWriteLog } from './support/apply-audit.ts';
import { assertMirrorEqualsStripe, audit } from './support/auditor.ts';
import { testDatabase } from './support/database.ts';
import { type Stack, startStack } from './support/stack.ts';
import { runWorkload } from './support/workload.ts';

/**
 * Invariants 1 and 2 under Stripe's delivery faults: the seeded workload runs against the emulator
 * while it duplicates, reorders and delays webhooks; afterwards the auditor compares the mirror with the
 * emulator's own state and the test database's write log proves no event was applied twice and no row
 * moved backwards.
 */

async function chaosRun(
  faults: FaultOptions,
  seed: number,
  run: (stack: Stack) => Promise<void>,
): Promise<void> {
  const database = await testDatabase();
  await installWriteLog(database.pool);
  const stack = await startStack({ database, faults, seed });
  try {
    await runWorkload(stack.stripe, stack.emulator.url, { seed });
    await stack.settle();
    await run(stack);
  } finally {
    await stack.close();
    await database.drop();
  }
}

test('the auditor and the write log notice a tampered mirror', async () => {
  await chaosRun({}, 10, async (stack) => {
    const { pool } = stack.database;
    await assertMirrorEqualsStripe(stack.emulator.emulator, pool);
    const one = async (table: string, where = 'true') =>
      String((await pool.query(`select id from ${table} where ${where} order by id limit 1`)).rows[0]?.id);
    const subscription = await one('subscriptions');
    const invoice = await one('invoices', 'not deleted');
    const product = await one('products', 'not deleted');
    const item = await one('subscription_items');
    const summary = await one('active_entitlements');
    const customer = await one('customers', 'not deleted');
    const price = await one('prices', `source = 'event'`);
    await pool.query(
      `update subscriptions set data = jsonb_set(data, '{status}', '"paused"') where id = $1`,
      [subscription],
    );
    await pool.query('delete from invoices where id = $1', [invoice]);
    await pool.query('update products set deleted = true where id = $1', [product]);
    await pool.query('delete from subscription_items where id = $1', [item]);
    await pool.query(`update active_entitlements set data = data - 'customer' where id = $1`, [summary]);
    await pool.query(`insert into customers (id, stripe_account, livemode, data, last_event_created, source)
      values ('cus_invented', 'platform', false, '{}', 1, 'fetch')`);
    await pool.query('update customers set last_event_created = last_event_created - 1 where id = $1', [
      customer,
    ]);
    await pool.query('update prices set synced_at = now() where id = $1', [price]);

    const found = (await audit(stack.emulator.emulator, pool)).map(
      (d) => `${d.kind} ${d.id} ${d.problem} ${d.fields}`,
    );
    for (const expected of [
      `subscription ${subscription} different status:`,
      `invoice ${invoice} missing`,
      `product ${product} wrongly_deleted`,
      `subscription_item ${item} missing`,
      `entitlements.active_entitlement_summary ${summary} different customer:`,
      'customer cus_invented unexpected',
    ])
      assert.ok(
        found.some((line) => line.startsWith(expected)),
        `the auditor missed "${expected}" in:\n${found.join('\n')}`,
      );
    const log = await readWriteLog(pool);
    assert.deepEqual(
      log.backwards.map((write) => write.id),
      [customer],
    );
    const priceEvent = (await pool.query('select last_event_id from prices where id = $1', [price])).rows[0];
    assert.ok(
      log.appliedTwice.some((twice) => twice.eventId === priceEvent?.last_event_id),
      `the price's event written twice is not reported: ${JSON.stringify(log.appliedTwice)}`,
    );
  });
});

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
