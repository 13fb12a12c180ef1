import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { serve } from '@hono/node-server';
import { registerWebhookEndpoint } from '../src/cli/local-stripe.ts';
import { loadConfig } from '../src/config/index.ts';
import { PLATFORM } from '../src/store/index.ts';
import { createStripeClient } from '../src/stripe/index.ts';
import { createSubledger, type Subledger } from '../src/subledger.ts';
import { reconcile } from '../src/sync/reconcile.ts';
import { createLogger } from '../src/telemetry/index.ts';
import { assertAccessAsBackfilled, warmAccessCache } from './support/access-oracle.ts';
import { assertEachEventAppliedOnce, installWriteLog } from './support/apply-audit.ts';
import { assertMirrorEqualsStripe } from './support/auditor.ts';
import { assertItemsAndLinksCovered } from './support/coverage.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { type Stack, startStack } from './support/stack.ts';
import { runWorkload, workloadIn } from './support/workload.ts';

/**
 * Three Subledger instances on one database, each with its own server, webhook endpoint and workers:
 * every event reaches all three at about the same time (three endpoints) and all three claim from the
 * one inbox, in small batches so that their transactions interleave. A reconcile with fixes runs while
 * the test clock's events are still arriving, as a scheduled one may. Run on the platform in test mode,
 * and in a connected account in live mode, whose events come through each instance's Connect endpoint.
 */

const ENVIRONMENT = { SUBLEDGER_WORKER_BATCH: '7', SUBLEDGER_RECONCILE_MINUTES: '0' };

async function settledCount(subledger: Subledger): Promise<number> {
  const metric = await subledger.metrics.eventsSettled.get();
  return metric.values.reduce((sum, value) => sum + value.value, 0);
}

/**
 * Where the workload bills, and the step at which the reconcile runs: on the platform's test clock,
 * while its renewal's events arrive; elsewhere (no test clocks) while the items' events arrive.
 */
type WorkersPlace = { seed: number; livemode: boolean; stripeAccount?: string; reconcileAt: string };

const PLATFORM_TEST: WorkersPlace = { seed: 21, livemode: false, reconcileAt: 'renewal' };
const CONNECTED_LIVE: WorkersPlace = {
  seed: 23,
  livemode: true,
  stripeAccount: 'acct_1WorkersLiveConnectedShop',
  reconcileAt: 'items',
};

/** A further instance on the stack's database, with its own server and an endpoint for the place. */
async function anotherInstance(stack: Stack, database: TestDatabase) {
  const config = loadConfig({
    STRIPE_SECRET_KEY: stack.subledger.config.stripeSecretKey as string,
    STRIPE_API_BASE: stack.emulator.url,
    LOG_LEVEL: 'silent',
    ...ENVIRONMENT,
  });
  const subledger = await createSubledger({ config, database, logger: createLogger('silent') });
  const server = serve({ fetch: subledger.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`;
  if (stack.place.stripeAccount === PLATFORM)
    config.webhookSecrets.push(await registerWebhookEndpoint(config, url));
  else
    config.connectWebhookSecrets.push(
      await registerWebhookEndpoint(config, `${url}/connect`, { connect: true }),
    );
  await subledger.startWorkers();
  return {
    subledger,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await subledger.close();
    },
  };
}

async function threeInstances(place: WorkersPlace): Promise<void> {
  const database = await testDatabase();
  await installWriteLog(database.pool);
  const { stripeAccount, livemode, seed } = place;
  const stack = await startStack({
    database,
    environment: ENVIRONMENT,
    seed,
    place: { livemode, ...(stripeAccount ? { stripeAccount } : {}) },
  });
  // Access is answered for the platform's accounts only.
  const servesAccess = stripeAccount === undefined;
  const others: Awaited<ReturnType<typeof anotherInstance>>[] = [];
  try {
    for (let index = 0; index < 2; index++) others.push(await anotherInstance(stack, database));

    const reconcileNow = () =>
      reconcile({
        database,
        stripe: createStripeClient({
          secretKey: stack.subledger.config.stripeSecretKey as string,
          apiBase: stack.emulator.url,
        }),
        context: { accountKeys: ['subledger_account_id'] },
        place: stack.place,
        fix: true,
        requestsPerSecond: 1000,
      });
    let reconciled = false;
    await runWorkload(stack.stripe, stack.emulator.url, {
      seed,
      ...workloadIn(livemode, stripeAccount !== undefined),
      onStep: async (step) => {
        if (step === place.reconcileAt) {
          await reconcileNow();
          reconciled = true;
        }
        if (servesAccess) await warmAccessCache(stack);
      },
    });
    assert.ok(reconciled, `the workload never reached its ${place.reconcileAt} step`);
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
    if (servesAccess) await assertAccessAsBackfilled(stack);
  } finally {
    for (const other of others) await other.close();
    await stack.close();
    await database.drop();
  }
}

test('three instances on one inbox settle each event once and end equal to Stripe', () =>
  threeInstances(PLATFORM_TEST));

test('three instances serving a live-mode connected account settle each event once through the Connect endpoint', () =>
  threeInstances(CONNECTED_LIVE));
