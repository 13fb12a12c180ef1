import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { serve } from '@hono/node-server';
import { registerWebhookEndpoint } from '../src/cli/local-stripe.ts';
import { loadConfig } from '../src/config/index.ts';
import { createStripeClient } from '../src/stripe/index.ts';
import { createSubledger, type Subledger } from '../src/subledger.ts';
import { reconcile } from '../src/sync/reconcile.ts';
import { createLogger } from '../src/telemetry/index.ts';
import { assertAccessAsBackfilled, warmAccessCache } from './support/access-oracle.ts';
import { assertEachEventAppliedOnce, installWriteLog } from './support/apply-audit.ts';
import { assertMirrorEqualsStripe } from './support/auditor.ts';
import { assertItemsAndLinksCovered } from './support/coverage.ts';
import { testDatabase } from './support/database.ts';
import { startStack } from './support/stack.ts';
import { runWorkload } from './support/workload.ts';

/**
 * Three Subledger instances on one database, each with its own server, webhook endpoint and workers:
 * every event reaches all three at about the same time (three endpoints) and all three claim from the
 * one inbox, in small batches so that their transactions interleave. A reconcile with fixes runs while
 * the test clock's events are still arriving, as a scheduled one may.
 */

const ENVIRONMENT = { SUBLEDGER_WORKER_BATCH: '7', SUBLEDGER_RECONCILE_MINUTES: '0' };

async function settledCount(subledger: Subledger): Promise<number> {
  const metric = await subledger.metrics.eventsSettled.get();
  return metric.values.reduce((sum, value) => sum + value.value, 0);
}

test('three instances on one inbox settle each event once and end equal to Stripe', async () => {
  const database = await testDatabase();
  await installWriteLog(database.pool);
  const stack = await startStack({ database, environment: ENVIRONMENT, seed: 21 });
  const others: { subledger: Subledger; close: () => Promise<void> }[] = [];
  try {
    for (let index = 0; index < 2; index++) {
      const config = loadConfig({
        STRIPE_SECRET_KEY: stack.subledger.config.stripeSecretKey,
        STRIPE_API_BASE: stack.emulator.url,
        LOG_LEVEL: 'silent',
        ...ENVIRONMENT,
      });
      const subledger = await createSubledger({ config, database, logger: createLogger('silent') });
      const server = serve({ fetch: subledger.app.fetch, port: 0, hostname: '127.0.0.1' });
      await new Promise<void>((resolve) => server.once('listening', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`;
      config.webhookSecrets.push(await registerWebhookEndpoint(config, url));
      await subledger.startWorkers();
      others.push({
        subledger,
        close: async () => {
          await new Promise((resolve) => server.close(resolve));
          await subledger.close();
        },
      });
    }

    const reconcileNow = () =>
      reconcile({
        database,
        stripe: createStripeClient({ secretKey: 'sk_test_chaos_reconcile', apiBase: stack.emulator.url }),
        context: { accountKeys: ['subledger_account_id'] },
        place: { stripeAccount: 'platform', livemode: false },
        fix: true,
        requestsPerSecond: 1000,
      });
    await runWorkload(stack.stripe, stack.emulator.url, {
      seed: 21,
      onStep: async (step) => {
        if (step === 'renewal') await reconcileNow();
        await warmAccessCache(stack);
      },
    });
    await stack.settle();

    await assertMirrorEqualsStripe(stack.emulator.emulator, database.pool);
    const findings = await assertEachEventAppliedOnce(stack.emulator.emulator, database.pool);
    const counts = await Promise.all(
      [stack.subledger, ...others.map((other) => other.subledger)].map(settledCount),
    );
    assert.equal(
      counts.reduce((sum, count) => sum + count, 0),
      findings.events,
      `events settled per instance ${counts.join(' + ')} must add up to the ${findings.events} events`,
    );
    assert.ok(
      counts.filter((count) => count > 0).length >= 2,
      `the work was not shared: ${counts.join(', ')}`,
    );
    await assertItemsAndLinksCovered(stack.emulator.emulator, database.pool);
    // The first instance's cache, told of the changes the other two applied.
    await assertAccessAsBackfilled(stack);
  } finally {
    for (const other of others) await other.close();
    await stack.close();
    await database.drop();
  }
});
